import { describe, expect, it } from 'vitest';
import { comp, EngineDriver, merge, planOf, probe, result, rounds, SEC, T0 } from '../helpers/engine-events.js';

// Quorum when a fleet starts (docs/rules.md, "Quorum"): a planned vantage that has not reported
// yet is expected, not silent, until the stale horizon (3 intervals) has passed since the target
// was first heard of. Otherwise the first vantage to report, re-checking a failure every 2 s,
// would be a majority of one and open an incident its peers would have voted down.

const V = ['v1', 'v2', 'v3'];
const plan = planOf([comp('app')], [probe('app-p', 'app', V)]);
const p = { id: 'app-p', vantages: V };

/** v1's failed check and two re-checks 2 s apart, from `at`. */
const v1Streak = (at: number) => [0, 2, 4].map((s) => result(at + s * SEC, 'app-p', 'v1', 'timeout'));

describe('quorum while vantages are still coming up', () => {
  it('one vantage failing before the others report is no majority', () => {
    const d = new EngineDriver(plan);
    d.feedAll(v1Streak(T0));
    expect(d.incidents()).toEqual([]);
    // The others come up and see the target answer: 1 of 3 is a minority (CONTRACT §5.2).
    d.feedAll(rounds(p, T0 + 10 * SEC, T0 + 60 * SEC, (_t, v) => (v === 'v1' ? 'timeout' : undefined)));
    expect(d.incidents()).toEqual([]);
  });

  it('planned vantages silent past the stale horizon no longer count: the reporting one decides', () => {
    const d = new EngineDriver(plan);
    const v1Only = { id: 'app-p', vantages: ['v1'] };
    d.feedAll(rounds(v1Only, T0, T0 + 30 * SEC + 1, () => 'timeout'));
    // Four failed checks within 30 s of the first event: v2 and v3 are still expected.
    expect(d.incidents()).toEqual([]);
    d.feedAll(rounds(v1Only, T0 + 40 * SEC, T0 + 41 * SEC, () => 'timeout'));
    const [inc] = d.incidents();
    expect(inc?.components.map((c) => c.id)).toEqual(['app']);
    expect(Date.parse(inc?.opened_at ?? '')).toBe(T0 + 40 * SEC);
  });

  it('a majority among vantages that all report opens at the third check, as always', () => {
    const d = new EngineDriver(plan);
    d.feedAll(merge(rounds(p, T0, T0 + 30 * SEC, (_t, v) => (v === 'v3' ? undefined : 'timeout'))));
    const [inc] = d.incidents();
    expect(Date.parse(inc?.opened_at ?? '')).toBe(T0 + 20 * SEC);
  });
});
