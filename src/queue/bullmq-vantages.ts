import type { Clock } from '../clock.js';
import type { Plan } from '../config/plan.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';

/** A vantage silent for this many of its shortest probe interval is stale (as the engine's quorum). */
export const STALE_INTERVALS = 3;

export interface VantageView {
  readonly vantage: string;
  /** When `tocsin run` last heard from the vantage (a result or a skipped check), ms; null: never. */
  readonly lastSeenAt: number | null;
  readonly stale: boolean;
}

/**
 * The fleet's view of each vantage, for operators: a vantage whose workers are down (or cut from
 * Redis) stops reporting, and `tocsin_vantage_stale{vantage}` turns 1 with a log line. The rules
 * engine has its own per-series staleness for quorum; this is only the vantage-level summary.
 */
export class VantageMonitor {
  #staleAfterMs = new Map<string, number>();
  readonly #lastSeen = new Map<string, number>();
  readonly #stale = new Map<string, boolean>();
  #since: number;

  constructor(
    private readonly deps: { clock: Clock; logger: Logger; metrics: Metrics },
  ) {
    this.#since = deps.clock.now();
  }

  /** Sets the vantages watched and how long each may stay silent (from the plan's intervals). */
  setPlan(plan: Plan): void {
    const shortest = new Map<string, number>();
    for (const p of plan.probes) {
      for (const v of p.vantages) shortest.set(v, Math.min(shortest.get(v) ?? Infinity, p.intervalMs));
    }
    for (const v of this.#staleAfterMs.keys()) {
      if (!shortest.has(v)) {
        this.deps.metrics.vantageStale.remove({ vantage: v });
        this.#stale.delete(v);
      }
    }
    this.#staleAfterMs = new Map([...shortest].map(([v, ms]) => [v, ms * STALE_INTERVALS]));
  }

  /** Restarts the grace period of vantages never heard from (at start). */
  reset(): void {
    this.#since = this.deps.clock.now();
  }

  seen(vantage: string, at: number = this.deps.clock.now()): void {
    this.#lastSeen.set(vantage, Math.max(at, this.#lastSeen.get(vantage) ?? 0));
  }

  /** Re-evaluates every vantage; called periodically. */
  check(): void {
    const now = this.deps.clock.now();
    for (const [vantage, staleAfterMs] of this.#staleAfterMs) {
      const last = this.#lastSeen.get(vantage);
      const stale = now - (last ?? this.#since) > staleAfterMs;
      const was = this.#stale.get(vantage);
      if (was !== stale) {
        if (stale) {
          this.deps.logger.warn(
            { vantage, lastSeenAt: last === undefined ? null : new Date(last).toISOString(), staleAfterMs },
            'vantage stale: no result from its workers',
          );
        } else if (was === true) {
          this.deps.logger.info({ vantage }, 'vantage reporting again');
        }
        this.#stale.set(vantage, stale);
      }
      this.deps.metrics.vantageStale.set({ vantage }, stale ? 1 : 0);
    }
  }

  views(): VantageView[] {
    return [...this.#staleAfterMs.keys()].map((vantage) => ({
      vantage,
      lastSeenAt: this.#lastSeen.get(vantage) ?? null,
      stale: this.#stale.get(vantage) ?? false,
    }));
  }
}
