import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis, Result } from 'ioredis';
import { systemClock, type TimerClock, type TimerHandle } from '../clock.js';
import type { Logger } from '../log.js';
import type { Fence } from '../store/redis.js';
import {
  afterAcquire,
  afterDisconnect,
  afterReconnect,
  afterRenew,
  checkTiming,
  decide,
  isLeader,
  type LeaseState,
  type LeaseTiming,
  nextDecisionIn,
  released,
} from './policy.js';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tocsinLeaseAcquire(key: string, tokenKey: string, holder: string, ttlMs: string): Result<number | null, Context>;
    tocsinLeaseRenew(key: string, value: string, ttlMs: string): Result<number, Context>;
    tocsinLeaseRelease(key: string, value: string): Result<number, Context>;
  }
}

/**
 * SET PX with the next fencing token in the value (`holder#token`) when the key is free or still
 * this holder's (with any token: a holder that stepped down while Redis was away takes its own
 * lease back at once instead of waiting for it to lapse; the new token fences anything its old
 * one had in flight). The token counter only moves when the lease is granted. Returns the token,
 * or nil when someone else holds the lease.
 */
const ACQUIRE = `
local current = redis.call('GET', KEYS[1])
local mine = ARGV[1] .. '#'
if current and string.sub(current, 1, #mine) ~= mine then
  return false
end
local token = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
redis.call('SET', KEYS[1], mine .. token, 'PX', ARGV[2])
redis.call('SET', KEYS[2], token)
return token
`;
/** Extends the lease only if it is still ours (same holder and token). */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;
/** Deletes the lease only if it is still ours. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * `replaced`: Redis says the key is someone else's. `expired`: the lease can no longer be counted
 * on: its validity ran out, a renewal failed, or the connection to Redis closed (the log line says
 * which).
 */
export type LostReason = 'expired' | 'replaced';

export interface RedisLeaseOptions {
  readonly redis: Redis;
  /** The lease key. Default `tocsin:leader`; the fencing counter is `<key>:token`. */
  readonly key?: string;
  /** Default 10000. */
  readonly ttlMs?: number;
  /** Default 3000. */
  readonly renewEveryMs?: number;
  /** How often a standby tries to take the lease. Default `renewEveryMs`. */
  readonly retryEveryMs?: number;
  /** Who holds it (shown in the key's value). Default `hostname:pid:random`. */
  readonly holder?: string;
  readonly clock?: TimerClock;
  readonly logger?: Logger;
  /** Called when this process becomes the leader, with its fencing token. */
  readonly onAcquired?: (token: number) => void;
  /** Called when this process stops being the leader without having released the lease. */
  readonly onLost?: (reason: LostReason) => void;
}

/**
 * A leader lease in Redis: at most one holder at a time, renewed while held, with a fencing token
 * that grows with each acquisition. `isLeader()` turns false the moment the client's connection
 * closes or a renewal fails, and at the latest when the lease may have expired by the local clock
 * (a renewal that hangs), so a holder that cannot reach Redis stops acting at once, and always
 * before anyone else can take over; it campaigns again when the connection is back. The token
 * (via `Fence`, see RedisStore.withFence) makes Redis refuse the writes a deposed leader still
 * had in flight.
 */
export class RedisLease implements Fence {
  readonly key: string;
  readonly fenceKey: string;
  readonly holder: string;
  readonly timing: LeaseTiming;
  readonly #redis: Redis;
  readonly #clock: TimerClock;
  readonly #opts: RedisLeaseOptions;
  #state: LeaseState;
  #timer: TimerHandle | undefined;
  #expiry: TimerHandle | undefined;
  #running = false;
  #step: Promise<void> = Promise.resolve();
  /** A #tick is running (a reconnection meanwhile is handled when it ends). */
  #ticking = false;
  /** The connection came back while a tick ran: campaign again as soon as it ends. */
  #reconnected = false;
  readonly #onClose = (): void => this.#disconnected();
  readonly #onReady = (): void => this.#reconnect();

  constructor(opts: RedisLeaseOptions) {
    this.#opts = opts;
    this.#redis = opts.redis;
    this.#clock = opts.clock ?? systemClock;
    this.key = opts.key ?? 'tocsin:leader';
    this.fenceKey = `${this.key}:token`;
    this.holder = opts.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const renewEveryMs = opts.renewEveryMs ?? 3000;
    this.timing = { ttlMs: opts.ttlMs ?? 10_000, renewEveryMs, retryEveryMs: opts.retryEveryMs ?? renewEveryMs };
    checkTiming(this.timing);
    this.#state = { held: false, nextAttemptAt: this.#clock.now() };
    this.#redis.defineCommand('tocsinLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    this.#redis.defineCommand('tocsinLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    this.#redis.defineCommand('tocsinLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    // The shared client's connection: a holder steps down the moment it closes, not when its
    // validity runs out (up to a ttl later), and everyone campaigns again when it is back.
    this.#redis.on('close', this.#onClose);
    this.#redis.on('end', this.#onClose);
    this.#redis.on('ready', this.#onReady);
  }

