import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ProbePlan } from '../config/plan.js';
import { ProbeResult } from '../events/probe-result.js';
import type { CheckJob } from '../schedule/check-job.js';

/** Bumped when the job or result message shape changes; a worker ignores versions it cannot read. */
export const FLEET_WIRE_VERSION = 1;

/**
 * What a probe job carries: the slice of the plan one check needs (kind, spec, targets, timeout),
 * so a worker never reloads the config when probes change — `tocsin run` re-upserts the job
 * schedulers and the next jobs carry the new spec.
 */
export const ProbeJobData = z.object({
  v: z.literal(FLEET_WIRE_VERSION),
  /** Hash of the rest, compared by `sync` to leave unchanged schedulers alone. */
  hash: z.string(),
  vantage: z.string().min(1),
  group: z.string(),
  targets: z.array(z.string()),
  probe: z.object({
    id: z.string().min(1),
    kind: z.string().min(1),
    component: z.string(),
    intervalMs: z.number().positive(),
    timeoutMs: z.number().positive(),
    labels: z.record(z.string(), z.string()),
    targets: z.array(z.string()),
    spec: z.record(z.string(), z.unknown()),
  }),
  /** A re-check after a failure (one job, not a scheduler's), decided by `tocsin run`. */
  recheck: z.literal(true).optional(),
});
export type ProbeJobData = z.infer<typeof ProbeJobData>;

/** The job data of a check (JSON-safe: probe specs are plain data once the loader parsed them). */
export function toJobData(job: CheckJob): ProbeJobData {
  const { probe } = job;
  const body = {
    vantage: job.vantage,
    group: groupOf(job),
    targets: [...job.targets],
    probe: {
      id: probe.id,
      kind: probe.kind,
      component: probe.component,
      intervalMs: probe.intervalMs,
      timeoutMs: probe.timeoutMs,
      labels: { ...probe.labels },
      targets: [...probe.targets],
      spec: probe.spec as Record<string, unknown>,
    },
  };
  const hash = createHash('sha1').update(JSON.stringify(body)).digest('hex');
  return { v: FLEET_WIRE_VERSION, hash, ...body };
}

/** The data of a re-check job of a check: its scheduler's, marked (the hash stays the scheduler's). */
export function toRecheckJobData(job: CheckJob): ProbeJobData {
  return { ...toJobData(job), recheck: true };
}

/** Whether a job's data asks for a re-check (older versions send none). */
export function isRecheckJob(data: unknown): boolean {
  return typeof data === 'object' && data !== null && (data as { recheck?: unknown }).recheck === true;
}

/** The target group of a check key (probe, group, vantage), as job data carries it. */
export function groupOf(job: CheckJob): string {
  return job.key.split('\u0000')[1] ?? '';
}

/** The check a worker runs from a job's data; `undefined` when the data is not a v1 probe job. */
export function fromJobData(data: unknown): CheckJob | undefined {
  const parsed = ProbeJobData.safeParse(data);
  if (!parsed.success) return undefined;
  const d = parsed.data;
  const probe: ProbePlan = {
    ...d.probe,
    vantages: [d.vantage],
    // Workers know probes only through their jobs; messages still name the probe by id.
    source: { file: '(job)', line: 0 },
  };
  return { key: `${probe.id}\u0000${d.group}\u0000${d.vantage}`, probe, targets: d.targets, vantage: d.vantage };
}

/**
 * One message on the results stream, from a worker to `tocsin run`: the results of one check (with
 * the delay between the check's slot and its start, for `tocsin_scheduler_lag_seconds`), or a
 * check skipped because the previous one of the same key was still running.
 */
export const FleetMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('results'),
    v: z.literal(FLEET_WIRE_VERSION),
    vantage: z.string().min(1),
    lag_ms: z.number().nonnegative(),
    results: z.array(ProbeResult),
    // Set for a re-check's results and skips (older workers send neither: fine for a reader).
    recheck: z.literal(true).optional(),
    group: z.string().optional(),
  }),
  z.object({
    type: z.literal('skipped'),
    v: z.literal(FLEET_WIRE_VERSION),
    vantage: z.string().min(1),
    probe: z.string().min(1),
    recheck: z.literal(true).optional(),
    group: z.string().optional(),
  }),
  // A worker's own counters (cumulative since it started), sent every few seconds while Redis
  // answers: what it buffered, dropped and checked on its own during an outage.
  z.object({
    type: z.literal('worker'),
    v: z.literal(FLEET_WIRE_VERSION),
    vantage: z.string().min(1),
    worker: z.string().min(1),
    buffered: z.number().int().nonnegative(),
    dropped_overflow: z.number().int().nonnegative(),
    dropped_expired: z.number().int().nonnegative(),
    fallback_checks: z.number().int().nonnegative(),
  }),
]);
export type FleetMessage = z.infer<typeof FleetMessage>;
export type WorkerReport = Extract<FleetMessage, { type: 'worker' }>;
