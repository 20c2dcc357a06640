import { describe, expect, it } from 'vitest';
import { LagTracker } from '../../probes/lb-sync/lag.js';
import type { Difference, InstanceVerdict } from '../../probes/lb-sync/majority.js';
import { describeDifference, formatLag, instanceResult } from '../../probes/lb-sync/report.js';

const T0 = Date.parse('2023-11-24T09:25:00.000Z');
const S = 1000;

const stale: Difference = {
  route: 'app1.example.com/',
  against: 'majority',
  parts: [{ item: 'header:x-config-version', value: '41', reference: '42' }],
};
const differs: InstanceVerdict = { kind: 'compared', differences: [stale] };
const inSync: InstanceVerdict = { kind: 'compared', differences: [] };
const refused: InstanceVerdict = {
  kind: 'failed',
  route: 'app1.example.com/',
  failure: { error: 'connect_refused', detail: 'connect ECONNREFUSED 10.0.0.3:443 (ECONNREFUSED)' },
};

/** One instance checked at successive instants, as the kind does: tracker first, then the result. */
function checker(maxLagMs: number, tracker = new LagTracker()) {
  return (verdict: InstanceVerdict, at: number) => {
    const key = 'lb-sync-par\u000010.0.0.3:443';
    const lag = verdict.kind === 'failed' ? tracker.hold(key, at) : tracker.record(key, verdict.differences.length > 0, at);
    return instanceResult({
      instance: '10.0.0.3:443',
      verdict,
      lag,
      maxLagMs,
      durationMs: 12.345,
      version: '41',
      majorityVersion: '42',
    });
  };
}

describe('lag state machine (fake clock)', () => {
  it('is ok with a growing lag until max_lag, then config_out_of_sync', () => {
    const check = checker(30 * S);
    const first = check(differs, T0);
    expect(first).toEqual({
      target: '10.0.0.3:443',
      ok: true,
      duration_ms: 12.35,
      detail: 'x-config-version 41 on app1.example.com/, majority 42, within max_lag 30s',
      observations: {
        in_sync: false,
        lag_s: 0,
        differs_since: '2023-11-24T09:25:00.000Z',
        out_of_sync_at: '2023-11-24T09:25:30.000Z',
        route: 'app1.example.com/',
        version: '41',
        majority_version: '42',
        differences: [
          {
            route: 'app1.example.com/',
            compare: 'header:x-config-version',
            value: '41',
            reference: '42',
            against: 'majority',
          },
        ],
      },
    });
    const mid = check(differs, T0 + 29_999);
    expect(mid).toMatchObject({ ok: true, observations: { in_sync: false, lag_s: 29.999 } });
    expect(mid.detail).toBe('x-config-version 41 on app1.example.com/, majority 42, for 29s, within max_lag 30s');
    const late = check(differs, T0 + 45 * S);
    expect(late).toMatchObject({
      ok: false,
      error: 'config_out_of_sync',
      detail: 'x-config-version 41 on app1.example.com/, majority 42, for 45s',
      observations: { in_sync: false, lag_s: 45, differs_since: '2023-11-24T09:25:00.000Z' },
    });
    // Out of sync already: no time to re-check at.
    expect(late.observations).not.toHaveProperty('out_of_sync_at');
  });

  it('is out of sync at the first difference with max_lag 0s', () => {
    const check = checker(0);
    expect(check(differs, T0)).toMatchObject({
      ok: false,
      error: 'config_out_of_sync',
      detail: 'x-config-version 41 on app1.example.com/, majority 42',
      observations: { in_sync: false, lag_s: 0 },
    });
  });

  it('forgets the lag once in sync: the next difference starts from zero', () => {
    const check = checker(10 * S);
    check(differs, T0);
    expect(check(differs, T0 + 8 * S).ok).toBe(true);
    expect(check(inSync, T0 + 9 * S)).toEqual({
      target: '10.0.0.3:443',
      ok: true,
      duration_ms: 12.35,
      observations: { in_sync: true, lag_s: 0, version: '41', majority_version: '42' },
    });
    expect(check(differs, T0 + 12 * S)).toMatchObject({
      ok: true,
      observations: { lag_s: 0, differs_since: new Date(T0 + 12 * S).toISOString() },
    });
  });

  it('keeps a running lag through an unreachable spell, and reports the network error meanwhile', () => {
    const check = checker(30 * S);
    check(differs, T0);
    expect(check(refused, T0 + 10 * S)).toEqual({
      target: '10.0.0.3:443',
      ok: false,
      error: 'connect_refused',
      duration_ms: 12.35,
      detail: 'app1.example.com/: connect ECONNREFUSED 10.0.0.3:443 (ECONNREFUSED)',
      observations: { route: 'app1.example.com/', version: '41', majority_version: '42' },
    });
    expect(check(differs, T0 + 31 * S)).toMatchObject({ ok: false, error: 'config_out_of_sync' });
  });

  it('starts no lag for an instance that was only ever unreachable', () => {
    const tracker = new LagTracker();
    const check = checker(0, tracker);
    expect(check(refused, T0).error).toBe('connect_refused');
    expect(tracker.size).toBe(0);
  });

  it('never reports a negative lag when the wall clock steps back', () => {
    const check = checker(30 * S);
    check(differs, T0);
    expect(check(differs, T0 - 5 * S).observations).toMatchObject({ lag_s: 0 });
  });
});

