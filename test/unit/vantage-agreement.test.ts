import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { VantageAgreement } from '../../src/results/vantage-agreement.js';
import { makePlan } from '../helpers/plan.js';

function setup() {
  const disagreements: string[] = [];
  const minority: Record<string, number> = {};
  const agreement = new VantageAgreement(makePlan([{ id: 'p', intervalMs: 1000 }]), {
    disagreement: (v) => disagreements.push(v),
    minorityFailing: (v, n) => {
      minority[v] = n;
    },
  });
  let t = Date.parse('2026-01-01T00:00:00Z');
  const round = (oks: Record<string, boolean>, target = 't') => {
    t += 1000;
    for (const [vantage, ok] of Object.entries(oks)) {
      const r: ProbeResult = { at: new Date(t).toISOString(), probe: 'p', target, vantage, ok, ...(ok ? {} : { error: 'connect_refused' as const }) };
      agreement.record(r);
    }
  };
  return { agreement, disagreements, minority, round };
}

describe('VantageAgreement (S5: one vantage sees what the others do not)', () => {
  it('counts a vantage failing alone against a healthy majority, and clears when it agrees again', () => {
    const { disagreements, minority, round } = setup();
    round({ a: true, b: true, c: true });
    round({ b: false, a: true, c: true });
    round({ b: false, a: true, c: true });
    // One episode, judged once the others looked after b's failure.
    expect(disagreements).toEqual(['b']);
    expect(minority).toEqual({ b: 1 });
    round({ a: true, b: true, c: true });
    expect(minority).toEqual({ b: 0 });
  });

  it('does not blame a vantage when the target is down for everyone', () => {
    const { disagreements, minority, round } = setup();
    round({ a: true, b: true, c: true });
    // a reports first: the others' healthy views are older than its failure and do not count.
    round({ a: false, b: false, c: false });
    round({ a: false, b: false, c: false });
    expect(disagreements).toEqual([]);
    expect(minority).toEqual({});
  });

  it('needs at least two other fresh vantages to judge', () => {
    const { disagreements, round } = setup();
    round({ a: true, b: true });
    round({ a: true, b: false });
    expect(disagreements).toEqual([]);
  });

  it('counts failing targets per vantage', () => {
    const { minority, round } = setup();
    for (const target of ['t1', 't2', 't3']) round({ a: true, b: true, c: true }, target);
    round({ b: false, a: true, c: true }, 't1');
    round({ b: false, a: true, c: true }, 't2');
    expect(minority).toEqual({ b: 2 });
  });

  it('forgets a probe a reload removed: its minority count goes to zero, its late results count for nothing', () => {
    const { agreement, minority, round } = setup();
    round({ a: true, b: true, c: true });
    round({ b: false, a: true, c: true });
    round({ b: false, a: true, c: true });
    expect(minority).toEqual({ b: 1 });
    agreement.setPlan(makePlan([{ id: 'other', intervalMs: 1000 }]));
    expect(minority).toEqual({ b: 0 });
    round({ b: false, a: true, c: true });
    round({ b: false, a: true, c: true });
    expect(minority).toEqual({ b: 0 });
  });
});
