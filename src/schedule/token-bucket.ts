import type { Clock } from '../clock.js';

/**
 * A token bucket on an injected clock: `rate` tokens a second, at most `capacity` saved up. Refilled
 * lazily from the time elapsed when a token is asked for, so an idle bucket costs nothing.
 */
export class TokenBucket {
  #rate: number;
  #capacity: number;
  #tokens: number;
  #at: number;

  constructor(
    private readonly clock: Clock,
    rate: number,
    capacity = rate,
  ) {
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = capacity;
    this.#at = clock.now();
  }

  get rate(): number {
    return this.#rate;
  }

  /** Takes one token: false when none is left (the caller skips and counts). */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** A new rate (and capacity, one second of it by default); the tokens saved are kept, capped. */
  setRate(rate: number, capacity = rate): void {
    this.#refill();
    this.#rate = rate;
    this.#capacity = capacity;
    this.#tokens = Math.min(this.#tokens, capacity);
  }

  #refill(): void {
    const now = this.clock.now();
    // A clock stepping back (NTP) refills nothing rather than draining the bucket.
    const elapsed = Math.max(0, now - this.#at);
    this.#at = now;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (elapsed * this.#rate) / 1000);
  }
}
