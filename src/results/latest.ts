import type { ProbeResult } from '../events/probe-result.js';
import { seriesKey } from './key.js';

/**
 * The latest result per (probe, target, vantage), in memory, for the API and the console. Seeded
 * from the store at start so a restarted daemon shows last-known state at once. Indexed by probe:
 * listing every probe's results must cost the number of series, not probes × series.
 */
export class LatestResults {
  readonly #byProbe = new Map<string, Map<string, ProbeResult>>();

  record(result: ProbeResult): void {
    let series = this.#byProbe.get(result.probe);
    if (!series) {
      series = new Map();
      this.#byProbe.set(result.probe, series);
    }
    const key = seriesKey(result);
    const prev = series.get(key);
    // Results may arrive out of order from remote workers; keep the newest.
    if (prev === undefined || prev.at <= result.at) series.set(key, result);
  }

  forProbe(probe: string): ProbeResult[] {
    return [...(this.#byProbe.get(probe)?.values() ?? [])];
  }
}
