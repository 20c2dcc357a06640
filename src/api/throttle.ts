import type { Clock } from '../clock.js';

export interface ThrottleOptions {
  readonly clock: Clock;
  /** Failures tolerated before backing off (default 5). */
  readonly freeFailures?: number;
  /** First backoff; each further failure doubles it (default 1 s). */
  readonly baseMs?: number;
  /** Longest backoff (default 5 min). */
  readonly maxMs?: number;
  /** An address with no failure for this long is forgotten (default 15 min). */
  readonly windowMs?: number;
  /** At most this many addresses are tracked; past it the least recently failing is dropped (default 10,000). */
  readonly maxAddresses?: number;
}

export type ThrottleCheck = { readonly ok: true } | { readonly ok: false; readonly retryAfterS: number };

interface Entry {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

export const DEFAULT_FREE_FAILURES = 5;
export const DEFAULT_BASE_MS = 1000;
export const DEFAULT_MAX_MS = 5 * 60_000;
export const DEFAULT_WINDOW_MS = 15 * 60_000;
export const DEFAULT_MAX_ADDRESSES = 10_000;

/**
 * Failed authentications per client address, with exponential backoff: after `freeFailures`
 * failures an address is refused for 1 s, then 2 s, 4 s… up to `maxMs`, each further failure
 * doubling it. While refused, nothing is checked (not even a right token), so guessing costs time.
 * A success forgets the address. Memory is bounded: entries expire after `windowMs` without a
 * failure, and the map (in order of last failure) drops its oldest entry past `maxAddresses`.
 */
export class AuthThrottle {
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;
  readonly #free: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #windowMs: number;
  readonly #max: number;

  constructor(opts: ThrottleOptions) {
    this.#clock = opts.clock;
    this.#free = opts.freeFailures ?? DEFAULT_FREE_FAILURES;
    this.#baseMs = opts.baseMs ?? DEFAULT_BASE_MS;
    this.#maxMs = opts.maxMs ?? DEFAULT_MAX_MS;
    this.#windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    this.#max = opts.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.#entries.size;
  }

  /** Whether `address` may try to authenticate now; if not, the seconds to wait (at least 1). */
  check(address: string): ThrottleCheck {
    const entry = this.#entries.get(address);
    if (!entry) return { ok: true };
    const now = this.#clock.now();
    if (entry.blockedUntil > now) {
      return { ok: false, retryAfterS: Math.max(1, Math.ceil((entry.blockedUntil - now) / 1000)) };
    }
    if (this.#expired(entry, now)) this.#entries.delete(address);
    return { ok: true };
  }

  /**
   * Records a failed authentication from `address`. `backoffStarted` is true for the failure that
   * starts a backoff episode (the one to log); later failures of the same episode return false.
   */
  fail(address: string): { readonly backoffStarted: boolean } {
    const now = this.#clock.now();
    let entry = this.#entries.get(address);
    if (entry && this.#expired(entry, now)) entry = undefined;
    if (entry) this.#entries.delete(address);
    else {
      this.#makeRoom(now);
      entry = { failures: 0, lastFailure: now, blockedUntil: 0 };
    }
    entry.failures += 1;
    entry.lastFailure = now;
    const over = entry.failures - this.#free;
    if (over >= 0) {
      // 2^over overflows nothing: the exponent is capped well before the delay would.
      const delay = Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(over, 30));
      entry.blockedUntil = now + delay;
    }
    // Re-inserted at the end: the map stays in order of last failure, oldest first.
    this.#entries.set(address, entry);
    return { backoffStarted: over === 0 };
  }

  /** A successful authentication: the address starts afresh. */
  succeed(address: string): void {
    this.#entries.delete(address);
  }

  #expired(entry: Entry, now: number): boolean {
    return entry.blockedUntil <= now && now - entry.lastFailure >= this.#windowMs;
  }

  /**
   * Makes room for one more address: the map is in order of last failure, so its first entries
   * are the expired ones, then the least recently failing.
   */
  #makeRoom(now: number): void {
    for (const [address, entry] of this.#entries) {
      if (this.#entries.size < this.#max && !this.#expired(entry, now)) return;
      this.#entries.delete(address);
    }
  }
}
