import { type Job, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createLbSyncProbe } from '../../probes/lb-sync.js';
import type { ProbeKind } from '../../probes/probe.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { FLEET_WIRE_VERSION, type FleetMessage, fromJobData } from '../queue/bullmq-jobs.js';
import { busyKey, FLEET_KEYS, queueName, redactUrl, redisOptions } from '../queue/bullmq-keys.js';
import { appendFleetMessage } from '../queue/bullmq-results.js';
import { runCheck } from '../queue/run-check.js';
import { SharedLagStore } from './shared-lag.js';

/** Extra life of a check's lock past its timeout, so a lock outlives the check it guards. */
const LOCK_GRACE_MS = 5000;
/** Deletes the lock only if this check still holds it (it may have expired and been retaken). */
const RELEASE_LOCK = 'if redis.call(\'get\', KEYS[1]) == ARGV[1] then return redis.call(\'del\', KEYS[1]) end return 0';

export interface ProbeWorkerOptions {
  readonly redisUrl: string;
  /** Redis's password when the URL has none (`queue.password_env`). */
  readonly redisPassword?: string | undefined;
  readonly vantage: string;
  /** Checks this process runs at once. */
  readonly concurrency: number;
  /** Local address outgoing probe connections are bound to (Blackbox exporter's source_ip_address). */
  readonly sourceAddress?: string | undefined;
  readonly kinds: Readonly<Record<string, ProbeKind>>;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface ProbeWorkerStats {
  /** Checks run to the end and reported. */
  readonly completed: number;
  /** Checks not run: the previous check of the same key was still running somewhere. */
  readonly skipped: number;
  /** Jobs whose data this worker could not read (another Tocsin version, an unknown kind). */
  readonly rejected: number;
  /** Results that could not be sent to Redis (an outage while the check ran). */
  readonly lost: number;
  readonly active: number;
}

export interface ProbeWorker {
  /** Resolves once the worker takes jobs (Redis reached). */
  readonly ready: Promise<void>;
  stats(): ProbeWorkerStats;
  /**
   * Takes no new job, lets running checks end within `graceMs` (their results are sent), then
   * aborts the rest (their results are dropped: a check cut short says nothing of its target).
   */
  stop(graceMs: number): Promise<void>;
}

/**
 * A probe worker for one vantage (`tocsin worker`): a BullMQ worker on the vantage's queue that
 * runs each job's check with the shared runner, bound to the vantage's source address, and
 * appends the results to the results stream for `tocsin run`. It needs no config beyond Redis and
 * its vantage: each job carries the probe's spec.
 */
export function startProbeWorker(opts: ProbeWorkerOptions): ProbeWorker {
  const { logger, clock, vantage } = opts;
  const options = redisOptions(opts.redisUrl, opts.redisPassword);
  // Locks and results: a connection of its own, failing fast in an outage (a check's result is
  // worth little minutes later), while BullMQ's connections wait for Redis to come back.
  const redis = new Redis({ ...options, maxRetriesPerRequest: 2 });
  redis.on('error', () => {});
  // lb_sync lags shared by the vantage's workers (a lag must not depend on which worker checks).
  const kinds: Readonly<Record<string, ProbeKind>> = opts.kinds.lb_sync
    ? { ...opts.kinds, lb_sync: createLbSyncProbe({ tracker: new SharedLagStore(redis, vantage) }) as ProbeKind }
    : opts.kinds;
  const stopping = new AbortController();
  let completed = 0;
  let skipped = 0;
  let rejected = 0;
  let lost = 0;
  let active = 0;

  const send = async (msg: FleetMessage): Promise<void> => {
    try {
      await appendFleetMessage(redis, msg);
    } catch (err) {
      if (lost++ % 100 === 0) logger.warn({ err: (err as Error).message, lost }, 'could not send results to Redis');
    }
  };

  const processJob = async (job: Job): Promise<void> => {
    const check = fromJobData(job.data);
    const kind = check ? kinds[check.probe.kind] : undefined;
    if (!check || !kind) {
      if (rejected++ === 0) {
        logger.warn({ job: job.name, id: job.id }, 'ignoring a job this worker cannot run (version or kind unknown)');
      }
      return;
    }
    if (check.vantage !== vantage) {
      rejected++;
      return;
    }
    const startedAt = clock.now();
    // The slot the scheduler meant the job for (job schedulers record it as prevMillis).
    const prevMillis = (job.opts as { prevMillis?: unknown }).prevMillis;
    const dueAt = typeof prevMillis === 'number' ? prevMillis : job.timestamp + (job.opts.delay ?? 0);
    const lock = busyKey(vantage, job.repeatJobKey ?? check.key);
    const token = `${job.id ?? ''}`;
    const got = await redis
      .set(lock, token, 'PX', check.probe.timeoutMs + LOCK_GRACE_MS, 'NX')
      .catch(() => 'OK' as const);
    if (got !== 'OK') {
      skipped++;
      await send({ type: 'skipped', v: FLEET_WIRE_VERSION, vantage, probe: check.probe.id });
      return;
    }
    active++;
    try {
      const results = await runCheck(kind, check, {
        clock,
        signal: stopping.signal,
        sourceAddress: opts.sourceAddress,
      });
      // A check cut short by shutdown says nothing about the target: drop it rather than report a failure.
      if (stopping.signal.aborted) return;
      await send({
        type: 'results',
        v: FLEET_WIRE_VERSION,
        vantage,
        lag_ms: Math.max(0, startedAt - dueAt),
        results,
      });
      completed++;
    } finally {
      active--;
      await redis.eval(RELEASE_LOCK, 1, lock, token).catch(() => undefined);
    }
  };

  const worker = new Worker(queueName(vantage), processJob, {
    connection: { ...options },
    prefix: FLEET_KEYS.probePrefix,
    concurrency: opts.concurrency,
    // A check is never retried: the next slot is the retry. A job left behind by a crashed worker
    // is dropped, not re-run late.
    maxStalledCount: 0,
    removeOnComplete: { count: 10 },
    removeOnFail: { count: 50 },
  });
  let down = false;
  worker.on('error', (err) => {
    if (stopping.signal.aborted) return;
    if (!down) logger.warn({ err: err.message, redis: redactUrl(opts.redisUrl) }, 'Redis unreachable; the worker retries');
    down = true;
  });
  worker.on('ready', () => {
    if (down) logger.info({ vantage }, 'connected to Redis again; taking jobs');
    down = false;
  });
  worker.on('failed', (job, err) => logger.error({ err: err.message, job: job?.name }, 'probe job failed'));
  const ready = worker.waitUntilReady().then(() => {
    logger.info(
      { vantage, concurrency: opts.concurrency, sourceAddress: opts.sourceAddress ?? null, queue: `${FLEET_KEYS.probePrefix}:${queueName(vantage)}` },
      'tocsin worker ready',
    );
  });
  ready.catch(() => undefined);

  return {
    ready,
    stats: () => ({ completed, skipped, rejected, lost, active }),
    async stop(graceMs) {
      const closing = worker.close();
      closing.catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const inTime = await Promise.race([
        closing.then(() => true, () => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), graceMs);
        }),
      ]);
      clearTimeout(timer);
      stopping.abort(new Error('shutdown'));
      if (!inTime) {
        // Aborted checks end at once; a Redis outage must not hold the exit either.
        await Promise.race([closing.catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
      }
      redis.disconnect();
    },
  };
}
