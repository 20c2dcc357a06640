import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { comp, EngineDriver, merge, MIN, planOf, probe, rounds, SEC, T0 } from '../helpers/engine-events.js';

// Correlation over the component graph (CONTRACT §5.5): failures within the correlation window
// merge under their nearest common dependency, which may have no probe of its own; components
// with no common dependency never merge; an open incident is re-rooted, not duplicated; drafts
// opened apart are merged into one when their common dependency turns out to be the cause, but
// a confirmed or dismissed incident is never absorbed.

const INTERVAL = 10 * SEC;
const V = ['v1', 'v2', 'v3'];

/** Each probe of `spec` times out from its `from` to `until`, at every vantage. */
function failing(d: EngineDriver, spec: { probe: string; from: number }[], until: number): void {
  d.feedAll(merge(...spec.map((s) => rounds({ id: s.probe, vantages: V }, s.from, until, () => 'timeout', INTERVAL))));
}

const ids = (i: Incident | undefined): string[] => (i?.components.map((c) => c.id) ?? []).sort();
const open = (d: EngineDriver): Incident[] => d.incidents().filter((i) => i.status === 'open');

describe('a diamond: the nearest common dependency', () => {
  // zone <- svcA, svcB (no probes); app1 depends on both services, app2 on svcA, app3 on svcB.
  // A second tree (zone2 <- app9) and a component on its own (island), all in the same region.
  const plan = planOf(
    [
      comp('zone'),
      comp('svcA', ['zone']),
      comp('svcB', ['zone']),
      comp('app1', ['svcA', 'svcB']),
      comp('app2', ['svcA']),
      comp('app3', ['svcB']),
      comp('zone2'),
      comp('app9', ['zone2']),
      comp('island'),
    ],
    ['zone', 'app1', 'app2', 'app3', 'app9', 'island'].map((c) => probe(`${c}-p`, c, V)),
  );
  const probeless = new Set(['svcA', 'svcB', 'zone2']);

  it.each([
    [['app1', 'app2'], 'svcA'],
    [['app1', 'app3'], 'svcB'],
    [['app2', 'app3'], 'zone'],
    [['app1', 'app2', 'app3'], 'zone'],
    [['app1', 'app2', 'app3', 'zone'], 'zone'],
    [['app2', 'zone'], 'zone'],
  ])('%j failing together: one incident rooted at %s', (apps, root) => {
    const d = new EngineDriver(plan);
    failing(d, apps.map((a) => ({ probe: `${a}-p`, from: T0 })), T0 + 3 * MIN);
    const all = d.incidents();
    expect(all).toHaveLength(1);
    const [inc] = all;
    expect(inc?.root_component).toBe(root);
    const listed = ids(inc);
    expect(new Set(listed).size).toBe(listed.length);
    for (const a of apps) expect(listed).toContain(a);
    // Only what failed, and the root (inferred when it has no probe of its own).
    for (const c of listed) expect([...apps, root]).toContain(c);
    if (probeless.has(root)) expect(listed).toContain(root);
    // The root, when listed, leads the list.
    if (listed.includes(root)) expect(inc?.components[0]?.id).toBe(root);
    const sigs = inc?.signals.map((s) => `${s.rule}|${s.probe}`) ?? [];
    expect(new Set(sigs).size).toBe(sigs.length);
    expect(sigs.sort()).toEqual(apps.map((a) => `outage|${a}-p`).sort());
  });

  it('failures 30 s apart re-root the open incident up the graph instead of duplicating it', () => {
    const d = new EngineDriver(plan);
    failing(d, [
      { probe: 'app1-p', from: T0 },
      { probe: 'app2-p', from: T0 + 30 * SEC },
      { probe: 'app3-p', from: T0 + 60 * SEC },
    ], T0 + 4 * MIN);
    const all = d.incidents();
    expect(all).toHaveLength(1);
    expect(d.openedIds()).toHaveLength(1);
    expect(all[0]?.root_component).toBe('zone');
    expect(ids(all[0])).toEqual(['app1', 'app2', 'app3']);
    const rerooted = all[0]?.timeline.filter((e) => e.kind === 'rerooted').map((e) => e.text) ?? [];
    expect(rerooted).toHaveLength(2);
    expect(rerooted[0]).toMatch(/^Common cause: SVCA/);
    expect(rerooted[1]).toMatch(/^Common cause: ZONE/);
  });

  it.each([
    ['app1', 'island'],
    ['app1', 'app9'],
    ['zone', 'app9'],
    ['island', 'app9'],
  ])('%s and %s share no dependency: two incidents even failing in the same second', (a, b) => {
    const d = new EngineDriver(plan);
    failing(d, [{ probe: `${a}-p`, from: T0 }, { probe: `${b}-p`, from: T0 }], T0 + 5 * MIN);
    const all = d.incidents();
    expect(all).toHaveLength(2);
    expect(all.map((i) => i.root_component).sort()).toEqual([a, b].sort());
    for (const i of all) expect(i.components).toHaveLength(1);
  });
});

