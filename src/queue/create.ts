import type { ProbeKind } from '../../probes/probe.js';
import type { TimerClock } from '../clock.js';
import type { Plan } from '../config/plan.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { ResultsBus } from '../results/bus.js';
import { redisPassword } from './bullmq-keys.js';
import { InlineQueue } from './inline.js';
import type { ProbeQueue } from './port.js';

export interface QueueDeps {
  readonly kinds: Readonly<Record<string, ProbeKind>>;
  readonly bus: ResultsBus;
  readonly metrics: Metrics;
  readonly clock: TimerClock;
  readonly logger: Logger;
  /** Where `queue.password_env` is read. Default: `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Builds the ProbeQueue adapter the plan names. BullMQ and ioredis are loaded only for a fleet:
 * an embedded daemon never pays for them (memory, start-up).
 */
export async function createQueue(plan: Plan, deps: QueueDeps): Promise<ProbeQueue> {
  switch (plan.queue.kind) {
    case 'inline':
      return new InlineQueue({ ...deps, vantage: plan.vantage, concurrency: plan.queue.concurrency });
    case 'bullmq': {
      const { BullmqQueue } = await import('./bullmq.js');
      return new BullmqQueue({ ...deps, redisUrl: plan.queue.redis_url, redisPassword: redisPassword(plan, deps.env) });
    }
  }
}
