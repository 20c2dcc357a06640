import type { ProbeKind } from '../../probes/probe.js';
import type { Clock } from '../clock.js';
import type { CheckResult, ProbeResult } from '../events/probe-result.js';
import type { CheckJob } from './port.js';

/** Extra time a probe gets past its deadline before the runner stops waiting for it (a bug guard). */
const HARD_DEADLINE_GRACE_MS = 1000;

export interface RunCheckOptions {
  readonly clock: Clock;
  /** Aborts the check early (daemon shutdown). */
  readonly signal?: AbortSignal;
  readonly sourceAddress?: string;
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
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), probe.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([deadline.signal, opts.signal]) : deadline.signal;
  let hardTimer: NodeJS.Timeout | undefined;
  let results: CheckResult[];
  try {
    const hard = new Promise<CheckResult[]>((resolve) => {
      hardTimer = setTimeout(
        () => resolve(job.targets.map((target) => internal(target, 'the probe did not honour its deadline'))),
        probe.timeoutMs + HARD_DEADLINE_GRACE_MS,
      );
    });
    results = await Promise.race([
      kind.run(probe.spec, job.targets, {
        signal,
        timeoutMs: probe.timeoutMs,
        sourceAddress: opts.sourceAddress,
      }),
      hard,
    ]);
  } catch (err) {
    results = job.targets.map((target) =>
      internal(target, `probe error: ${(err as Error)?.message ?? String(err)}`),
    );
  } finally {
    clearTimeout(timer);
    clearTimeout(hardTimer);
  }
  const byTarget = new Map(results.map((r) => [r.target, r]));
  return job.targets.map((target) => {
    const r = byTarget.get(target) ?? internal(target, 'the probe returned no result for this target');
    return { at, probe: probe.id, vantage: job.vantage, ...r, target };
  });
}

function internal(target: string, detail: string): CheckResult {
  return { target, ok: false, error: 'internal', detail };
}
