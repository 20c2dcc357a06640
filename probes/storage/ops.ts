import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { formatDuration } from '../../src/duration.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { type Deadline, roundMs } from '../shared/deadline.js';
import type { Failure } from '../shared/net-errors.js';
import type { MaxLatency } from './spec.js';

/**
 * Times the operations of one storage check (put/get/delete, connect/ping/set/get/del) and knows
 * which one is in progress, so that a timeout names it. Each op is timed from its first byte of work
 * to its last; `observations.ops` holds the ops that completed.
 */
export class OpTimer<Op extends string = string> {
  private readonly done = new Map<Op, number>();
  private op: Op | undefined;
  private since = 0;

  /** The op in progress, or undefined between ops. */
  get current(): Op | undefined {
    return this.op;
  }

  start(op: Op): void {
    this.op = op;
    this.since = performance.now();
  }

  /** Ends the op in progress, recording its duration; returns it in milliseconds. */
  end(): number {
    const ms = performance.now() - this.since;
    if (this.op !== undefined) this.done.set(this.op, ms);
    this.op = undefined;
    return ms;
  }

  /** Leaves the op in progress unrecorded (it failed: a failed op has no latency worth comparing). */
  abandon(): void {
    this.op = undefined;
  }

  /** Milliseconds of each completed op, in the order they ran. */
  ops(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [op, ms] of this.done) out[op] = roundMs(ms);
    return out;
  }
}

/**
 * Tells this process's objects from those of other vantages and restarts: fleet workers share a
 * bucket, and the check context does not carry the vantage name.
 */
export const INSTANCE_ID = randomBytes(4).toString('hex');

/** A fresh key for one check: `${prefix}${instance}-${epoch ms}-${random}`; unique across checks and processes. */
export function freshKey(prefix: string, now: number = Date.now()): string {
  return `${prefix}${INSTANCE_ID}-${now}-${randomBytes(4).toString('hex')}`;
}

/** Figures in messages: whole milliseconds read better than 812.37. */
const ms = (n: number): string => `${Math.round(n)} ms`;

/**
 * Compares the ops' latencies with `expect.max_latency`: a duration limits their sum, a map limits
 * each op named. Undefined when within limits (or without one).
 */
export function checkLatency(
  ops: Readonly<Record<string, number>>,
  limit: MaxLatency | undefined,
): Failure | undefined {
  if (limit === undefined) return undefined;
  const entries = Object.entries(ops);
  if (typeof limit === 'number') {
    const total = entries.reduce((sum, [, v]) => sum + v, 0);
    if (total <= limit) return undefined;
    const parts = entries.map(([op, v]) => `${op} ${ms(v)}`).join(', ');
    return {
      error: 'latency',
      detail: `slow: ${ms(total)} in total > max_latency ${formatDuration(limit)} (${parts})`,
    };
  }
  const slow: string[] = [];
  for (const [op, v] of entries) {
    const max = (limit as Readonly<Record<string, number | undefined>>)[op];
    if (max !== undefined && v > max)
      slow.push(`${op} ${ms(v)} > ${formatDuration(max)}`);
  }
  return slow.length > 0
    ? { error: 'latency', detail: `slow: ${slow.join(', ')}` }
    : undefined;
}

/** The deadline passed during `op` (and, when known, the network phase within it). */
export function opTimeout(
  op: string | undefined,
  phase: string | undefined,
  budgetMs: number,
): Failure {
  const inner = phase !== undefined && phase !== op ? `${phase}, ` : '';
  return {
    error: 'timeout',
    detail: `timeout during ${op ?? 'check'} (${inner}deadline ${Math.round(budgetMs)} ms)`,
  };
}

/** One check's result: failure (if any), the check's duration and the observations. */
export function storageResult(
  target: string,
  deadline: Deadline,
  failure: Failure | undefined,
  observations: Record<string, unknown>,
): CheckResult {
  return {
    target,
    ok: failure === undefined,
    duration_ms: roundMs(deadline.elapsedMs()),
    ...(failure ? { error: failure.error, detail: failure.detail } : {}),
    observations,
  };
}
