import type { Command } from 'commander';
import { startDaemon } from '../../daemon.js';
import { createLogger } from '../../log.js';
import { globalOptions, loadPlanOrFail } from '../options.js';

/** Longest time shutdown waits for running checks before aborting them. */
const MAX_SHUTDOWN_GRACE_MS = 10_000;

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
      const grace = Math.min(MAX_SHUTDOWN_GRACE_MS, Math.max(0, ...plan.probes.map((p) => p.timeoutMs)));
      let stopping = false;
      const onSignal = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting now');
          logger.flush();
          process.exit(130);
        }
        stopping = true;
        logger.info({ signal, graceMs: grace }, 'stopping: letting running checks finish');
        daemon.stop(grace).then(
          () => {
            logger.flush();
            process.exitCode = 0;
            // Everything is closed; if a stray handle still holds the loop, do not hang the operator.
            setTimeout(() => process.exit(0), 2000).unref();
          },
          (err: unknown) => {
            logger.error({ err }, 'unclean stop');
            logger.flush();
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
    });
}
