import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { compileRules } from '../../src/engine/rules.js';
import type { IncidentChange } from '../../src/engine/types.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from '../helpers/plan.js';
import { defaultRules } from '../helpers/engine-events.js';

// Layer by layer: quorum and staleness, ratio windows, recovery and keep_firing_for, reopening,
// operator transitions.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;

function planWith(vantages: string[], targets = ['t1']): Plan {
  return makePlan([{ id: 'p', kind: 'http', component: 'app', intervalMs: 10 * S, vantages, targets }]);
}

/** Drives an engine like a replay and keeps every incident's latest document. */
class Driver {
  readonly docs = new Map<string, Incident>();
  readonly changes: IncidentChange[] = [];
  constructor(readonly engine: Engine) {}
  static of(plan: Plan, rules = defaultRules()): Driver {
    return new Driver(createEngine({ plan, rules }));
  }

  /** One round at `t` seconds: `outcomes[vantage]` is ok (undefined) or an error code. */
  round(t: number, outcomes: Record<string, string | undefined>, target = 't1'): void {
    for (const [vantage, error] of Object.entries(outcomes)) {
      const e: ProbeResult = { at: new Date(T0 + t * S).toISOString(), probe: 'p', target, vantage, ok: error === undefined };
      if (error) Object.assign(e, { error, detail: `${error}!` });
      this.keep(this.engine.tick(T0 + t * S));
      this.keep(this.engine.ingest(e));
    }
  }

  tick(t: number): void {
    this.keep(this.engine.tick(T0 + t * S));
  }

  keep(changes: IncidentChange[]): void {
    for (const c of changes) {
      this.changes.push(c);
      this.docs.set(c.incident.id, c.incident);
    }
  }

  get incidents(): Incident[] {
    this.keep(this.engine.flush());
    return [...this.docs.values()];
  }
}

