import type { ProbeResult } from '../events/probe-result.js';

/** Same series: one probe (the caller's map), one target, one vantage. */
const sameSeries = (a: ProbeResult, b: ProbeResult): boolean => a.target === b.target && a.vantage === b.vantage;

/**
 * The latest result per (probe, target, vantage), in memory, for the API and the console. Seeded
 * from the store at start so a restarted daemon shows last-known state at once. Indexed by probe:
 * listing every probe's results must cost the number of series, not probes × series.
 *
 * A probe has one series embedded (one target, one vantage), a few in a fleet or with several
 * targets: it holds its result itself, or a short array that a scan searches. A map per probe
 * keyed by a built string cost 22 MB of hash tables and 7 MB of key strings at 50,000 probes,
 * and a key string per result (bench/README.md, heap snapshots).
 */
export class LatestResults {
  readonly #byProbe = new Map<string, ProbeResult | ProbeResult[]>();

  record(result: ProbeResult): void {
    const held = this.#byProbe.get(result.probe);
    if (held === undefined) {
      this.#byProbe.set(result.probe, result);
      return;
    }
    if (!Array.isArray(held)) {
      if (sameSeries(held, result)) {
        // Results may arrive out of order from remote workers; keep the newest.
        if (held.at <= result.at) this.#byProbe.set(result.probe, result);
      } else {
        this.#byProbe.set(result.probe, [held, result]);
      }
      return;
    }
    const i = held.findIndex((r) => sameSeries(r, result));
    if (i < 0) held.push(result);
    else if ((held[i] as ProbeResult).at <= result.at) held[i] = result;
  }

  forProbe(probe: string): ProbeResult[] {
    const held = this.#byProbe.get(probe);
    if (held === undefined) return [];
    return Array.isArray(held) ? [...held] : [held];
  }
}
