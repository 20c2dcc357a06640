import type { Plan } from '../config/plan.js';
import type { Logger } from '../log.js';

/** Longest time shutdown waits for running checks before aborting them. */
const MAX_SHUTDOWN_GRACE_MS = 10_000;

/** How long a graceful stop lets running checks finish: the longest probe timeout, bounded. */
export function shutdownGraceMs(plan: Plan, floorMs = 0): number {
  return Math.min(MAX_SHUTDOWN_GRACE_MS, Math.max(floorMs, ...plan.probes.map((p) => p.timeoutMs)));
}

/**
 * SIGTERM/SIGINT handling shared by `tocsin run` and `tocsin worker`: the first signal stops
 * gracefully (running checks get `graceMs`), a second one exits at once with 130. After a clean
 * stop the process exits by itself; a stray handle gets `exitAfterMs` before a forced exit, so an
 * operator's Ctrl-C never hangs.
 */
export function stopOnSignals(opts: {
  readonly logger: Logger;
  readonly graceMs: number;
  readonly stop: (graceMs: number) => Promise<void>;
  readonly onStopped?: () => void;
  readonly exitAfterMs?: number;
}): void {
  const { logger, graceMs } = opts;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      logger.flush();
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, graceMs }, 'stopping: letting running checks finish');
    opts.stop(graceMs).then(
      () => {
        opts.onStopped?.();
        logger.flush();
        process.exitCode = 0;
        setTimeout(() => process.exit(0), opts.exitAfterMs ?? 2000).unref();
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
}
