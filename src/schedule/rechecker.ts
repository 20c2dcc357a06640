import type { Clock } from '../clock.js';
import type { Plan, RecheckPlan } from '../config/plan.js';
import { rulesForPlan } from '../engine/pack.js';
import type { Rule } from '../engine/rules.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Metrics, RecheckResult } from '../metrics/registry.js';
import type { CheckJob } from './check-job.js';
import {
  newRecheckSeries,
  ratioNeeds,
  type RecheckGate,
  recheckGates,
  type RecheckSeries,
  recheckSeriesIdle,
  stepRecheckSeries,
} from './recheck.js';
import { TokenBucket } from './token-bucket.js';

/** Re-checks started per second, all probes together, unless `queue.recheck_rate` says otherwise. */
export const DEFAULT_RECHECK_RATE = 200;
/** A re-check not answered this long after its deadline is taken as lost (a worker died with it). */
const LOST_AFTER_MS = 10_000;

interface ProbeRechecks {
  readonly plan: RecheckPlan;
  readonly gates: readonly RecheckGate[];
  /** A failure starting this soon after the series' previous one is not re-checked (flapping). */
  readonly flapWindowMs: number;
  /** Failed checks in a row after which a recovery is re-checked (`ratioNeeds`). */
  readonly solidAfter: number;
  /** What the series' counts mean: a reload changing it starts them afresh. */
  readonly signature: string;
}

export interface RecheckerDeps {
  readonly clock: Clock;
  readonly metrics: Pick<Metrics, 'rechecks'>;
}

/**
 * Decides re-checks (docs/rules.md, "Re-checks"), for either queue adapter: after each check of a
 * job, whether a rule it feeds is half-way (failing, or recovering, for fewer checks than the rule
 * needs) and when to check it again. At most one re-check per job pending at a time, at most
 * `max` after each regular check, and all of them together at most `queue.recheck_rate` a second
 * (a token bucket): a zone-wide failure does not multiply the load on the network and targets.
 *
 * The per-result cost is the probe's few gates; memory is one entry per series being counted
 * (failing or recovering), dropped once it is healthy again.
 */
export class Rechecker {
  #probes = new Map<string, ProbeRechecks>();
  readonly #series = new Map<string, RecheckSeries>();
  /** Re-checks of a job since its last regular check. */
  readonly #runs = new Map<string, number>();
  /** Jobs with a re-check asked for and not yet run: when it counts as lost. */
  readonly #pending = new Map<string, number>();
  /**
   * When each series last started failing, oldest first (a series is moved to the end when it
   * fails again), kept for the longest flap window: pruned from the front, so the cost per
   * failure is constant and the memory is the series that failed within that window.
   */
  readonly #episodes = new Map<string, number>();
  #flapWindowMs = 0;
  readonly #bucket: TokenBucket;

  constructor(private readonly deps: RecheckerDeps) {
    this.#bucket = new TokenBucket(deps.clock, DEFAULT_RECHECK_RATE);
  }

