import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { ExternalSignal, IncidentChange } from '../../src/engine/types.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from '../helpers/plan.js';
import { defaultRules } from '../helpers/engine-events.js';

// External signals (Alertmanager alerts) enter the engine at the signal layer and correlate like
// probe signals: joining, merging under the nearest common dependency, recovering, resolving.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;
const src = { file: '/dev/null', line: 1 };

/** dc ← lb ← {db, api}; lb has a probe, db and api are only known through alerts. */
function plan(): Plan {
  return makePlan([{ id: 'lb-http', kind: 'http', component: 'lb', intervalMs: 10 * S, vantages: ['v1'], targets: ['t1'] }], {
    components: [
      { id: 'dc', name: 'Datacenter', group: 'Infrastructure', region: 'PAR', depends_on: [], source: src },
      { id: 'lb', name: 'Load balancers', group: 'Reverse Proxies', region: 'PAR', depends_on: ['dc'], source: src },
      { id: 'db', name: 'Databases', group: 'Add-ons', region: 'PAR', depends_on: ['lb'], source: src },
      { id: 'api', name: 'API', group: 'Apps', region: 'PAR', depends_on: ['lb'], source: src },
      { id: 'other', name: 'Elsewhere', group: 'Apps', depends_on: [], source: src },
    ],
  });
}

class Driver {
  readonly docs = new Map<string, Incident>();
  readonly changes: IncidentChange[] = [];
  constructor(readonly engine: Engine) {}
  static make(): Driver {
    return new Driver(createEngine({ plan: plan(), rules: defaultRules() }));
  }

  keep(changes: IncidentChange[]): IncidentChange[] {
    for (const c of changes) {
      this.changes.push(c);
      this.docs.set(c.incident.id, c.incident);
    }
    return changes;
  }

  /** A failing (or healthy) lb-http check at `t` seconds. */
  lb(t: number, ok: boolean): void {
    this.keep(this.engine.tick(T0 + t * S));
    this.keep(this.engine.ingest({ at: new Date(T0 + t * S).toISOString(), probe: 'lb-http', target: 't1', vantage: 'v1', ok, ...(ok ? {} : { error: 'timeout' }) }));
  }

  alert(t: number, over: Partial<ExternalSignal> & { component: string }): IncidentChange[] {
    const name = over.probe ?? 'DbDown';
    return this.keep(
      this.engine.external({
        key: `fp-${over.component}-${name}`,
        rule: 'alertmanager',
        probe: `alertmanager:${name}@${over.component}`,
        target: 'fp1',
        error: 'alert',
        detail: `${name} on ${over.component}`,
        impact: 'major_outage',
        active: true,
        since: T0 + t * S,
        at: T0 + t * S,
        ...over,
      }),
    );
  }

  tick(t: number): void {
    this.keep(this.engine.tick(T0 + t * S));
  }

  get incidents(): Incident[] {
    this.keep(this.engine.flush());
    return [...this.docs.values()];
  }
}

