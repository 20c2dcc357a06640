import net from 'node:net';
import { type Command, InvalidArgumentError } from 'commander';
import { PROBE_KINDS } from '../../../probes/index.js';
import { systemClock } from '../../clock.js';
import { createLogger } from '../../log.js';
import { CliFailure, globalOptions, loadPlanOrFail, loggerOptions } from '../options.js';
import { shutdownGraceMs, stopOnSignals } from '../shutdown.js';
import { firstRoundMs, releaseOldGenerationAfter, releaseYoungGeneration } from '../start-up-heap.js';
import { redisPassword } from '../../queue/bullmq-keys.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function ipAddress(value: string): string {
  if (net.isIP(value) === 0) throw new InvalidArgumentError('must be an IPv4 or IPv6 address');
  return value;
}

/** Fails unless `address` belongs to this host: every check would fail with a bind error. */
async function checkLocalAddress(address: string): Promise<void> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port: 0, exclusive: true }, () => resolve());
    });
  } catch (err) {
    throw new CliFailure(`--source-address ${address} is not an address of this host (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  } finally {
    server.close();
  }
}

/**
 * `tocsin worker --vantage NAME`: takes this vantage's probe jobs from Redis and sends results
 * back. First SIGTERM/SIGINT drains (running checks get up to the longest probe timeout, at most
 * 10 s) and exits 0; a second one exits at once.
 */
export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('distributed mode: run the probe jobs of one vantage, taken from Redis (BullMQ)')
    .requiredOption('--vantage <name>', 'the vantage this worker probes from (one of queue.vantages)')
    .option('--concurrency <n>', 'checks run at once (default: queue.concurrency)', positiveInt)
    .option('--source-address <ip>', 'bind outgoing probe connections to this local address', ipAddress)
    .action(async (cmdOpts: { vantage: string; concurrency?: number; sourceAddress?: string }, cmd: Command) => {
      const opts = globalOptions(cmd);
      const plan = await loadPlanOrFail(opts);
      if (plan.queue.kind !== 'bullmq') {
        throw new CliFailure(`${plan.file}: queue.kind is "${plan.queue.kind}"; workers need queue.kind bullmq`);
      }
      if (!plan.queue.vantages.includes(cmdOpts.vantage)) {
        throw new CliFailure(
          `unknown vantage "${cmdOpts.vantage}" (queue.vantages: ${plan.queue.vantages.join(', ')})`,
        );
      }
      if (cmdOpts.sourceAddress) await checkLocalAddress(cmdOpts.sourceAddress);
      const logger = createLogger(loggerOptions(opts, plan));
      // Loaded on use: BullMQ and ioredis are for the fleet's workers only.
      const { startProbeWorker } = await import('../../worker/worker.js');
      const worker = startProbeWorker({
        redisUrl: plan.queue.redis_url,
        redisPassword: redisPassword(plan),
        vantage: cmdOpts.vantage,
        concurrency: cmdOpts.concurrency ?? plan.queue.concurrency,
        buffer: { maxResults: plan.queue.buffer.max_results, maxAgeMs: plan.queue.buffer.max_age },
        sourceAddress: cmdOpts.sourceAddress,
        kinds: PROBE_KINDS,
        clock: systemClock,
        logger,
      });
      releaseYoungGeneration();
      releaseOldGenerationAfter(firstRoundMs(plan));
      // Jobs carry their own timeouts; the config's longest one bounds a graceful drain.
      const grace = shutdownGraceMs(plan, 1000);
      stopOnSignals({
        logger,
        graceMs: grace,
        stop: (ms) => worker.stop(ms),
        onStopped: () => logger.info({ ...worker.stats() }, 'tocsin worker stopped'),
        exitAfterMs: 1000,
      });
    });
}
