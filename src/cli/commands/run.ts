import type { Command } from 'commander';
import { createLogger } from '../../log.js';
import { globalOptions, loadPlanOrFail, loggerOptions } from '../options.js';
import { shutdownGraceMs, stopOnSignals } from '../shutdown.js';
import { firstRoundMs, releaseOldGenerationAfter, releaseYoungGeneration } from '../start-up-heap.js';

/** `tocsin run`: the daemon. First SIGTERM/SIGINT stops cleanly; a second one exits at once. */
export function runCommand(program: Command): void {
  program
    .command('run')
    .description('run the daemon: scheduler, probes, store, HTTP API and /metrics')
    .action(async (_opts, cmd: Command) => {
      const opts = globalOptions(cmd);
      const plan = await loadPlanOrFail(opts);
      const logger = createLogger(loggerOptions(opts, plan));
      // Loaded here, not at the top: the daemon's modules (HTTP server, store, queue) are what
      // every other command would otherwise pay for at start-up.
      const { startDaemon } = await import('../../daemon.js');
      const daemon = await startDaemon({ plan, logger });
      releaseYoungGeneration();
      releaseOldGenerationAfter(firstRoundMs(plan));
      const grace = shutdownGraceMs(plan);
      stopOnSignals({ logger, graceMs: grace, stop: (ms) => daemon.stop(ms) });
      // SIGHUP re-reads the configuration, as Prometheus, Alertmanager and Blackbox exporter do;
      // the daemon logs the outcome (and every problem of a refused config).
      process.on('SIGHUP', () => {
        daemon.reload().catch((err: unknown) => logger.error({ err }, 'configuration reload failed'));
      });
    });
}
