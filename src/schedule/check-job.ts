import type { ProbePlan } from '../config/plan.js';

/**
 * One schedulable check: a probe, the targets one run covers (one, or all for grouped kinds), a vantage.
 * The scheduler and the re-checker pace these; the queue adapters run them (src/queue).
 */
export interface CheckJob {
  /** Stable identity: probe, target group and vantage. */
  readonly key: string;
  readonly probe: ProbePlan;
  readonly targets: readonly string[];
  readonly vantage: string;
}