describe('LagTracker bounds', () => {
  it('drops keys not seen for the TTL', () => {
    const tracker = new LagTracker({ ttlMs: 60 * S });
    tracker.record('a', true, T0);
    tracker.record('b', true, T0 + 50 * S);
    tracker.record('b', true, T0 + 2 * 60 * S);
    expect(tracker.size).toBe(1);
    expect(tracker.record('a', true, T0 + 2 * 60 * S + 1)?.lagMs).toBe(0);
  });

  it('keeps at most maxEntries, dropping the least recently seen', () => {
    const tracker = new LagTracker({ maxEntries: 2 });
    tracker.record('a', true, T0);
    tracker.record('b', true, T0 + 1);
    tracker.record('a', true, T0 + 2);
    tracker.record('c', true, T0 + 3);
    expect(tracker.size).toBe(2);
    expect(tracker.hold('b', T0 + 4)).toBeUndefined();
    expect(tracker.hold('a', T0 + 4)).toEqual({ since: T0, lagMs: 4 });
  });

  it('holds only differing keys', () => {
    const tracker = new LagTracker();
    tracker.record('a', false, T0);
    tracker.record('b', true, T0);
    tracker.record('b', false, T0 + 1);
    expect(tracker.size).toBe(0);
  });
});

describe('detail text', () => {
  it.each([
    [stale, 'x-config-version 41 on app1.example.com/, majority 42'],
    [
      {
        route: 'app2.example.com/',
        against: 'majority',
        parts: [
          { item: 'status', value: '404', reference: '200' },
          { item: 'header:x-config-version', value: '42', reference: '43' },
          { item: 'body_sha256', value: 'a'.repeat(64), reference: 'b'.repeat(64) },
        ],
      },
      'status 404 and x-config-version 42 on app2.example.com/, majority 200 and 43',
    ],
    [
      {
        route: 'app1.example.com/',
        against: 'majority',
        parts: [{ item: 'body_sha256', value: 'a'.repeat(64), reference: 'b'.repeat(64) }],
      },
      'body sha256 aaaaaaaaaaaa… on app1.example.com/, majority bbbbbbbbbbbb…',
    ],
    [
      { against: 'expected', parts: [{ item: 'version', value: '42', reference: '43' }] },
      'config version 42, expected 43',
    ],
    [
      {
        route: 'app1.example.com/',
        against: 'no_majority',
        among: 2,
        parts: [{ item: 'header:x-config-version', value: '42', reference: null }],
      },
      'x-config-version 42 on app1.example.com/, no majority among 2 instances',
    ],
  ] as [Difference, string][])('%j', (difference, text) => {
    expect(describeDifference(difference)).toBe(text);
  });

  it('counts further differences', () => {
    const more: InstanceVerdict = {
      kind: 'compared',
      differences: [stale, { against: 'expected', parts: [{ item: 'version', value: '41', reference: '43' }] }],
    };
    expect(checker(0)(more, T0).detail).toBe('x-config-version 41 on app1.example.com/, majority 42 (+1 more)');
  });

  it.each([
    [0, '0s'],
    [45_900, '45s'],
    [125_000, '2m5s'],
    [120_000, '2m'],
    [3_780_000, '1h3m'],
  ])('formatLag(%d) = %s', (ms, text) => {
    expect(formatLag(ms)).toBe(text);
  });
});
