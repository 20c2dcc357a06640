/**
 * The leader lease's decisions, as pure functions of its state and the time (unit-tested with a
 * fake clock; src/lease/lease.ts does the Redis calls and the timers).
 */

export interface LeaseTiming {
  /** How long the lease lives in Redis without a renewal. */
  readonly ttlMs: number;
  /** How often the holder renews; well under `ttlMs`, so one lost renewal does not lose the lease. */
  readonly renewEveryMs: number;
  /** How often a process without the lease tries to take it. */
  readonly retryEveryMs: number;
}

/** What this process knows about its own lease. */
export type LeaseState =
  | { readonly held: false; readonly nextAttemptAt: number }
  | {
    readonly held: true;
    readonly token: number;
    /** Local time until which the lease is certainly ours (see `validUntil`). */
    readonly validUntil: number;
    /** When the last renewal that Redis accepted was sent. */
    readonly renewedAt: number;
  };

export type LeaseAction = 'acquire' | 'renew' | 'expire' | 'wait';

export function checkTiming(t: LeaseTiming): void {
  if (!(t.ttlMs > 0 && t.renewEveryMs > 0 && t.retryEveryMs > 0)) throw new Error('lease timings must be positive');
  if (t.renewEveryMs * 2 > t.ttlMs) {
    throw new Error(`lease renewEveryMs (${t.renewEveryMs}) must be at most half of ttlMs (${t.ttlMs})`);
  }
}

/**
 * Margin for clock rates drifting between this process and Redis (Redlock's: 1 % + 2 ms): the
 * holder gives up a little before Redis can let the key expire.
 */
export function driftMs(ttlMs: number): number {
  return Math.ceil(ttlMs * 0.01) + 2;
}

/**
 * The key's TTL started no earlier than the request was sent, so the lease is ours at least until
 * `sentAt + ttl` (minus drift) by the local clock, whenever the answer arrives.
 */
export function validUntil(sentAt: number, ttlMs: number): number {
  return sentAt + ttlMs - driftMs(ttlMs);
}

export function isLeader(state: LeaseState, now: number): boolean {
  return state.held && now < state.validUntil;
}

/** What to do now. */
export function decide(state: LeaseState, now: number, t: LeaseTiming): LeaseAction {
  if (!state.held) return now >= state.nextAttemptAt ? 'acquire' : 'wait';
  if (now >= state.validUntil) return 'expire';
  return now >= state.renewedAt + t.renewEveryMs ? 'renew' : 'wait';
}

/** Milliseconds until `decide` may answer something other than 'wait'. */
export function nextDecisionIn(state: LeaseState, now: number, t: LeaseTiming): number {
  const at = state.held ? Math.min(state.renewedAt + t.renewEveryMs, state.validUntil) : state.nextAttemptAt;
  return Math.max(0, at - now);
}

/** The state after an acquisition attempt sent at `sentAt`: `token` when Redis granted it. */
export function afterAcquire(sentAt: number, token: number | undefined, t: LeaseTiming): LeaseState {
  if (token === undefined) return { held: false, nextAttemptAt: sentAt + t.retryEveryMs };
  return { held: true, token, validUntil: validUntil(sentAt, t.ttlMs), renewedAt: sentAt };
}

/**
 * The state after a renewal sent at `sentAt`: `renewed` = Redis extended it; `replaced` = the key
 * is gone or someone else's (lost at once); `error` = the call failed (connection lost, command
 * timeout, Redis loading): lost at once too. The lease may still be ours in Redis, but a holder
 * that cannot reach Redis cannot write either, and stepping down now (rather than when the
 * validity runs out, up to a ttl later) means no decision is taken on a store it cannot see.
 * Re-acquiring afterwards is safe: it takes a new fencing token.
 */
export function afterRenew(
  state: LeaseState,
  sentAt: number,
  outcome: 'renewed' | 'replaced' | 'error',
  t: LeaseTiming,
): LeaseState {
  if (!state.held) return state;
  switch (outcome) {
    case 'renewed':
      return { ...state, validUntil: Math.max(state.validUntil, validUntil(sentAt, t.ttlMs)), renewedAt: sentAt };
    case 'replaced':
    case 'error':
      return { held: false, nextAttemptAt: sentAt + t.retryEveryMs };
  }
}

/**
 * The client's connection to Redis closed: a holder steps down at once (nothing it decides can be
 * stored, and the lease may lapse in Redis unseen); nobody campaigns until the connection is back
 * (`afterReconnect`), attempts would only fail.
 */
export function afterDisconnect(state: LeaseState, now: number, t: LeaseTiming): LeaseState {
  if (state.held) return released(now, t);
  return { held: false, nextAttemptAt: Math.max(state.nextAttemptAt, now + t.retryEveryMs) };
}

/** The connection is back: campaign now (the holder's own key, if still there, is taken back with a new token). */
export function afterReconnect(state: LeaseState, now: number): LeaseState {
  return state.held ? state : { held: false, nextAttemptAt: Math.min(state.nextAttemptAt, now) };
}

/** The state once the lease is lost or given up. */
export function released(now: number, t: LeaseTiming): LeaseState {
  return { held: false, nextAttemptAt: now + t.retryEveryMs };
}
