import type { Engine } from '../engine/engine.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { DurableResults } from '../queue/port.js';
import type { IncidentStore } from '../store/port.js';
import { answerWithin } from './manager.js';

/**
 * The store key of the results position the engine's snapshot has taken: saved right after the
 * snapshot, so it is never ahead of it (the engine's acknowledgement of the results stream).
 */
export const RESULTS_POSITION_KEY = 'engine.results';
/** How long a replay may take before detection goes on from live results without the rest. */
const REPLAY_WAIT_MS = 15_000;

/** The position saved with the snapshot; undefined before the first save or for anything else. */
export async function savedPosition(store: IncidentStore): Promise<string | undefined> {
  const value = await store.getState(RESULTS_POSITION_KEY);
  const position = (value as { position?: unknown } | undefined)?.position;
  return typeof position === 'string' ? position : undefined;
}

/**
 * Results arriving while the engine recovers wait here, then reach it after the replayed ones,
 * so each series sees its events in order.
 */
export class HeldResults {
  #held: ProbeResult[] | undefined = [];

  constructor(private readonly engine: Engine) {}

  /** The bus listener: held until `release`, then straight to the engine. */
  readonly listener = (r: ProbeResult): void => {
    if (this.#held) this.#held.push(r);
    else this.engine.enqueue(r);
  };

  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const r of held) this.engine.enqueue(r);
  }
}

/**
 * Feeds the engine every result the snapshot did not take: those after the saved position up to
 * where this process's reader stands. Duplicates (a result both replayed and held) change
 * nothing (CONTRACT §5.10). A replay that cannot finish in time (Redis away) is given up with a
 * warning: detection goes on from live results rather than wait.
 */
export async function replayUnseen(deps: {
  engine: Engine;
  store: IncidentStore;
  results: DurableResults;
  metrics: Metrics;
  logger: Logger;
}): Promise<void> {
  const { engine, store, results, metrics, logger } = deps;
  let open = true;
  const replay = (async () => {
    const after = await savedPosition(store);
    const until = await results.position();
    if (after === undefined) return undefined;
    const started = performance.now();
    const replayed = await results.replay(after, until, (batch) => {
      if (!open) return;
      for (const r of batch) engine.enqueue(r);
      metrics.resultsReplayed.inc(batch.length);
    });
    return { after, until, ...replayed, ms: Math.round(performance.now() - started) };
  })();
  try {
    const outcome = await answerWithin(replay, REPLAY_WAIT_MS, () => new Error(`no end of the replay within ${REPLAY_WAIT_MS} ms`));
    if (!outcome) return;
    if (outcome.gap) {
      metrics.resultsReplayGaps.inc();
      logger.warn({ after: outcome.after }, 'the results after the saved position are partly gone from the stream (trimmed, or lost by Redis): some may be missing');
    }
    if (outcome.results > 0 || outcome.gap) logger.info(outcome, 'results replayed from the stream');
  } catch (err) {
    logger.warn({ err }, 'could not replay the results stream; detection goes on from live results');
  } finally {
    // A replay given up may still be reading: what it finds from now on is ignored.
    open = false;
    replay.catch(() => undefined);
  }
}
