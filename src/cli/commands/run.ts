import type { Command } from 'commander';
import { startDaemon } from '../../daemon.js';
import { createLogger } from '../../log.js';
import { globalOptions, loadPlanOrFail } from '../options.js';
import { shutdownGraceMs, stopOnSignals } from '../shutdown.js';

/** `tocsin run`: the daemon. First SIGTERM/SIGINT stops cleanly; a second one exits at once. */
export function runCommand(program: Command): void {
  program
    .command('run')
    .description('run the daemon: scheduler, probes, store, HTTP API and /metrics')
    .action(async (_opts, cmd: Command) => {
      const opts = globalOptions(cmd);
      const plan = await loadPlanOrFail(opts);
      const logger = createLogger(opts.logLevel);
      const daemon = await startDaemon({ plan, logger });
      const grace = shutdownGraceMs(plan);
      stopOnSignals({ logger, graceMs: grace, stop: (ms) => daemon.stop(ms) });
    });
}
