import { describe, expect, it } from 'vitest';
import { componentCatalog } from '../../src/engine/edit.js';
import { comp, EngineDriver, merge, MIN, planOf, probe, rounds, SEC, T0 } from '../helpers/engine-events.js';

// A component an operator removed from an incident is the operators' word that its failure is
// another story (docs/incidents.md, "Edits"): when it fails again, even within the correlation
// window, its failure is a draft of its own, never silently merged back into the incident.

const components = [comp('svc'), comp('app1', ['svc']), comp('app2', ['svc'])];
const catalog = componentCatalog(components);
const V = ['v1', 'v2', 'v3'];
const plan = planOf(components, ['app1', 'app2'].map((c) => probe(`${c}-p`, c, V)));

function removedApp2(): { d: EngineDriver; id: string } {
  const d = new EngineDriver(plan);
  d.feedAll(merge(...['app1', 'app2'].map((a) => rounds({ id: `${a}-p`, vantages: V }, T0, T0 + 40 * SEC, () => 'timeout'))));
  const [inc] = d.incidents();
  if (!inc) throw new Error('no incident');
  expect(inc.components.map((c) => c.id).sort()).toEqual(['app1', 'app2', 'svc']);
  const edit = { components: [{ id: 'svc', impact: 'major_outage' as const }, { id: 'app1', impact: 'major_outage' as const }] };
  d.keep(d.engine.operatorAction({ incidentId: inc.id, action: 'edit', by: 'eve', at: T0 + 40 * SEC, edit, catalog }));
  return { d, id: inc.id };
}

describe('a component an operator removed', () => {
  it('failing again within the correlation window is a draft of its own, not re-joined silently', () => {
    const { d, id } = removedApp2();
    // app1 goes on failing; app2 recovers, then fails again 50 s later, well inside the 2 min window.
    const app2Back = T0 + 90 * SEC;
    d.feedAll(
      merge(
        rounds({ id: 'app1-p', vantages: V }, T0 + 40 * SEC, T0 + 4 * MIN, () => 'timeout'),
        rounds({ id: 'app2-p', vantages: V }, T0 + 40 * SEC, T0 + 4 * MIN, (t) => (t >= app2Back ? 'timeout' : undefined)),
      ),
    );
    const all = d.incidents();
    const edited = all.find((i) => i.id === id);
    expect(edited?.components.map((c) => c.id)).toEqual(['svc', 'app1']);
    expect(edited?.overrides?.removed).toEqual(['app2']);
    const others = all.filter((i) => i.id !== id);
    expect(others.map((i) => i.components.map((c) => c.id))).toEqual([['app2']]);
    expect(others[0]?.review).toBe('pending');
    // Its draft opened at the evaluation that completed the rule (CONTRACT §5.1), not later.
    const opened = Date.parse(others[0]?.opened_at ?? '');
    expect(opened).toBeGreaterThanOrEqual(app2Back);
    expect(opened).toBeLessThan(app2Back + MIN);
  });

  it('keeps its own draft apart when the edited incident later takes a failure again', () => {
    const { d, id } = removedApp2();
    // app2 fails again at once (its own draft); app1 recovers, the incident resolves, then app1
    // fails again within the cool-down: the incident reopens, and app2's draft must not move into it.
    const app1Down = (t: number) => (t < T0 + 2 * MIN || t >= T0 + 4 * MIN ? 'timeout' : undefined);
    d.feedAll(
      merge(
        rounds({ id: 'app1-p', vantages: V }, T0 + 40 * SEC, T0 + 6 * MIN, app1Down),
        rounds({ id: 'app2-p', vantages: V }, T0 + 40 * SEC, T0 + 6 * MIN, (t) => (t >= T0 + 60 * SEC ? 'timeout' : undefined)),
      ),
    );
    const edited = d.incidents().find((i) => i.id === id);
    expect(edited?.timeline.map((e) => e.kind)).toContain('reopened');
    expect(edited?.status).toBe('open');
    expect(edited?.components.map((c) => c.id)).toEqual(['svc', 'app1']);
    const others = d.incidents().filter((i) => i.id !== id);
    expect(others.map((i) => [i.status, i.components.map((c) => c.id)])).toEqual([['open', ['app2']]]);
  });
});
