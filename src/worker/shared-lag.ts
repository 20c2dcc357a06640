import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type Lag, type LagStore, LagTracker } from '../../probes/lb-sync/lag.js';

/** A lag unseen this long is forgotten (as LagTracker's default): instances removed from the config. */
const TTL_MS = 3_600_000;

/**
 * Differs: keeps (or starts, at `now`) the key's "since" and renews its expiry; else deletes it.
 * Returns since, or -1.
 */
const RECORD = `
local key, differs, now, ttl = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
if differs == '0' then
  redis.call('DEL', key)
  return -1
end
local since = redis.call('GET', key)
if not since then
  since = now
  redis.call('SET', key, since, 'PX', ttl)
else
  redis.call('PEXPIRE', key, ttl)
end
return tonumber(since)
`;

/** Could not compare: a running lag goes on (renewed), none starts. Returns since, or -1. */
const HOLD = `
local since = redis.call('GET', KEYS[1])
if not since then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return tonumber(since)
`;

/**
 * `lb_sync` lags shared by every worker of a vantage, in Redis: a vantage with several workers
 * reports the same lag as one worker would (each check of an instance may run on another
 * worker). While Redis does not answer, the worker's own tracker answers (it records every
 * verdict too), so a check never waits on Redis for its lag.
 */
export class SharedLagStore implements LagStore {
  readonly #local = new LagTracker();

  constructor(
    private readonly redis: Redis,
    private readonly vantage: string,
  ) {}

  async record(key: string, differs: boolean, now: number): Promise<Lag | undefined> {
    const local = this.#local.record(key, differs, now);
    try {
      const since = Number(await this.redis.eval(RECORD, 1, this.#key(key), differs ? '1' : '0', String(now), String(TTL_MS)));
      return since < 0 ? undefined : { since, lagMs: Math.max(0, now - since) };
    } catch {
      return local;
    }
  }

  async hold(key: string, now: number): Promise<Lag | undefined> {
    const local = this.#local.hold(key, now);
    try {
      const since = Number(await this.redis.eval(HOLD, 1, this.#key(key), String(TTL_MS)));
      return since < 0 ? undefined : { since, lagMs: Math.max(0, now - since) };
    } catch {
      return local;
    }
  }

  /** `tocsin:lb_sync:lag:<vantage>:<sha1 of probe id + instance>` (docs/fleet.md). */
  #key(key: string): string {
    return `tocsin:lb_sync:lag:${this.vantage}:${createHash('sha1').update(key).digest('hex')}`;
  }
}
