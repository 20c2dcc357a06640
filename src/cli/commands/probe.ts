import type { Command } from 'commander';
import { PROBE_KINDS } from '../../../probes/index.js';
import { systemClock } from '../../clock.js';
import { planJobs } from '../../queue/jobs.js';
import { runCheck } from '../../queue/run-check.js';
import { CliFailure, globalOptions, loadPlanOrFail, plural } from '../options.js';

/**
 * `tocsin probe ID`: runs one probe once from this machine (as vantage `vantage`) and prints its
 * result events as JSON lines. Exits 1 when any target failed, so scripts can use it as a check.
 */
export function probeCommand(program: Command): void {
  program
    .command('probe')
    .description('run one probe once and print its result events as JSON lines')
    .argument('<probe-id>', 'the id of a probe in the config')
    .action(async (probeId: string, _opts, cmd: Command) => {
      const plan = await loadPlanOrFail(globalOptions(cmd));
      const probe = plan.probes.find((p) => p.id === probeId);
      if (!probe)
        throw new CliFailure(
          `unknown probe "${probeId}" (known: ${plan.probes.map((p) => p.id).join(', ')})`,
        );
      const single = { ...plan, probes: [{ ...probe, vantages: [plan.vantage] }] };
      const jobs = planJobs(single, PROBE_KINDS, [plan.vantage]);
      const results = (
        await Promise.all(
          jobs.map((job) => {
            const kind = PROBE_KINDS[job.probe.kind];
            return kind ? runCheck(kind, job, { clock: systemClock }) : Promise.resolve([]);
          }),
        )
      ).flat();
      for (const r of results) process.stdout.write(`${JSON.stringify(r)}\n`);
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0)
        throw new CliFailure(`${probeId}: ${failed} of ${plural(results.length, 'target')} failed`);
    });
}