  /** Re-checks asked for and not yet run (or lost). */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Takes a (re)loaded plan: its probes' re-check settings and gates, the rate. Counts of probes
   * whose gates are unchanged are kept, so a reload during an outage does not restart its count.
   */
  setPlan(plan: Plan, rules?: readonly Rule[]): void {
    const rate = plan.queue.recheck_rate ?? DEFAULT_RECHECK_RATE;
    if (rate !== this.#bucket.rate) this.#bucket.setRate(rate);
    const next = new Map<string, ProbeRechecks>();
    // The rules are compiled only when some probe re-checks (hand-built plans have none).
    let compiled = rules;
    for (const probe of plan.probes) {
      if (!probe.recheck) continue;
      compiled ??= rulesForPlan(plan);
      const gates = recheckGates(probe, compiled);
      // A probe no counting rule watches may still name a time its verdict changes (`dueAt`).
      if (gates.length === 0 && probe.kind !== 'lb_sync') continue;
      const { flapWindowMs, solidStreak } = ratioNeeds(probe, compiled);
      const signature = JSON.stringify([
        probe.recheck,
        gates.map((g) => [g.rule.id, g.failAfter, g.recoverAfter, [...g.rule.errors]]),
        flapWindowMs,
        solidStreak,
      ]);
      next.set(probe.id, { plan: probe.recheck, gates, flapWindowMs, solidAfter: solidStreak, signature });
    }
    this.#flapWindowMs = Math.max(0, ...[...next.values()].map((p) => p.flapWindowMs));
    const kept = (probe: string): boolean =>
      next.get(probe)?.signature !== undefined && next.get(probe)?.signature === this.#probes.get(probe)?.signature;
    for (const map of [this.#series, this.#runs, this.#pending, this.#episodes]) {
      for (const key of map.keys()) if (!kept(probeOf(key))) map.delete(key);
    }
    this.#probes = next;
  }

  /**
   * After a check of `job` ended with `results` (its re-check when `recheck`): the time (ms) to
   * re-check it at, or undefined. A re-check comes `recheck.interval` after the start of the check
   * it follows, never before now.
   */
  after(job: CheckJob, results: readonly ProbeResult[], recheck: boolean): number | undefined {
    if (recheck) {
      this.#pending.delete(job.key);
      this.#count(job.probe.id, results.every((r) => r.ok) ? 'ok' : 'failed');
    } else {
      this.#runs.delete(job.key);
    }
    const probe = this.#probes.get(job.probe.id);
    if (!probe) return undefined;
    const started = Date.parse(results[0]?.at ?? '');
    const due = dueAt(results, started + job.probe.intervalMs);
    // The common case, healthy and nothing being counted anywhere: no key built, nothing looked up.
    if (this.#series.size === 0 && due === undefined && results.every((r) => r.ok)) return undefined;
    let halfway = false;
    for (const r of results) {
      const key = seriesKey(r);
      let s = this.#series.get(key);
      if (!s) {
        // A healthy check of a series not being counted changes nothing: no entry for it.
        if (r.ok) continue;
        s = newRecheckSeries(probe.gates, this.#flapping(key, Date.parse(r.at), probe.flapWindowMs));
        this.#series.set(key, s);
      }
      if (stepRecheckSeries(probe.gates, s, r.ok, r.error, probe.solidAfter) && !s.quiet) halfway = true;
      else if (recheckSeriesIdle(s)) this.#series.delete(key);
    }
    if (!halfway && due === undefined) {
      this.#runs.delete(job.key);
      return undefined;
    }
    const now = this.deps.clock.now();
    const lostAt = this.#pending.get(job.key);
    if (lostAt !== undefined && lostAt > now) return undefined;
    const runs = this.#runs.get(job.key) ?? 0;
    if (runs >= probe.plan.max) return undefined;
    if (!this.#bucket.take()) {
      this.#count(job.probe.id, 'skipped');
      return undefined;
    }
    this.#runs.set(job.key, runs + 1);
    let at = Math.max(now, (Number.isFinite(started) ? started : now) + probe.plan.intervalMs);
    if (!halfway && due !== undefined) at = Math.max(at, due);
    this.#pending.set(job.key, at + job.probe.timeoutMs + LOST_AFTER_MS);
    return at;
  }

  /** Notes that a series starts failing at `at`; true when it did already within `windowMs`. */
  #flapping(key: string, at: number, windowMs: number): boolean {
    const previous = this.#episodes.get(key);
    this.#episodes.delete(key);
    if (this.#flapWindowMs > 0) this.#episodes.set(key, at);
    for (const [k, t] of this.#episodes) {
      if (t >= at - this.#flapWindowMs) break;
      this.#episodes.delete(k);
    }
    return previous !== undefined && windowMs > 0 && at - previous < windowMs;
  }

  /** A re-check asked for could not start (its series busy, the pool full, Redis away): counted. */
  skipped(job: CheckJob): void {
    this.#pending.delete(job.key);
    this.#count(job.probe.id, 'skipped');
  }

  /** Forgets pending re-checks (the queue stopped): none of them will run. */
  clearPending(): void {
    this.#pending.clear();
  }

  #count(probe: string, result: RecheckResult): void {
    this.deps.metrics.rechecks.inc({ probe, result });
  }
}

/**
 * The earliest time a healthy result says its verdict will change, before `before` (the next
 * regular check): an lb_sync instance differing within its `max_lag` names when the lag reaches
 * it (`out_of_sync_at`), and is re-checked then instead of an interval later. Undefined if none.
 */
function dueAt(results: readonly ProbeResult[], before: number): number | undefined {
  let due: number | undefined;
  for (const r of results) {
    const at = r.ok ? r.observations?.out_of_sync_at : undefined;
    if (typeof at !== 'string') continue;
    const t = Date.parse(at);
    if (t < before && (due === undefined || t < due)) due = t;
  }
  return due;
}

/** Series and job keys both start with the probe id and a NUL. */
function probeOf(key: string): string {
  const end = key.indexOf('\u0000');
  return end < 0 ? key : key.slice(0, end);
}

function seriesKey(r: ProbeResult): string {
  return `${r.probe}\u0000${r.target ?? ''}\u0000${r.vantage}`;
}
