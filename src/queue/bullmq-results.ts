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
/** Entries per XRANGE when replaying. */
const REPLAY_PAGE = 1000;

/** The XADD arguments appending one message to the results stream (worker side). */
export function fleetMessageArgs(msg: FleetMessage): [string, 'MAXLEN', '~', number, '*', 'm', string] {
  return [FLEET_KEYS.results, 'MAXLEN', '~', STREAM_MAX_LEN, '*', 'm', JSON.stringify(msg)];
}

/** Appends one message to the results stream (worker side). */
export async function appendFleetMessage(redis: Redis, msg: FleetMessage): Promise<void> {
  await redis.xadd(...fleetMessageArgs(msg));
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
  #lastId: string | undefined;
  #starting: Promise<string> | undefined;
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

  /**
   * The id of the newest entry delivered (the stream's end when this reader started, before the
   * first). Deliveries are synchronous, so every entry up to it has reached `onMessage`.
   */
  get delivered(): string | undefined {
    return this.#lastId;
  }

  async position(): Promise<string> {
    if (this.#lastId !== undefined) return this.#lastId;
    this.#starting ??= this.opts.redis
      .xrevrange(FLEET_KEYS.results, '+', '-', 'COUNT', 1)
      .then((reply) => {
        this.#lastId ??= reply[0]?.[0] ?? '0-0';
        return this.#lastId;
      })
      .finally(() => {
        this.#starting = undefined;
      });
    return this.#starting;
  }

  async #run(): Promise<void> {
    const { redis, logger } = this.opts;
    let failing = false;
    while (!this.#stopping) {
      try {
        const from = await this.position();
        const reply = (await redis.xread(
          'COUNT',
          READ_COUNT,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          FLEET_KEYS.results,
          from,
        )) as [string, [string, string[]][]][] | null;
        if (failing) {
          logger.info('results stream readable again');
          failing = false;
        }
        if (this.#stopping) return;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            this.#lastId = id;
            const msg = parseFleetMessage(fields);
            if (msg) this.opts.onMessage(msg);
            else if (this.invalid++ === 0) logger.warn('ignoring a malformed message on the results stream');
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
}

/** The fleet message an entry of the results stream holds; undefined for anything else. */
export function parseFleetMessage(fields: readonly string[]): FleetMessage | undefined {
  const i = fields.indexOf('m');
  const raw = i >= 0 ? fields[i + 1] : undefined;
  if (raw === undefined) return undefined;
  try {
    const parsed = FleetMessage.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Stream ids (`ms-seq`) in order: -1, 0 or 1. */
export function compareStreamIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? Math.sign(am - bm) : Math.sign(as - bs);
}

/**
 * Reads the entries after `after` up to `until` (inclusive), oldest first, a page at a time, and
 * hands each page's messages to `onPage`. `gap` is true when the entry `after` itself is gone:
 * what followed it may have been trimmed (MAXLEN) or lost with Redis's data.
 */
export async function readStreamRange(
  redis: Redis,
  after: string,
  until: string,
  onPage: (messages: readonly FleetMessage[]) => void,
): Promise<{ gap: boolean }> {
  if (compareStreamIds(after, until) >= 0) return { gap: false };
  const gap = after !== '0-0' && (await redis.xrange(FLEET_KEYS.results, after, after)).length === 0;
  let from = `(${after}`;
  for (;;) {
    const page = await redis.xrange(FLEET_KEYS.results, from, until, 'COUNT', REPLAY_PAGE);
    const messages: FleetMessage[] = [];
    for (const [, fields] of page) {
      const msg = parseFleetMessage(fields);
      if (msg) messages.push(msg);
    }
    onPage(messages);
    const last = page.at(-1)?.[0];
    if (last === undefined || page.length < REPLAY_PAGE) return { gap };
    from = `(${last}`;
  }
}
