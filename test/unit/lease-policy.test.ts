import { describe, expect, it } from 'vitest';
import {
  afterAcquire,
  afterDisconnect,
  afterReconnect,
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

  it('stops leading before the key can expire in Redis when a renewal hangs', () => {
    const clock = new FakeClock();
    const acquiredAt = clock.now();
    let state = afterAcquire(acquiredAt, 1, timing);
    clock.advance(3000);
    expect(decide(state, clock.now(), timing)).toBe('renew');
    state = afterRenew(state, clock.now(), 'renewed', timing);
    const renewedAt = clock.now();
    // The next renewal is sent and its answer never comes (the state stays as it was).
    clock.advance(3000);
    expect(decide(state, clock.now(), timing)).toBe('renew');
    expect(isLeader(state, clock.now())).toBe(true);
    clock.advance(10_000 - 3000 - driftMs(10_000) - 1);
    expect(isLeader(state, clock.now())).toBe(true);
    clock.advance(1);
    expect(isLeader(state, clock.now())).toBe(false);
    expect(clock.now()).toBeLessThan(renewedAt + timing.ttlMs);
    expect(decide(state, clock.now(), timing)).toBe('expire');
  });

  it('a failed renewal (Redis away) loses the lease at once, not when its validity runs out', () => {
    const clock = new FakeClock();
    let state = afterAcquire(clock.now(), 1, timing);
    clock.advance(3000);
    state = afterRenew(state, clock.now(), 'error', timing);
    expect(isLeader(state, clock.now())).toBe(false);
    expect(state).toEqual({ held: false, nextAttemptAt: clock.now() + 3000 });
  });

  it('a closed connection loses the lease at once; the reconnection campaigns at once', () => {
    const clock = new FakeClock();
    let state = afterAcquire(clock.now(), 4, timing);
    clock.advance(500);
    // Well within its validity (9.9 s left), yet no longer the leader.
    state = afterDisconnect(state, clock.now(), timing);
    expect(isLeader(state, clock.now())).toBe(false);
    expect(decide(state, clock.now(), timing)).toBe('wait');
    // Further closes (each failed reconnection attempt) keep it waiting.
    clock.advance(2000);
    state = afterDisconnect(state, clock.now(), timing);
    expect(state).toEqual({ held: false, nextAttemptAt: clock.now() + 3000 });
    clock.advance(700);
    state = afterReconnect(state, clock.now());
    expect(decide(state, clock.now(), timing)).toBe('acquire');
    expect(nextDecisionIn(state, clock.now(), timing)).toBe(0);
    // Taken again with a new token.
    state = afterAcquire(clock.now(), 5, timing);
    expect(isLeader(state, clock.now())).toBe(true);
    expect(state).toMatchObject({ token: 5 });
  });

  it('a reconnection leaves a held lease and an earlier attempt time alone', () => {
    const clock = new FakeClock();
    const held = afterAcquire(clock.now(), 2, timing);
    expect(afterReconnect(held, clock.now() + 100)).toBe(held);
    const waiting: LeaseState = { held: false, nextAttemptAt: clock.now() };
    expect(afterReconnect(waiting, clock.now() + 100)).toEqual(waiting);
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
