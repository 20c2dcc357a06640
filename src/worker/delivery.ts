import type { Redis } from 'ioredis';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { FleetMessage } from '../queue/bullmq-jobs.js';
import { appendFleetMessage, fleetMessageArgs } from '../queue/bullmq-results.js';
import { type BufferLimits, ResultBuffer } from './result-buffer.js';

/** Messages per pipelined round trip when delivering the buffer. */
const DRAIN_BATCH = 200;

/**
 * How a worker's results reach the results stream: at once while Redis answers; into a bounded
 * buffer while it does not (or while older results still wait there, so nothing overtakes
 * them), delivered oldest first once it answers again. Delivery is at least once: a send whose
 * answer was lost is sent again, and `tocsin run` takes the duplicate as the same event
 * (CONTRACT §5.10).
 */
export class ResultDelivery {
  readonly buffer: ResultBuffer;
  #draining: Promise<void> | undefined;
  /** Within one outage: logged that results are buffered / that the bound drops some. */
  #buffering = false;
  #overflowing = false;
  /** Results delivered from the buffer since it last was empty. */
  #delivered = 0;

  constructor(
    private readonly deps: { redis: Redis; clock: Clock; logger: Logger; limits: BufferLimits },
  ) {
    this.buffer = new ResultBuffer(deps.limits);
  }

  get connected(): boolean {
    return this.deps.redis.status === 'ready';
  }

  /** Resolves once the message is on the stream or in the buffer. */
  async send(msg: FleetMessage): Promise<void> {
    if (!this.buffer.empty || !this.connected) {
      this.#hold(msg);
      void this.drain();
      return;
    }
    const producedAt = this.deps.clock.now();
    try {
      await appendFleetMessage(this.deps.redis, msg);
    } catch {
      // Results buffered while this send was failing are newer: it goes back before them.
      this.#hold(msg, producedAt);
    }
  }

  /** Sends what waits in the buffer, oldest first, while Redis answers; one drain at a time. */
  drain(): Promise<void> {
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
    return this.#draining;
  }

  /** Drops what outlived the age bound; called every second or so. */
  expire(): void {
    const dropped = this.buffer.expire(this.deps.clock.now());
    if (dropped > 0 && !this.#overflowing) {
      this.#overflowing = true;
      this.deps.logger.warn(
        { dropped, maxAgeMs: this.deps.limits.maxAgeMs },
        'results older than queue.buffer.max_age dropped from the buffer (Redis unreachable too long)',
      );
    }
  }

  /** Buffers a message: at the back, or in its place by `producedAt` when a send of it failed. */
  #hold(msg: FleetMessage, producedAt?: number): void {
    const { logger, limits, clock } = this.deps;
    if (!this.#buffering) {
      this.#buffering = true;
      logger.warn(
        { maxResults: limits.maxResults, maxAgeMs: limits.maxAgeMs },
        'Redis cannot take results: keeping them in the buffer, delivered in order once it answers',
      );
    }
    const { buffer } = this;
    const dropped = producedAt === undefined ? buffer.push(msg, clock.now()) : buffer.putBack(msg, producedAt);
    if (dropped > 0 && !this.#overflowing) {
      this.#overflowing = true;
      logger.warn({ maxResults: limits.maxResults }, 'result buffer full: dropping the oldest results');
    }
  }

  async #drain(): Promise<void> {
    const { redis, logger } = this.deps;
    while (!this.buffer.empty && this.connected) {
      const batch = this.buffer.peek(DRAIN_BATCH);
      const pipeline = redis.pipeline();
      for (const msg of batch) pipeline.xadd(...fleetMessageArgs(msg));
      let replies: [Error | null, unknown][] | null;
      try {
        replies = await pipeline.exec();
      } catch {
        return;
      }
      // Replies come in order: what precedes the first error is on the stream.
      let sent = 0;
      for (const [err] of replies ?? []) {
        if (err) break;
        sent++;
      }
      for (const msg of batch.slice(0, sent)) this.#delivered += msg.type === 'results' ? msg.results.length : 0;
      this.buffer.shift(sent);
      if (sent < batch.length) return;
    }
    if (this.buffer.empty && this.#buffering) {
      const { droppedOverflow, droppedExpired } = this.buffer;
      logger.info({ delivered: this.#delivered, droppedOverflow, droppedExpired }, 'buffered results delivered');
      this.#buffering = false;
      this.#overflowing = false;
      this.#delivered = 0;
    }
  }
}
