import type { ProbeResult } from '../events/probe-result.js';
import { seriesKey } from '../results/key.js';

/** One check as the console's latency chart draws it. */
export interface HistoryPoint {
  /** Epoch ms of the check. */
  readonly at: number;
  readonly ok: boolean;
  /** Undefined when the probe reported no duration. */
  readonly durationMs: number | undefined;
}

/** Checks kept per series (probe, target, vantage). */
export const HISTORY_POINTS = 40;
/** Series kept at most (a config with more targets keeps the most recently seen ones). */
export const HISTORY_SERIES = 5000;

/**
 * A bounded in-memory ring of recent checks per series, fed from the results bus, for the
 * console's latency sparklines. Not persisted: after a restart the history refills within
 * {@link HISTORY_POINTS} intervals, and the latest result per series still comes from the store.
 * Memory is bounded by HISTORY_SERIES × HISTORY_POINTS points.
 */
export class ResultHistory {
  readonly #series = new Map<string, HistoryPoint[]>();
  readonly #points: number;
  readonly #maxSeries: number;

  constructor(opts: { points?: number; maxSeries?: number } = {}) {
    this.#points = opts.points ?? HISTORY_POINTS;
    this.#maxSeries = opts.maxSeries ?? HISTORY_SERIES;
  }

  record(r: ProbeResult): void {
    const key = seriesKey(r);
    let ring = this.#series.get(key);
    if (ring) {
      // Least recently written series first in the map: eviction drops a series no longer probed.
      this.#series.delete(key);
    } else {
      ring = [];
      if (this.#series.size >= this.#maxSeries) {
        const oldest = this.#series.keys().next();
        if (!oldest.done) this.#series.delete(oldest.value);
      }
    }
    this.#series.set(key, ring);
    const at = Date.parse(r.at);
    const point: HistoryPoint = { at, ok: r.ok, durationMs: r.duration_ms };
    // Remote workers may deliver late: keep the ring in time order.
    let i = ring.length;
    while (i > 0 && (ring[i - 1]?.at ?? 0) > at) i--;
    ring.splice(i, 0, point);
    if (ring.length > this.#points) ring.splice(0, ring.length - this.#points);
  }

  /** The recent checks of one series, oldest first (a copy). */
  series(r: Pick<ProbeResult, 'probe' | 'target' | 'vantage'>): HistoryPoint[] {
    return [...(this.#series.get(seriesKey(r)) ?? [])];
  }
}
