import type { z } from 'zod';
import type { CheckResult } from '../src/events/probe-result.js';

/** What one check is given by the runner. Probes never read the config or the wall clock otherwise. */
export interface CheckContext {
  /** Aborted when the check's deadline (the probe's `timeout`) passes; every I/O must honour it. */
  readonly signal: AbortSignal;
  /**
   * Aborted when the daemon stops, and only then: the deadline is `timeoutMs`. A Deadline
   * (probes/shared/deadline.ts) built from the context listens to this one when it is given, and
   * `signal`, which the runner makes only when something asks for it, is then never made: an
   * AbortController per check was 4 % of what the daemon allocated at 1,700 checks a second.
   */
  readonly shutdown?: AbortSignal | undefined;
  /** The whole check's budget in milliseconds (the probe's `timeout`). */
  readonly timeoutMs: number;
  /** Local address to bind outgoing connections to (fleet workers' `source_address`), if any. */
  readonly sourceAddress?: string | undefined;
}

/**
 * One probe kind (http, tls, lb_sync, storage). Every kind implements this and nothing else;
 * the config loader, the scheduler and `tocsin probe` know kinds only through it.
 */
export interface ProbeKind<Spec = unknown> {
  readonly kind: string;
  /**
   * Zod shape of the kind-specific keys. The config loader merges it with the common probe keys
   * (id, kind, component, interval, timeout, vantages, labels) into one strict object.
   */
  readonly shape: z.ZodRawShape;
  /**
   * Optional cross-key checks a shape cannot express (keys required by one variant of the kind,
   * e.g. storage's `bucket` for `backend: s3`). The config loader runs it on the parsed probe (common
   * keys included) once every key has a valid type; issues' paths are relative to the probe.
   * (Method syntax on purpose: it keeps `ProbeKind<HttpCheckSpec>` assignable to `ProbeKind`.)
   */
  refine?(spec: Spec, ctx: z.core.$RefinementCtx): void;
  /** The event targets of a probe (CONTRACT §2 "Target"), in a stable order. */
  targets(spec: Spec): string[];
  /**
   * `each`: the scheduler runs one check per target (targets are independent).
   * `all`: one check covers every target at once (lb_sync compares instances with each other).
   */
  readonly grouping: 'each' | 'all';
  /** Runs one check of `targets` and returns one result per target. Expected failures are values. */
  run(spec: Spec, targets: readonly string[], ctx: CheckContext): Promise<CheckResult[]>;
}
