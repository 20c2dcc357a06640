import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import { FLEET_KEYS, queueName } from '../queue/bullmq-keys.js';

/** A worker whose heartbeat is older than this has left the vantage. */
const GONE_AFTER_MS = 20_000;

/**
 * The workers of one vantage, as seen through their heartbeats in Redis (`tocsin:workers:<vantage>`):
 * what a worker needs to take only its share of the checks while Redis is away. The list is the
 * last one seen; during an outage it cannot change.
 */
export class VantageMembers {
  #members: string[] = [];
  readonly #key: string;

  constructor(
    private readonly redis: Redis,
    vantage: string,
    readonly self: string,
    private readonly clock: Clock,
  ) {
    this.#key = `${FLEET_KEYS.workersPrefix}:${queueName(vantage)}`;
  }

  /** The live members when last seen (this worker included). */
  get members(): readonly string[] {
    return this.#members;
  }

  /** Records this worker's heartbeat and reads the others'; forgets the long gone. */
  async beat(): Promise<void> {
    const now = this.clock.now();
    const [, all] = (await this.redis
      .multi()
      .hset(this.#key, this.self, String(now))
      .hgetall(this.#key)
      .exec()) ?? [[null, 0], [null, {}]];
    const seen = (all?.[1] ?? {}) as Record<string, string>;
    const live: string[] = [];
    const gone: string[] = [];
    for (const [id, at] of Object.entries(seen)) {
      if (now - Number(at) <= GONE_AFTER_MS) live.push(id);
      else gone.push(id);
    }
    if (gone.length > 0) await this.redis.hdel(this.#key, ...gone);
    this.#members = live.sort();
  }

  /** Leaves the vantage (on stop), so the others take its share at once in the next outage. */
  async leave(): Promise<void> {
    await this.redis.hdel(this.#key, this.self);
  }
}
