import { describe, expect, it } from 'vitest';
import {
  afterAcquire,
  afterRenew,
  checkTiming,
  decide,
  driftMs,
  isLeader,
  type LeaseState,
  nextDecisionIn,
} from '../../src/lease/policy.js';
import { FakeClock } from '../helpers/fake-clock.js';

const timing = { ttlMs: 10_000, renewEveryMs: 3000, retryEveryMs: 3000 };

describe('leader lease policy', () => {
  it('rejects timings where one lost renewal would lose the lease', () => {
    expect(() => checkTiming({ ...timing, renewEveryMs: 6000 })).toThrow(/at most half/);
    expect(() => checkTiming({ ...timing, ttlMs: 0 })).toThrow(/positive/);
    expect(() => checkTiming(timing)).not.toThrow();
  });

  it('acquires when due, then renews every renewEveryMs', () => {
    const clock = new FakeClock();
    let state: LeaseState = { held: false, nextAttemptAt: clock.now() };
    expect(decide(state, clock.now(), timing)).toBe('acquire');
    state = afterAcquire(clock.now(), 7, timing);
    expect(isLeader(state, clock.now())).toBe(true);
    expect(decide(state, clock.now(), timing)).toBe('wait');
    expect(nextDecisionIn(state, clock.now(), timing)).toBe(3000);
    clock.advance(2999);
    expect(decide(state, clock.now(), timing)).toBe('wait');
    clock.advance(1);
    expect(decide(state, clock.now(), timing)).toBe('renew');
    state = afterRenew(state, clock.now(), 'renewed', timing);
    // Valid for a full ttl from when the renewal was sent, minus the drift margin.
    expect(state).toMatchObject({ held: true, token: 7, validUntil: clock.now() + 10_000 - driftMs(10_000) });
  });

  it('a refused acquisition waits retryEveryMs before trying again', () => {
    const clock = new FakeClock();
    const state = afterAcquire(clock.now(), undefined, timing);
    expect(isLeader(state, clock.now())).toBe(false);
    expect(decide(state, clock.now(), timing)).toBe('wait');
    expect(nextDecisionIn(state, clock.now(), timing)).toBe(3000);
    clock.advance(3000);
    expect(decide(state, clock.now(), timing)).toBe('acquire');
  });

  it('stops leading before the key can expire in Redis when renewals get no answer', () => {
    const clock = new FakeClock();
    const acquiredAt = clock.now();
    let state = afterAcquire(acquiredAt, 1, timing);
    for (const _ of [1, 2, 3]) {
      clock.advance(3000);
      expect(decide(state, clock.now(), timing)).toBe('renew');
      state = afterRenew(state, clock.now(), 'error', timing);
    }
    expect(isLeader(state, clock.now())).toBe(true);
    // The expiry comes before the next renewal time: that is the next decision.
    expect(nextDecisionIn(state, clock.now(), timing)).toBe(1000 - driftMs(10_000));
    clock.advance(1000 - driftMs(10_000));
    expect(isLeader(state, clock.now())).toBe(false);
    expect(clock.now()).toBeLessThan(acquiredAt + timing.ttlMs);
    expect(decide(state, clock.now(), timing)).toBe('expire');
  });

  it('loses the lease at once when Redis says the key is someone else’s', () => {
    const clock = new FakeClock();
    let state = afterAcquire(clock.now(), 1, timing);
    clock.advance(3000);
    state = afterRenew(state, clock.now(), 'replaced', timing);
    expect(isLeader(state, clock.now())).toBe(false);
    expect(state).toEqual({ held: false, nextAttemptAt: clock.now() + 3000 });
  });

  it('a late renewal answer never shortens the lease', () => {
    const clock = new FakeClock();
    let state = afterAcquire(clock.now(), 1, timing);
    const before = state.held ? state.validUntil : 0;
    state = afterRenew(state, clock.now() - 5000, 'renewed', timing);
    expect(state.held && state.validUntil).toBe(before);
  });
});