describe('engine.external', () => {
  it('an alert alone opens a draft at once, with the alert as its signal', () => {
    const d = Driver.make();
    const changes = d.alert(0, { component: 'db', impact: 'partial_outage' });
    expect(changes).toHaveLength(1);
    expect(changes[0]?.opened).toBe(true);
    expect(changes[0]?.rule).toBe('alertmanager');
    const [inc] = d.incidents;
    expect(inc?.status).toBe('open');
    expect(inc?.review).toBe('pending');
    expect(inc?.root_component).toBe('db');
    expect(inc?.components).toEqual([{ id: 'db', impact: 'partial_outage' }]);
    expect(inc?.severity).toBe('major');
    expect(inc?.signals).toEqual([
      { rule: 'alertmanager', probe: 'alertmanager:DbDown@db', targets: ['fp1'], vantages: [], error: 'alert', since: new Date(T0).toISOString(), until: null },
    ]);
    expect(inc?.timeline[0]?.kind).toBe('opened');
    expect(inc?.timeline[0]?.text).toContain('DbDown on db');
    expect(inc?.title).toContain('Databases');
  });

  it('an alert on a dependent joins the incident its dependency opened from probe failures', () => {
    const d = Driver.make();
    for (const t of [0, 10, 20]) d.lb(t, false);
    d.tick(21);
    expect(d.incidents).toHaveLength(1);
    d.alert(25, { component: 'db' });
    const incidents = d.incidents;
    expect(incidents).toHaveLength(1);
    const inc = incidents[0];
    expect(inc?.root_component).toBe('lb');
    expect(inc?.components.map((c) => c.id)).toEqual(['lb', 'db']);
    expect(inc?.signals.map((s) => s.probe)).toEqual(['lb-http', 'alertmanager:DbDown@db']);
    expect(inc?.timeline.map((e) => e.kind)).toContain('component_added');
  });

  it('alerts on two dependents within the window root one incident at their common dependency', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db' });
    d.alert(30, { component: 'api', probe: 'ApiDown' });
    const incidents = d.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.root_component).toBe('lb');
    // lb's own probe still answers: it is the common cause, not listed as impacted.
    expect(incidents[0]?.components.map((c) => c.id).sort()).toEqual(['api', 'db']);
    expect(incidents[0]?.timeline.map((e) => e.kind)).toContain('rerooted');
  });

  it('components without a common dependency are never merged', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db' });
    d.alert(1, { component: 'other', probe: 'X' });
    expect(d.incidents).toHaveLength(2);
  });

  it('maps impact per alert and takes the worst of a signal', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db', impact: 'degraded_performance' });
    expect(d.incidents[0]?.components[0]?.impact).toBe('degraded_performance');
    expect(d.incidents[0]?.severity).toBe('minor');
    d.alert(5, { component: 'db', key: 'fp-other', target: 'fp2', impact: 'major_outage' });
    const inc = d.incidents[0];
    expect(inc?.components[0]?.impact).toBe('major_outage');
    expect(inc?.signals[0]?.targets).toEqual(['fp1', 'fp2']);
    expect(inc?.timeline.map((e) => e.kind)).toContain('impact_changed');
  });

  it('a resolved alert recovers the signal and resolves the incident; repeats change nothing', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db' });
    // Alertmanager re-sends firing alerts every group interval: no new entry.
    expect(d.alert(10, { component: 'db', since: T0 })).toEqual([]);
    d.alert(60, { component: 'db', active: false });
    const inc = d.incidents[0];
    expect(inc?.status).toBe('resolved');
    expect(inc?.resolved_at).toBe(new Date(T0 + 60 * S).toISOString());
    expect(inc?.signals[0]?.until).toBe(new Date(T0 + 60 * S).toISOString());
    expect(inc?.timeline.map((e) => e.kind)).toEqual(['opened', 'recovered', 'resolved']);
    // A resolved alert the engine never saw firing is ignored.
    expect(d.alert(70, { component: 'api', active: false })).toEqual([]);
  });

  it('the signal recovers only when its last alert resolves', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db' });
    d.alert(1, { component: 'db', key: 'fp-b', target: 'fp2' });
    d.alert(20, { component: 'db', active: false });
    expect(d.incidents[0]?.status).toBe('open');
    expect(d.incidents[0]?.signals[0]?.targets).toEqual(['fp2']);
    d.alert(30, { component: 'db', key: 'fp-b', target: 'fp2', active: false });
    expect(d.incidents[0]?.status).toBe('resolved');
  });

  it('the same alert firing again soon after reopens the incident', () => {
    const d = Driver.make();
    d.alert(0, { component: 'db' });
    d.alert(60, { component: 'db', active: false });
    d.alert(120, { component: 'db', since: T0 + 120 * S });
    const incidents = d.incidents;
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.status).toBe('open');
    expect(incidents[0]?.timeline.map((e) => e.kind)).toContain('reopened');
  });

  it('rejects an unknown component', () => {
    const d = Driver.make();
    expect(() => d.alert(0, { component: 'nope' })).toThrow(/unknown component/);
  });

  it('holds alerts inside a maintenance window of the component', () => {
    const p = plan();
    const engine = createEngine({
      plan: { ...p, maintenance: [{ id: 'm', components: ['lb'], start: new Date(T0 - S).toISOString(), end: new Date(T0 + 60 * S).toISOString() }] },
      rules: defaultRules(),
    });
    const d = new Driver(engine);
    d.alert(0, { component: 'db' });
    expect(d.incidents).toHaveLength(0);
    d.tick(61);
    expect(d.incidents).toHaveLength(1);
  });

  it('survives snapshot and restore, and stays deterministic', () => {
    const run = (restoreMidway: boolean): Incident[] => {
      let d = Driver.make();
      d.alert(0, { component: 'db' });
      d.alert(5, { component: 'api', probe: 'ApiDown' });
      if (restoreMidway) {
        const snap = JSON.parse(JSON.stringify(d.engine.snapshot())) as unknown;
        const fresh = Driver.make();
        fresh.engine.restore(snap);
        for (const [id, doc] of d.docs) fresh.docs.set(id, doc);
        d = fresh;
      }
      d.alert(30, { component: 'db', active: false });
      d.alert(40, { component: 'api', probe: 'ApiDown', active: false });
      return d.incidents;
    };
    const plain = run(false);
    expect(plain).toHaveLength(1);
    expect(plain[0]?.status).toBe('resolved');
    expect(run(true)).toEqual(plain);
    expect(run(false)).toEqual(plain);
  });
});

