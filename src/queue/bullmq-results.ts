import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import { FleetMessage } from './bullmq-jobs.js';
import { FLEET_KEYS } from './bullmq-keys.js';

/**
 * Entries kept on the results stream (approximate trim): enough for minutes of a large fleet while
 * `tocsin run` restarts, bounded so a fleet without a reader cannot fill Redis.
 */
const STREAM_MAX_LEN = 100_000;
/** Entries read per call; the read blocks at most this long so `stop` is prompt. */
const READ_COUNT = 512;
const READ_BLOCK_MS = 1000;

/** Appends one message to the results stream (worker side). */
export async function appendFleetMessage(redis: Redis, msg: FleetMessage): Promise<void> {
  await redis.xadd(FLEET_KEYS.results, 'MAXLEN', '~', STREAM_MAX_LEN, '*', 'm', JSON.stringify(msg));
}

export interface ResultsReaderOptions {
  /** A connection of its own: reads block on it. */
  readonly redis: Redis;
  readonly logger: Logger;
  readonly onMessage: (msg: FleetMessage) => void;
}

/**
 * The `tocsin run` end of the results stream. Every `tocsin run` of an installation reads every
 * result (each exposes the metrics of all vantages; only the lease holder feeds its engine), so
 * each keeps its own position instead of sharing a consumer group. It starts at the stream's end:
 * results older than this process are stale. Stream ids are Redis's clock, so after a Redis
 * restart that lost the stream the new entries still come after the last one read.
 */
export class ResultsReader {
  #stopping = false;
  #loop: Promise<void> | undefined;
  /** Messages that were not valid fleet messages (another version of Tocsin, or garbage). */
  invalid = 0;

  constructor(private readonly opts: ResultsReaderOptions) {}

  start(): void {
    this.#stopping = false;
    this.#loop ??= this.#run();
  }

  /** Ends the read loop; no message is delivered after it resolves. */
  async stop(): Promise<void> {
    this.#stopping = true;
    // A blocked XREAD holds the connection: drop it rather than wait for the block to end.
    this.opts.redis.disconnect();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    const { redis, logger } = this.opts;
    let lastId: string | undefined;
    let failing = false;
    while (!this.#stopping) {
      try {
        if (lastId === undefined) {
          const last = (await redis.xrevrange(FLEET_KEYS.results, '+', '-', 'COUNT', 1))[0];
          lastId = last?.[0] ?? '0-0';
        }
        const reply = (await redis.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          FLEET_KEYS.results,
          lastId,
        )) as [string, [string, string[]][]][] | null;
        if (failing) {
          logger.info('results stream readable again');
          failing = false;
        }
        if (this.#stopping) return;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            lastId = id;
            this.#deliver(fields);
          }
        }
      } catch (err) {
        if (this.#stopping) return;
        if (!failing) logger.warn({ err: (err as Error).message }, 'cannot read the results stream; retrying');
        failing = true;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  #deliver(fields: string[]): void {
    const i = fields.indexOf('m');
    const raw = i >= 0 ? fields[i + 1] : undefined;
    let parsed: ReturnType<typeof FleetMessage.safeParse> | undefined;
    try {
      parsed = raw === undefined ? undefined : FleetMessage.safeParse(JSON.parse(raw));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) {
      if (this.invalid++ === 0) this.opts.logger.warn('ignoring a malformed message on the results stream');
      return;
    }
    this.opts.onMessage(parsed.data);
  }
}
