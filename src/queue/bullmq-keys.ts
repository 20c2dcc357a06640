import { createHash } from 'node:crypto';
import type { Plan } from '../config/plan.js';
import type { CheckJob } from '../schedule/check-job.js';

/**
 * Redis names of the fleet mode. Every key starts with `tocsin:` so one Redis can be shared with
 * other applications (and with the Redis incident store).
 */
export const FLEET_KEYS = {
  /** BullMQ prefix of the probe queues: a vantage's queue lives under `tocsin:probes:<vantage>:*`. */
  probePrefix: 'tocsin:probes',
  /** The stream workers append results to and `tocsin run` reads. */
  results: 'tocsin:results',
  /** Set of the vantages that have a queue, so a vantage dropped from the config is cleaned up. */
  vantages: 'tocsin:vantages',
  /** `tocsin:busy:<vantage>:<scheduler id>`: held while a check runs, so checks never stack. */
  busyPrefix: 'tocsin:busy',
  /** `tocsin:workers:<vantage>`: hash of worker id → last heartbeat (ms), to share checks during an outage. */
  workersPrefix: 'tocsin:workers',
  /** `tocsin:schedule:<vantage>`: a digest of the vantage's job schedulers, set by each sync. */
  schedulePrefix: 'tocsin:schedule',
} as const;

/**
 * BullMQ refuses ":" in queue names and job scheduler ids, while vantage and probe ids may hold
 * one; "%" is not allowed in ids, so "%3A" cannot collide with a real name.
 */
function escapeColon(name: string): string {
  return name.replaceAll(':', '%3A');
}

/** The BullMQ queue name of a vantage (under the `tocsin:probes` prefix). */
export function queueName(vantage: string): string {
  return escapeColon(vantage);
}

/**
 * The job scheduler id of a check inside its vantage's queue: the probe id (readable in Redis)
 * and a short hash of the target group (URLs are long and hold colons).
 */
export function schedulerId(job: CheckJob): string {
  const group = job.key.split('\u0000')[1] ?? '';
  const hash = createHash('sha1').update(group).digest('hex').slice(0, 12);
  return `${escapeColon(job.probe.id)}~${hash}`;
}

/**
 * The key holding a digest of a vantage's schedule: workers re-read the whole schedule (their
 * copy for an outage) only when it changed, not the 10,000 scheduler templates every time.
 */
export function scheduleVersionKey(vantage: string): string {
  return `${FLEET_KEYS.schedulePrefix}:${queueName(vantage)}`;
}

/** The lock key that keeps one check of a scheduler running at a time, across worker processes. */
export function busyKey(vantage: string, scheduler: string): string {
  return `${FLEET_KEYS.busyPrefix}:${queueName(vantage)}:${scheduler}`;
}

/** Redis's password for the fleet queue (`queue.password_env`), when set. */
export function redisPassword(plan: Plan, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return plan.queue.kind === 'bullmq' && plan.queue.password_env ? env[plan.queue.password_env] : undefined;
}

// The Redis URL forms and their ioredis options live in src/redis/connection.ts (with Sentinel);
// re-exported under the names this module had.
export { redactRedisUrl as redactUrl, redisOptions } from '../redis/connection.js';
