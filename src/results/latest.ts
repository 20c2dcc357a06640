import type { ProbeResult } from '../events/probe-result.js';
import { seriesKey } from './key.js';

/**
 * The latest result per (probe, target, vantage), in memory, for the API. Seeded from the store at
 * start so a restarted daemon shows last-known state at once.
 */
export class LatestResults {
  readonly #byKey = new Map<string, ProbeResult>();

  record(result: ProbeResult): void {
    const key = seriesKey(result);
    const prev = this.#byKey.get(key);
    // Results may arrive out of order from remote workers; keep the newest.
    if (prev === undefined || prev.at <= result.at) this.#byKey.set(key, result);
  }

  forProbe(probe: string): ProbeResult[] {
    return [...this.#byKey.values()].filter((r) => r.probe === probe);
  }

  all(): ProbeResult[] {
    return [...this.#byKey.values()];
  }
}
