import { setMaxListeners } from 'node:events';
import type { CheckContext, ProbeKind } from '../../probes/probe.js';
import type { Clock } from '../clock.js';
import type { CheckResult, ProbeResult } from '../events/probe-result.js';
import type { CheckJob } from '../schedule/check-job.js';

/** Extra time a probe gets past its deadline before the runner stops waiting for it (a bug guard). */
const HARD_DEADLINE_GRACE_MS = 1000;

export interface RunCheckOptions {
  readonly clock: Clock;
  /** Aborts the check early (daemon shutdown). */
  readonly signal?: AbortSignal;
  readonly sourceAddress?: string;
}

/**
 * The controller whose signal stops every check in flight (`RunCheckOptions.signal`): each running
 * check listens to it, so it has as many listeners as the concurrency allows, and node's warning
 * for more than 10 (a leak detector) would fire in every busy daemon's log.
 */
export function stopController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** The shutdown signal of a check run with none (`tocsin probe`): never aborted. */
const NEVER_STOPS = stopController().signal;

/**
 * One check's context and deadline, as the kind sees it (CheckContext). One timer per check, and
 * no AbortController unless the kind asks for `signal`: the kinds build their Deadline from
 * `shutdown` (probes/probe.ts), so most checks never make one. Its methods and the timers'
 * callbacks are shared by every check (the timers get the run as their argument): no closure per
 * check. (A composite signal per check, AbortSignal.any, once left a weak reference on the
 * long-lived shutdown signal for every check: 94,000 of them in a heap snapshot at 50,000 probes.)
 */
class CheckRun implements CheckContext {
  readonly shutdown: AbortSignal;
  readonly timeoutMs: number;
  readonly sourceAddress: string | undefined;
  /** Settles with internal failures once the probe has overrun its deadline by the grace. */
  readonly overrun: Promise<CheckResult[]>;
  #controller: AbortController | undefined;
  #expired = false;
  #settleOverrun: ((results: CheckResult[]) => void) | undefined;
  #hardTimer: NodeJS.Timeout | undefined;
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly targets: readonly string[],
    opts: RunCheckOptions,
    timeoutMs: number,
  ) {
    this.shutdown = opts.signal ?? NEVER_STOPS;
    this.timeoutMs = timeoutMs;
    this.sourceAddress = opts.sourceAddress;
    this.overrun = new Promise<CheckResult[]>((resolve) => {
      this.#settleOverrun = resolve;
    });
    this.#timer = setTimeout(CheckRun.#atDeadline, timeoutMs, this);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#expired) this.#controller.abort(new Error('deadline'));
      else if (this.shutdown.aborted) this.#controller.abort(this.shutdown.reason);
      else this.shutdown.addEventListener('abort', this);
    }
    return this.#controller.signal;
  }

  /** The shutdown signal's 'abort' (this object is its listener): passed on to `signal`. */
  handleEvent(): void {
    this.#controller?.abort(this.shutdown.reason);
  }

  /** Stops both timers and unhooks the shutdown signal. */
  dispose(): void {
    clearTimeout(this.#timer);
    clearTimeout(this.#hardTimer);
    if (this.#controller !== undefined) this.shutdown.removeEventListener('abort', this);
  }

  // At the deadline the probe is aborted, and only then is the guard armed: past the grace, the
  // runner stops waiting for a probe that does not honour its deadline.
  static readonly #atDeadline = (run: CheckRun): void => {
    run.#expired = true;
    run.#controller?.abort(new Error('deadline'));
    run.#hardTimer = setTimeout(CheckRun.#pastGrace, HARD_DEADLINE_GRACE_MS, run);
  };

  static readonly #pastGrace = (run: CheckRun): void => {
    run.#settleOverrun?.(run.targets.map((target) => internal(target, 'the probe did not honour its deadline')));
  };
}

/**
 * Runs one check of a job and turns what the probe kind returns into result events. Whatever the
 * probe does (throws, forgets a target, ignores its deadline), the caller gets one event per target
 * within the timeout plus a small grace: a buggy kind cannot wedge the scheduler.
 */
export async function runCheck(
  kind: ProbeKind,
  job: CheckJob,
  opts: RunCheckOptions,
): Promise<ProbeResult[]> {
  const { probe } = job;
  const started = opts.clock.now();
  const at = new Date(started).toISOString();
  const run = new CheckRun(job.targets, opts, probe.timeoutMs);
  let results: CheckResult[];
  try {
    results = await Promise.race([kind.run(probe.spec, job.targets, run), run.overrun]);
  } catch (err) {
    results = job.targets.map((target) =>
      internal(target, `probe error: ${(err as Error)?.message ?? String(err)}`),
    );
  } finally {
    run.dispose();
  }
  const event = (target: string, r: CheckResult | undefined): ProbeResult => ({
    at,
    probe: probe.id,
    vantage: job.vantage,
    ...(r ?? internal(target, 'the probe returned no result for this target')),
    target,
  });
  // Most jobs check one target: no index to build for it.
  if (job.targets.length === 1) {
    const target = job.targets[0] ?? '';
    return [event(target, results.find((r) => r.target === target))];
  }
  const byTarget = new Map(results.map((r) => [r.target, r]));
  return job.targets.map((target) => event(target, byTarget.get(target)));
}

function internal(target: string, detail: string): CheckResult {
  return { target, ok: false, error: 'internal', detail };
}
