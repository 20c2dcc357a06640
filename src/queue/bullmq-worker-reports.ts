import type { Metrics } from '../metrics/registry.js';
import type { WorkerReport } from './bullmq-jobs.js';

/** A worker not heard from for this long no longer counts in its vantage's buffered gauge. */
const FORGET_AFTER_MS = 60_000;

interface Seen {
  readonly report: WorkerReport;
  readonly at: number;
}

/**
 * Turns the workers' cumulative counters into `tocsin run`'s metrics: counters grow by what each
 * worker added since its last report (a restarted worker starts again from zero), and the
 * buffered gauge of a vantage is the sum of its live workers' last reports.
 */
export class WorkerReports {
  readonly #last = new Map<string, Seen>();

  constructor(private readonly metrics: Metrics) {}

  record(report: WorkerReport, now: number): void {
    const key = `${report.vantage}\u0000${report.worker}`;
    const prev = this.#last.get(key)?.report;
    const delta = (field: 'dropped_overflow' | 'dropped_expired' | 'fallback_checks'): number => {
      const before = prev?.[field] ?? 0;
      // A smaller count is a new process under the same name: all of it is new.
      return report[field] >= before ? report[field] - before : report[field];
    };
    const { vantage } = report;
    const overflow = delta('dropped_overflow');
    const expired = delta('dropped_expired');
    const fallback = delta('fallback_checks');
    if (overflow > 0) this.metrics.workerResultsDropped.inc({ vantage, reason: 'overflow' }, overflow);
    if (expired > 0) this.metrics.workerResultsDropped.inc({ vantage, reason: 'expired' }, expired);
    if (fallback > 0) this.metrics.workerFallbackChecks.inc({ vantage }, fallback);
    this.#last.set(key, { report, at: now });
    this.#refreshGauge(vantage, now);
  }

  #refreshGauge(vantage: string, now: number): void {
    let buffered = 0;
    for (const [key, seen] of this.#last) {
      if (now - seen.at > FORGET_AFTER_MS) this.#last.delete(key);
      else if (seen.report.vantage === vantage) buffered += seen.report.buffered;
    }
    this.metrics.workerResultsBuffered.set({ vantage }, buffered);
  }
}