  /** True while the lease is ours by the local clock. */
  isLeader(): boolean {
    return isLeader(this.#state, this.#clock.now());
  }

  /** The fencing token while leader, else undefined. */
  token(): number | undefined {
    return this.#state.held && this.isLeader() ? this.#state.token : undefined;
  }

  /** One attempt to take the lease; resolves with the token when granted. Redis errors reject. */
  async acquire(): Promise<number | undefined> {
    // Already ours: SET NX would fail on our own key and look like a loss.
    const current = this.token();
    if (current !== undefined) return current;
    const sentAt = this.#clock.now();
    const token = await this.#redis.tocsinLeaseAcquire(this.key, this.fenceKey, this.holder, String(this.timing.ttlMs));
    this.#setState(afterAcquire(sentAt, token ?? undefined, this.timing));
    if (token != null) {
      this.#opts.logger?.info({ lease: this.key, holder: this.holder, fencingToken: token }, 'leader lease acquired');
      this.#opts.onAcquired?.(token);
    }
    return token ?? undefined;
  }

  /** One renewal; false when the lease was lost (then `onLost` has been called). Redis errors reject. */
  async renew(): Promise<boolean> {
    const state = this.#state;
    if (!state.held) return false;
    const sentAt = this.#clock.now();
    let outcome: 'renewed' | 'replaced' | 'error';
    try {
      const ok = await this.#redis.tocsinLeaseRenew(this.key, this.#value(state.token), String(this.timing.ttlMs));
      outcome = ok === 1 ? 'renewed' : 'replaced';
    } catch (err) {
      // No answer: step down now (policy.afterRenew), unless the lease was already lost meanwhile.
      if (this.#state === state) {
        this.#setState(afterRenew(state, sentAt, 'error', this.timing));
        this.#lost('expired', `renewal failed: ${(err as Error).message}`);
      }
      throw err;
    }
    // The lease may have been lost (expired locally) while the call was in flight: stay lost.
    if (this.#state !== state) return false;
    this.#setState(afterRenew(state, sentAt, outcome, this.timing));
    if (outcome === 'replaced') this.#lost('replaced');
    return outcome === 'renewed';
  }

  /** Gives the lease up (deleting the key only if it is still ours). */
  async release(): Promise<void> {
    const state = this.#state;
    this.#setState(released(this.#clock.now(), this.timing));
    if (state.held) await this.#redis.tocsinLeaseRelease(this.key, this.#value(state.token));
  }

  /** Campaigns: tries to acquire every `retryEveryMs`, renews every `renewEveryMs` while leader. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /** Stops campaigning and releases the lease if held (errors while Redis is away are ignored). */
  async stop(): Promise<void> {
    this.#running = false;
    this.#redis.off('close', this.#onClose);
    this.#redis.off('end', this.#onClose);
    this.#redis.off('ready', this.#onReady);
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    await this.#step;
    await this.release().catch(() => undefined);
  }

  #value(token: number): string {
    return `${this.holder}#${token}`;
  }

  #setState(state: LeaseState): void {
    this.#state = state;
    if (this.#expiry) this.#clock.clearTimeout(this.#expiry);
    this.#expiry = undefined;
    if (state.held) {
      // Fires onLost on time even while a renewal call hangs.
      const ms = Math.max(0, state.validUntil - this.#clock.now());
      this.#expiry = this.#clock.setTimeout(() => this.#checkExpiry(), ms);
      this.#expiry.unref?.();
    }
  }

  #checkExpiry(): void {
    if (this.#state.held && !this.isLeader()) {
      this.#setState(released(this.#clock.now(), this.timing));
      this.#lost('expired', 'validity ran out without a renewal');
    }
  }

  #lost(reason: LostReason, cause?: string): void {
    this.#opts.logger?.warn({ lease: this.key, holder: this.holder, reason, cause }, 'leader lease lost');
    this.#opts.onLost?.(reason);
  }

  /** The client's connection closed (Redis stopped, restarted or unreachable). */
  #disconnected(): void {
    const held = this.#state.held;
    this.#setState(afterDisconnect(this.#state, this.#clock.now(), this.timing));
    if (held) this.#lost('expired', 'connection to Redis lost');
  }

  /** The client is connected again: campaign now rather than at the next retry time. */
  #reconnect(): void {
    if (!this.#running) return;
    if (this.#ticking) {
      this.#reconnected = true;
      return;
    }
    this.#setState(afterReconnect(this.#state, this.#clock.now()));
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#step = this.#tick();
    }, ms);
    this.#timer.unref?.();
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    this.#ticking = true;
    try {
      switch (decide(this.#state, this.#clock.now(), this.timing)) {
        case 'acquire':
          await this.acquire();
          break;
        case 'renew':
          await this.renew();
          break;
        case 'expire':
          this.#checkExpiry();
          break;
        case 'wait':
          break;
      }
    } catch (err) {
      // Redis away: a standby keeps trying (a leader has stepped down, see renew()).
      this.#opts.logger?.warn({ err, lease: this.key }, 'leader lease: Redis did not answer');
      if (!this.#state.held) this.#setState(released(this.#clock.now(), this.timing));
    } finally {
      this.#ticking = false;
    }
    if (this.#reconnected) {
      // The connection came back while this tick's call was failing: try again now.
      this.#reconnected = false;
      this.#setState(afterReconnect(this.#state, this.#clock.now()));
    }
    this.#schedule(nextDecisionIn(this.#state, this.#clock.now(), this.timing));
  }
}
