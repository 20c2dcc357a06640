import type { Plan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';

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
  /** Set when results outlive this process (the fleet's results stream): the engine replays them. */
  readonly durable?: DurableResults;
}

/** What a replay found. */
export interface Replayed {
  /** Results handed over. */
  readonly results: number;
  /** Results skipped: too old, or of probes and vantages no longer in the plan. */
  readonly skipped: number;
  /** True when results right after the start position are gone (trimmed, or lost by Redis). */
  readonly gap: boolean;
}

/**
 * Results that outlive the process that read them (the fleet's results stream). The engine
 * acknowledges what it took by saving the position with its snapshot; a leader taking over (or
 * a daemon restarted after kill -9) replays everything after that position, so a crash between
 * reading a result and saving what it changed loses nothing. Positions are opaque strings that
 * compare in delivery order.
 */
export interface DurableResults {
  /** The position of the newest result published on the results bus (the source's end before any). */
  position(): Promise<string>;
  /** The same when already known (no round trip); undefined until the source has been reached. */
  delivered(): string | undefined;
  /** Hands `onResults` the results after `after` up to `until` (inclusive), oldest first. */
  replay(after: string, until: string, onResults: (results: readonly ProbeResult[]) => void): Promise<Replayed>;
}
