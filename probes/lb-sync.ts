import { setMaxListeners } from 'node:events';
import type { CheckResult } from '../src/events/probe-result.js';
import { collect, MAX_CONCURRENT_REQUESTS } from './lb-sync/collect.js';
import { type LagStore, LagTracker } from './lb-sync/lag.js';
import { analyse } from './lb-sync/majority.js';
import { instanceResult } from './lb-sync/report.js';
import { LbSyncProbeShape, LbSyncProbeSpec, routeLabel } from './lb-sync/spec.js';
import type { CheckContext, ProbeKind } from './probe.js';
import { Deadline } from './shared/deadline.js';
import type { TlsSpec } from './shared/tls-spec.js';

export { LbSyncProbeSpec };

/** What `run` receives: the kind's keys plus the common ones it uses (`id` keys the lag state). */
export type LbSyncCheckSpec = LbSyncProbeSpec & { readonly id: string; readonly tls?: TlsSpec | undefined };

export interface LbSyncProbeOptions {
  /** Wall clock for lags and `differs_since` (ms since the epoch). Default `Date.now`. */
  readonly now?: () => number;
  /** Where lags live between checks. Default: a tracker of this kind object's own. */
  readonly tracker?: LagStore;
}

/** One check: fetch everything, compare, then move each instance's lag on. */
async function checkAll(
  spec: LbSyncCheckSpec,
  targets: readonly string[],
  ctx: CheckContext,
  tracker: LagStore,
  now: () => number,
): Promise<CheckResult[]> {
  const deadline = new Deadline(ctx);
  // Every request in flight listens to the one deadline: more than Node's default of 10 is expected.
  setMaxListeners(MAX_CONCURRENT_REQUESTS + 8, deadline.signal);
  try {
    const collected = await collect(spec, targets, deadline, ctx.sourceAddress);
    const analysis = analyse({
      routes: spec.routes.map(routeLabel),
      instances: collected.instances,
      expectedVersion: collected.expectedVersion,
    });
    const at = now();
    return await Promise.all(collected.instances.map(async (inst, i) => {
      const verdict = analysis.verdicts[i] ?? { kind: 'compared', differences: [] };
      const key = `${spec.id}\u0000${inst.instance}`;
      const lag =
        verdict.kind === 'failed'
          ? await tracker.hold(key, at)
          : await tracker.record(key, verdict.differences.length > 0, at);
      return instanceResult({
        instance: inst.instance,
        verdict,
        lag,
        maxLagMs: spec.max_lag,
        durationMs: inst.durationMs,
        version: inst.version,
        versionError: inst.versionError,
        majorityVersion: analysis.majorityVersion,
        expectedVersion: collected.expectedVersion,
        expectedVersionError: collected.expectedVersionError,
      });
    }));
  } catch (err) {
    // Only a bug gets here (collect never rejects): Tocsin's own failure, not the instances'.
    const detail = `lb_sync probe: ${err instanceof Error ? err.message : String(err)}`;
    return targets.map((target) => ({ target, ok: false, error: 'internal', detail }));
  } finally {
    deadline.dispose();
  }
}

/**
 * Builds the `lb_sync` kind. The daemon uses the one instance below for its whole life, which is
 * what lets lags span checks; tests build their own with a fake clock.
 */
export function createLbSyncProbe(options: LbSyncProbeOptions = {}): ProbeKind<LbSyncCheckSpec> {
  const tracker = options.tracker ?? new LagTracker();
  const now = options.now ?? Date.now;
  return {
    kind: 'lb_sync',
    shape: LbSyncProbeShape,
    grouping: 'all',
    targets: (spec) => [...spec.instances],
    refine: (spec, ctx) => {
      // The expected version is compared with each instance's own version: without `version` there is none.
      if (spec.expected_version && !spec.version) {
        ctx.addIssue({ code: 'custom', path: ['expected_version'], message: 'needs `version` to read each instance\'s version' });
      }
    },
    run: (spec, targets, ctx) => checkAll(spec, targets, ctx, tracker, now),
  };
}

/**
 * `kind: lb_sync` (CONTRACT §2): requests the same routes through every load-balancer instance and
 * reports the instances whose answers (or config version) differ from the majority's, or from the
 * control plane's expected version, for at least `max_lag`. See docs/probes-lb-sync.md.
 */
export const lbSyncProbe: ProbeKind<LbSyncCheckSpec> = createLbSyncProbe();