describe('consecutive condition and quorum', () => {
  it('opens at the evaluation completing 3 consecutive failures, not before', () => {
    const d = Driver.of(planWith(['v1']));
    d.round(0, { v1: 'timeout' });
    d.round(10, { v1: 'timeout' });
    d.round(20, { v1: undefined });
    d.round(30, { v1: 'timeout' });
    d.round(40, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(0);
    d.round(50, { v1: 'timeout' });
    const [inc] = d.incidents;
    expect(inc?.opened_at).toBe(new Date(T0 + 50 * S).toISOString());
    expect(inc?.signals[0]?.since).toBe(new Date(T0 + 30 * S).toISOString());
    expect(d.changes.filter((c) => c.opened)).toHaveLength(1);
  });

  it('needs more than half of the vantages (majority): 1 of 3 and 1 of 2 are not enough', () => {
    const d = Driver.of(planWith(['v1', 'v2', 'v3']));
    for (let i = 0; i < 6; i++) d.round(i * 10, { v1: 'timeout', v2: undefined, v3: undefined });
    expect(d.incidents).toHaveLength(0);
    for (let i = 6; i < 9; i++) d.round(i * 10, { v1: 'timeout', v2: 'timeout', v3: undefined });
    expect(d.incidents).toHaveLength(1);
    expect(d.incidents[0]?.signals[0]?.vantages).toEqual(['v1', 'v2']);

    const two = Driver.of(planWith(['v1', 'v2']));
    for (let i = 0; i < 6; i++) two.round(i * 10, { v1: 'timeout', v2: undefined });
    expect(two.incidents).toHaveLength(0);
  });

  it('honours quorum { at_least: k }', () => {
    const { rules } = compileRules([{ id: 'any-vantage', quorum: { at_least: 1 } }]);
    const d = Driver.of(planWith(['v1', 'v2', 'v3']), rules);
    for (let i = 0; i < 3; i++) d.round(i * 10, { v1: 'timeout', v2: undefined, v3: undefined });
    expect(d.incidents).toHaveLength(1);
  });

  it('counts a vantage silent for 3 intervals neither for nor against', () => {
    const d = Driver.of(planWith(['v1', 'v2', 'v3']));
    // v2 and v3 stop reporting: after 30s they are stale, and v1 alone is the majority.
    d.round(0, { v1: undefined, v2: undefined, v3: undefined });
    for (let i = 1; i < 4; i++) d.round(i * 10, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(0);
    d.round(40, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(1);
  });

  it('a single failed check between successes opens nothing', () => {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 30; i++) d.round(i * 10, { v1: i % 3 === 1 ? 'timeout' : undefined });
    expect(d.incidents).toHaveLength(0);
  });
});

describe('impact from targets and error codes', () => {
  it('some targets failing is a partial outage, all of them a major one', () => {
    const d = Driver.of(planWith(['v1'], ['t1', 't2']));
    for (let i = 0; i < 3; i++) {
      d.round(i * 10, { v1: 'status' }, 't1');
      d.round(i * 10, { v1: undefined }, 't2');
    }
    expect(d.incidents[0]?.components).toEqual([{ id: 'app', impact: 'partial_outage' }]);
    for (let i = 3; i < 6; i++) {
      d.round(i * 10, { v1: 'status' }, 't1');
      d.round(i * 10, { v1: 'status' }, 't2');
    }
    const [inc] = d.incidents;
    expect(inc?.components).toEqual([{ id: 'app', impact: 'major_outage' }]);
    expect(inc?.timeline.map((t) => t.kind)).toEqual(['opened', 'signal_added', 'impact_changed']);
    expect(inc?.severity).toBe('critical');
  });

  it('slow but successful checks are degraded performance, severity minor', () => {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 4; i++) d.round(i * 10, { v1: 'latency' });
    expect(d.incidents[0]?.components).toEqual([{ id: 'app', impact: 'degraded_performance' }]);
    expect(d.incidents[0]?.severity).toBe('minor');
  });
});

describe('ratio condition (intermittency)', () => {
  it('opens once for a probe failing every other check and stays one incident', () => {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 60; i++) d.round(i * 10, { v1: i % 2 === 0 ? 'timeout' : undefined });
    const all = d.incidents;
    expect(all).toHaveLength(1);
    expect(all[0]?.signals.map((s) => s.rule)).toEqual(['intermittent']);
    expect(all[0]?.status).toBe('open');
    expect(d.changes.filter((c) => c.opened)).toHaveLength(1);
  });

  it('needs min_checks: 3 failures of 5 checks in the window are not enough', () => {
    const d = Driver.of(planWith(['v1']));
    ['timeout', undefined, 'timeout', undefined, 'timeout'].forEach((e, i) => d.round(i * 10, { v1: e }));
    expect(d.incidents).toHaveLength(0);
    d.round(50, { v1: undefined });
    expect(d.incidents).toHaveLength(1);
  });

  it('forgets checks older than the window', () => {
    const { rules } = compileRules([{ id: 'flaky', condition: { ratio: { min: 0.5, min_checks: 4, window: '1m' } } }]);
    const d = Driver.of(planWith(['v1']), rules);
    // Two failures, a silent spell, then ok/fail: counting the old failures would make 3 of 4.
    d.round(0, { v1: 'timeout' });
    d.round(10, { v1: 'timeout' });
    d.round(100, { v1: undefined });
    d.round(110, { v1: 'timeout' });
    d.round(120, { v1: undefined });
    expect(d.incidents).toHaveLength(0);
    d.round(130, { v1: 'timeout' });
    d.round(140, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(1);
  });
});

describe('recovery and reopening', () => {
  it('resolves after 2 consecutive healthy checks, and reopens the same incident within the cool-down', () => {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 3; i++) d.round(i * 10, { v1: 'timeout' });
    d.round(30, { v1: undefined });
    expect(d.incidents[0]?.status).toBe('open');
    d.round(40, { v1: undefined });
    expect(d.incidents[0]?.status).toBe('resolved');
    for (let i = 5; i < 8; i++) d.round(i * 10, { v1: 'timeout' });
    const all = d.incidents;
    expect(all).toHaveLength(1);
    expect(all[0]?.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved', 'reopened']);
    expect(all[0]?.status).toBe('open');
    expect(all[0]?.resolved_at).toBeNull();
  });

  it('opens a new draft after the cool-down', () => {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 3; i++) d.round(i * 10, { v1: 'timeout' });
    for (let i = 3; i < 200; i++) d.round(i * 10, { v1: undefined });
    for (let i = 200; i < 203; i++) d.round(i * 10, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(2);
  });

  it('keep_firing_for holds the signal after its condition cleared', () => {
    const { rules } = compileRules([{ id: 'sticky', keep_firing_for: '1m' }]);
    const d = Driver.of(planWith(['v1']), rules);
    for (let i = 0; i < 3; i++) d.round(i * 10, { v1: 'timeout' });
    for (let i = 3; i < 8; i++) d.round(i * 10, { v1: undefined });
    expect(d.incidents[0]?.status).toBe('open');
    d.tick(120);
    expect(d.incidents[0]?.status).toBe('resolved');
    expect(d.incidents[0]?.resolved_at).toBe(new Date(T0 + 120 * S).toISOString());
  });
});

describe('operator actions', () => {
  function opened(): { d: Driver; id: string } {
    const d = Driver.of(planWith(['v1']));
    for (let i = 0; i < 3; i++) d.round(i * 10, { v1: 'timeout' });
    return { d, id: d.incidents[0]?.id ?? '' };
  }

  it('confirm, note and resolve by hand append entries with the operator as author', () => {
    const { d, id } = opened();
    d.keep(d.engine.operatorAction({ incidentId: id, action: 'confirm', by: 'alice', at: T0 + 40 * S }));
    d.keep(d.engine.operatorAction({ incidentId: id, action: 'note', by: 'alice', at: T0 + 41 * S, text: 'on it' }));
    d.keep(d.engine.operatorAction({ incidentId: id, action: 'resolve', by: 'bob', at: T0 + 42 * S }));
    const [inc] = d.incidents;
    expect(inc?.review).toBe('confirmed');
    expect(inc?.status).toBe('resolved');
    expect(inc?.timeline.slice(1).map((t) => [t.kind, t.author])).toEqual([
      ['confirmed', 'alice'],
      ['note', 'alice'],
      ['resolved', 'bob'],
    ]);
    // Still failing after a manual resolve: no new draft for the same failure.
    for (let i = 4; i < 10; i++) d.round(i * 10, { v1: 'timeout' });
    expect(d.incidents).toHaveLength(1);
  });

  it('rejects illegal transitions with CONFLICT and missing input with INVALID', () => {
    const { d, id } = opened();
    expect(() => d.engine.operatorAction({ incidentId: id, action: 'dismiss', by: 'a', at: T0 })).toThrow(
      expect.objectContaining({ code: 'INVALID' }),
    );
    d.engine.operatorAction({ incidentId: id, action: 'dismiss', by: 'a', at: T0, reason: 'test' });
    expect(() => d.engine.operatorAction({ incidentId: id, action: 'confirm', by: 'a', at: T0 })).toThrow(
      expect.objectContaining({ code: 'CONFLICT' }),
    );
    expect(() => d.engine.operatorAction({ incidentId: 'inc_nope', action: 'note', by: 'a', at: T0, text: 'x' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });
});

describe('restart', () => {
  it('an engine without state adopting the stored open incident does not open a duplicate', () => {
    const plan = planWith(['v1']);
    const { d } = ((): { d: Driver } => {
      const x = Driver.of(plan);
      for (let i = 0; i < 3; i++) x.round(i * 10, { v1: 'timeout' });
      return { d: x };
    })();
    const stored = d.incidents;
    const fresh = Driver.of(plan);
    fresh.engine.adopt(stored);
    for (let i = 3; i < 8; i++) fresh.round(i * 10, { v1: 'timeout' });
    expect(fresh.changes.filter((c) => c.opened)).toHaveLength(0);
    // Re-detected silently, then resolved by the same recovery.
    fresh.round(80, { v1: undefined });
    fresh.round(90, { v1: undefined });
    const [inc] = fresh.incidents;
    expect(inc?.id).toBe(stored[0]?.id);
    expect(inc?.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved']);
  });
});