describe('a burst of alerts in one webhook (externalBatch)', () => {
  const N = 10_000;
  const burst = (t: number, active: boolean): ExternalSignal[] =>
    Array.from({ length: N }, (_, i) => ({
      key: `fp-node-${i}`,
      rule: 'alertmanager',
      probe: 'alertmanager:NodeDown@db',
      component: 'db',
      target: `node-${String(i).padStart(5, '0')}:9100`,
      error: 'alert',
      detail: `node-${i} down`,
      impact: 'major_outage' as const,
      active,
      since: T0,
      at: T0 + t * S,
    }));

  it('is one signal of 10,000 targets in one incident; resent, it changes nothing; resolved together, it resolves', () => {
    const d = Driver.make();
    const opened = d.keep(d.engine.externalBatch(burst(0, true)));
    expect(opened).toHaveLength(1);
    const [inc] = d.incidents;
    expect(inc?.signals).toHaveLength(1);
    expect(inc?.signals[0]?.targets).toHaveLength(N);
    expect(inc?.components.map((c) => c.id)).toEqual(['db']);
    expect(inc?.timeline.map((e) => e.kind)).toEqual(['opened']);
    // Alertmanager re-sends every firing alert each group interval: nothing new, nothing written.
    expect(d.engine.externalBatch(burst(60, true))).toEqual([]);
    d.keep(d.engine.externalBatch(burst(120, false)));
    const [after] = d.incidents;
    expect(after?.status).toBe('resolved');
    expect(after?.signals[0]?.until).not.toBeNull();
  });

  it('gives the same incident as the alerts sent one by one, in one evaluation instead of fifty', () => {
    const one = Driver.make();
    const alerts = burst(0, true).slice(0, 50);
    for (const a of alerts) one.keep(one.engine.external(a));
    const batch = Driver.make();
    batch.keep(batch.engine.externalBatch(alerts));
    const strip = (i: Incident | undefined) => ({ ...i, timeline: undefined });
    expect(strip(batch.incidents[0])).toEqual(strip(one.incidents[0]));
    // One by one, the signal grew 49 times after the draft (entries coalesced); at once, it did not.
    expect(one.incidents[0]?.timeline.map((e) => e.kind)).toEqual(['opened', 'signal_added']);
    expect(batch.incidents[0]?.timeline.map((e) => e.kind)).toEqual(['opened']);
  });
});
