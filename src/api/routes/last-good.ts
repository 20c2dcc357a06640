import type { Logger } from '../../log.js';

/** What a public reader says in the log when the store goes away and comes back. */
export interface LastGoodWords {
  /** The log lines' prefix: what is served (`status page`). */
  readonly what: string;
  /** What is kept and served, marked stale (`page`, `data`). */
  readonly kept: string;
  /** Said when the store fails before any good read (`no page built yet`). */
  readonly none: string;
  /** Said when the store answers again (`pages`, `data`). */
  readonly fresh: string;
}

/**
 * The last good read of a public document's data, served (marked stale) while the store fails:
 * one kept value, replaced by each fresh one, so memory stays bounded. Before any good read a
 * store failure is thrown (the route answers 503). An outage is logged once when it starts and
 * once when it ends, never per request. `build` runs outside the catch: a bug there surfaces
 * rather than passing for a store outage.
 */
export function lastGoodReader<R, T>(opts: {
  logger: Logger;
  words: LastGoodWords;
  fetch: () => Promise<R>;
  build: (raw: R) => T;
  /** When the kept value was made, for the outage's first log line. */
  madeAt: (value: T) => string;
}): () => Promise<{ value: T; stale: boolean }> {
  const { logger, words } = opts;
  let last: T | undefined;
  let outage = false;
  return async () => {
    let raw: R;
    try {
      raw = await opts.fetch();
    } catch (err) {
      if (!outage) {
        outage = true;
        logger.warn(
          { err, stale_since: last === undefined ? null : opts.madeAt(last) },
          last === undefined
            ? `${words.what}: store unreachable and ${words.none}, answering 503 until it is back`
            : `${words.what}: store unreachable, serving the last good ${words.kept} (marked stale) until it is back`,
        );
      }
      if (last === undefined) throw err;
      return { value: last, stale: true };
    }
    if (outage) {
      outage = false;
      logger.info(`${words.what}: store reachable again, serving fresh ${words.fresh}`);
    }
    last = opts.build(raw);
    return { value: last, stale: false };
  };
}
