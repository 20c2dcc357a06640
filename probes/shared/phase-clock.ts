import { performance } from 'node:perf_hooks';
import { roundMs } from './deadline.js';

/**
 * Measures consecutive phases of a check (dns → connect → tls → ttfb → transfer) and knows which
 * one is in progress, so that a timeout or a broken connection can name it. Time spent in a phase
 * accumulates when the phase recurs (one check, several redirect hops), as Blackbox exporter sums
 * its phase durations over redirects.
 */
export class PhaseClock<P extends string = string> {
  private phase: P | undefined;
  private since = 0;
  private readonly totals = new Map<P, number>();

  /** The phase in progress, or undefined between operations. */
  get current(): P | undefined {
    return this.phase;
  }

  /** Ends the current phase (if any) and starts `phase`. */
  enter(phase: P): void {
    const now = performance.now();
    this.close(now);
    this.phase = phase;
    this.since = now;
  }

  /** Ends the current phase without starting another one. */
  stop(): void {
    this.close(performance.now());
    this.phase = undefined;
  }

  /** Accumulated milliseconds per phase seen so far (the phase in progress counts up to now). */
  timings(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [phase, ms] of this.totals) out[phase] = roundMs(ms);
    if (this.phase !== undefined) {
      out[this.phase] = roundMs((this.totals.get(this.phase) ?? 0) + performance.now() - this.since);
    }
    return out;
  }

  private close(now: number): void {
    if (this.phase === undefined) return;
    this.totals.set(this.phase, (this.totals.get(this.phase) ?? 0) + (now - this.since));
  }
}
