import type { ProbeKind } from '../../probes/probe.js';
import type { Plan } from '../config/plan.js';
import type { CheckJob } from '../schedule/check-job.js';

/**
 * Expands a plan into the checks to schedule: per probe and vantage, one check per target for
 * independent targets, or one check covering them all for kinds that compare targets (lb_sync).
 * `vantages` restricts it to the vantages this process serves.
 */
export function planJobs(
  plan: Plan,
  kinds: Readonly<Record<string, ProbeKind>>,
  vantages: readonly string[],
): CheckJob[] {
  const jobs: CheckJob[] = [];
  for (const probe of plan.probes) {
    const kind = kinds[probe.kind];
    if (!kind) continue;
    // A probe of one target (most of them) checks its own targets array: no copy per probe.
    const groups = kind.grouping === 'all' || probe.targets.length === 1 ? [probe.targets] : probe.targets.map((t) => [t]);
    for (const vantage of probe.vantages) {
      if (!vantages.includes(vantage)) continue;
      for (const targets of groups) {
        const group = kind.grouping === 'all' ? '*' : (targets[0] ?? '');
        jobs.push({ key: checkKey(probe.id, group, vantage), probe, targets, vantage });
      }
    }
  }
  return jobs;
}

/** A check's key: probe, target group (the target, or `*` for kinds checking all at once), vantage. */
export function checkKey(probe: string, group: string, vantage: string): string {
  // Joined, not appended: one flat string per job, kept as a map key for the daemon's life.
  return [probe, group, vantage].join('\u0000');
}
