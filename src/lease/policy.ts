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
 * is gone or someone else's (lost at once); `error` = no answer (Redis away): keep the lease until
 * it expires locally, retrying at the next renewal time.
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
      return { held: false, nextAttemptAt: sentAt + t.retryEveryMs };
    case 'error':
      return { ...state, renewedAt: sentAt };
  }
}

/** The state once the lease is lost or given up. */
export function released(now: number, t: LeaseTiming): LeaseState {
  return { held: false, nextAttemptAt: now + t.retryEveryMs };
}
