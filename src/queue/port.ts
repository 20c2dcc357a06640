import type { Plan, ProbePlan } from '../config/plan.js';

/** One schedulable check: a probe, the targets one run covers (one, or all for grouped kinds), a vantage. */
export interface CheckJob {
  /** Stable identity: probe, target group and vantage. */
  readonly key: string;
  readonly probe: ProbePlan;
  readonly targets: readonly string[];
  readonly vantage: string;
}

export interface QueueStats {
  /** Checks on the schedule. */
  readonly scheduled: number;
  /** Checks running now. */
  readonly inflight: number;
  /** Checks waiting for a concurrency slot. */
  readonly waiting: number;
}

/**
 * The ProbeQueue port: runs every check of the plan on its interval and publishes each result to
 * the results bus it was built with. Adapters: `inline` (in-process timers and concurrency) and,
 * for fleets, `bullmq` (job schedulers per probe and vantage, workers at each vantage).
 *
 * Contract, for every adapter:
 * - `sync(plan)` sets the checks to run; calling it again with a new plan adds, removes and
 *   re-times checks without disturbing the unchanged ones.
 * - a check still running when its next slot comes is skipped and counted, never stacked.
 * - `stop(graceMs)` stops scheduling, lets running checks end within `graceMs`, then aborts them;
 *   no result is published after it resolves.
 */
export interface ProbeQueue {
  sync(plan: Plan): Promise<void>;
  start(): Promise<void>;
  stop(graceMs: number): Promise<void>;
  /** True between start() and stop(): what /readyz reports as "the scheduler runs". */
  readonly running: boolean;
  stats(): QueueStats;
}