describe('drafts opened apart, merged when their common dependency turns out to be the cause', () => {
  // app1..app3 depend on the zone, which has a probe of its own.
  const plan = planOf(
    [comp('zone'), comp('app1', ['zone']), comp('app2', ['zone']), comp('app3', ['zone'])],
    ['zone', 'app1', 'app2', 'app3'].map((c) => probe(`${c}-p`, c, V)),
  );
  const END = T0 + 20 * MIN;

  /** app1 fails from T0, app2 from T0 + 5 min: further apart than the 2 min window, two drafts. */
  interface TwoDrafts {
    readonly d: EngineDriver;
    readonly a: Incident;
    readonly b: Incident;
    /** Feeds the rest of app1's and app2's failures, and `more` probes failing from their `from`. */
    readonly feedRest: (more: { probe: string; from: number }[]) => void;
  }

  function twoDrafts(): TwoDrafts {
    const d = new EngineDriver(plan);
    const app1 = rounds({ id: 'app1-p', vantages: V }, T0, END, () => 'timeout', INTERVAL);
    const app2 = rounds({ id: 'app2-p', vantages: V }, T0 + 5 * MIN, END, () => 'timeout', INTERVAL);
    const cut = T0 + 5 * MIN + 40 * SEC;
    const before = merge(app1, app2).filter((e) => Date.parse(e.at) < cut);
    d.feedAll(before);
    const drafts = open(d);
    expect(drafts.map((i) => i.root_component)).toEqual(['app1', 'app2']);
    const [a, b] = drafts as [Incident, Incident];
    const feedRest = (more: { probe: string; from: number }[]) => {
      const extra = more.map((m) => rounds({ id: m.probe, vantages: V }, m.from, END, () => 'timeout', INTERVAL));
      d.feedAll(merge(app1, app2, ...extra).filter((e) => Date.parse(e.at) >= cut));
    };
    return { d, a, b, feedRest };
  }

  /**
   * One open incident left, rooted at the zone, listing every failed component (`components`),
   * and the zone or not (when only apps failed, its own probe is healthy), nothing else.
   */
  function expectMerged(
    d: EngineDriver,
    holderOf: (all: Incident[]) => Incident | undefined,
    absorbed: Incident[],
    components: string[],
  ): Incident {
    const all = d.incidents();
    const stillOpen = all.filter((i) => i.status === 'open');
    expect(stillOpen).toHaveLength(1);
    const holder = holderOf(all);
    expect(holder?.status).toBe('open');
    expect(holder?.root_component).toBe('zone');
    expect(holder?.review).toBe('pending');
    const listed = ids(holder);
    for (const c of components) expect(listed).toContain(c);
    for (const c of listed) expect([...components, 'zone']).toContain(c);
    expect(new Set(listed).size).toBe(listed.length);
    for (const x of absorbed) {
      const now = all.find((i) => i.id === x.id);
      expect(now?.status).toBe('resolved');
      expect(now?.timeline.some((e) => e.text.startsWith(`Merged into ${holder?.id}`))).toBe(true);
      expect(now?.timeline.some((e) => e.text.startsWith('Merged into inc_'))).toBe(true);
    }
    return holder as Incident;
  }

  it('the zone\'s own probe failing 30 s after the second draft merges both into one incident rooted at the zone', () => {
    const { d, a, b, feedRest } = twoDrafts();
    feedRest([{ probe: 'zone-p', from: T0 + 5 * MIN + 30 * SEC }]);
    const holder = expectMerged(d, (all) => all.find((i) => i.id === b.id), [a], ['app1', 'app2', 'zone']);
    expect(holder.signals.map((s) => s.probe).sort()).toEqual(['app1-p', 'app2-p', 'zone-p']);
  });

  it('a third app failing 30 s after the second draft does the same', () => {
    const { d, a, b, feedRest } = twoDrafts();
    feedRest([{ probe: 'app3-p', from: T0 + 5 * MIN + 30 * SEC }]);
    expectMerged(d, (all) => all.find((i) => i.id === b.id), [a], ['app1', 'app2', 'app3']);
  });

  it('the zone failing ten minutes later opens one incident that absorbs both drafts', () => {
    const { d, a, b, feedRest } = twoDrafts();
    feedRest([{ probe: 'zone-p', from: T0 + 15 * MIN }]);
    expect(d.openedIds()).toHaveLength(3);
    expectMerged(d, (all) => all.find((i) => i.id !== a.id && i.id !== b.id), [a, b], ['app1', 'app2', 'zone']);
  });

  it.each([
    ['confirmed', 'confirm', undefined, 30 * SEC],
    ['dismissed', 'dismiss', 'not customer facing', 30 * SEC],
    ['confirmed', 'confirm', undefined, 10 * MIN],
    ['dismissed', 'dismiss', 'not customer facing', 10 * MIN],
  ] as const)('a %s incident (%s, reason %s) is never absorbed, the zone failing %i ms after the second draft', (review, action, reason, after) => {
    const { d, a, b, feedRest } = twoDrafts();
    d.keep(d.engine.operatorAction({ incidentId: a.id, action, by: 'ops', at: T0 + 5 * MIN + 40 * SEC, ...(reason ? { reason } : {}) }));
    feedRest([{ probe: 'zone-p', from: T0 + 5 * MIN + after }]);
    const all = d.incidents();
    const kept = all.find((i) => i.id === a.id);
    expect(kept).toMatchObject({ status: 'open', review, root_component: 'app1' });
    expect(ids(kept)).toEqual(['app1']);
    expect(kept?.timeline.some((e) => e.text.startsWith('Merged into'))).toBe(false);
    // The pending draft B is the zone's incident, or merged into it.
    const zone = all.find((i) => i.status === 'open' && i.id !== a.id);
    expect(zone).toMatchObject({ review: 'pending', root_component: 'zone' });
    expect(ids(zone)).toEqual(['app2', 'zone']);
    expect(all.filter((i) => i.status === 'open')).toHaveLength(2);
    if (zone?.id !== b.id) expect(all.find((i) => i.id === b.id)?.timeline.at(-1)?.text).toMatch(`Merged into ${zone?.id}`);
  });
});
