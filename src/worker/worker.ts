import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createLbSyncProbe } from '../../probes/lb-sync.js';
import type { ProbeKind } from '../../probes/probe.js';
import type { TimerClock } from '../clock.js';
import type { Logger } from '../log.js';
import { FLEET_WIRE_VERSION, fromJobData, groupOf, isRecheckJob } from '../queue/bullmq-jobs.js';
import { busyKey, FLEET_KEYS, queueName, scheduleVersionKey, schedulerId } from '../queue/bullmq-keys.js';
import { redactRedisUrl as redactUrl, redisOptions } from '../redis/connection.js';
import type { CheckJob } from '../schedule/check-job.js';
import { runCheck, stopController } from '../queue/run-check.js';
import { ResultDelivery } from './delivery.js';
import { FallbackSchedule, shareOf } from './fallback.js';
import { VantageMembers } from './membership.js';
import { type BufferLimits, DEFAULT_BUFFER_LIMITS } from './result-buffer.js';
import { SharedLagStore } from './shared-lag.js';

/** Extra life of a check's lock past its timeout, so a lock outlives the check it guards. */
const LOCK_GRACE_MS = 5000;
/** Deletes the lock only if this check still holds it (it may have expired and been retaken). */
const RELEASE_LOCK = 'if redis.call(\'get\', KEYS[1]) == ARGV[1] then return redis.call(\'del\', KEYS[1]) end return 0';
/** How often the worker looks at its connection, expires buffered results and delivers them. */
const WATCH_MS = 1000;
/** Heartbeat and counters report, while Redis answers. */
const REPORT_EVERY_MS = 5000;
/** How often the worker looks whether the vantage's schedule changed (one small key). */
const PLAN_REFRESH_MS = 10_000;
/** Connected again this long without a job: the worker's own schedule stops all the same. */
const JOBS_BACK_MS = 10_000;

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
  /** What the worker keeps while Redis is unreachable (`queue.buffer`; default as in the config). */
  readonly buffer?: BufferLimits;
  readonly clock: TimerClock;
  readonly logger: Logger;
}

export interface ProbeWorkerStats {
  /** Checks run to the end and reported. */
  readonly completed: number;
  /** Checks not run: the previous check of the same key was still running somewhere. */
  readonly skipped: number;
  /** Jobs whose data this worker could not read (another Tocsin version, an unknown kind). */
  readonly rejected: number;
  /** Results still in the buffer when the worker stopped (Redis unreachable to the end). */
  readonly lost: number;
  /** Results in the buffer now. */
  readonly buffered: number;
  /** Results the buffer's bounds dropped (count, age). */
  readonly droppedOverflow: number;
  readonly droppedExpired: number;
  /** Checks run on the worker's own schedule while Redis was unreachable. */
  readonly fallbackChecks: number;
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
 *
 * When Redis is unreachable the vantage goes on checking: from the moment its connection drops, the
 * worker runs its share of the schedule it last read from Redis on its own timers, keeps every result in a
 * bounded buffer, and delivers them in order once Redis answers (docs/fleet.md, "Redis outages").
 */
export function startProbeWorker(opts: ProbeWorkerOptions): ProbeWorker {
  const { logger, clock, vantage } = opts;
  const options = redisOptions(opts.redisUrl, opts.redisPassword);
  // Locks and results: a connection of its own, failing fast in an outage (results then wait in
  // the buffer), while BullMQ's connections wait for Redis to come back.
  // A command cut off by a lost connection fails rather than being sent again on reconnection:
  // its message is then in the buffer, which is the one path that sends results twice.
  const redis = new Redis({ ...options, maxRetriesPerRequest: 2, autoResendUnfulfilledCommands: false });
  redis.on('error', () => {});
  // lb_sync lags shared by the vantage's workers (a lag must not depend on which worker checks).
  const kinds: Readonly<Record<string, ProbeKind>> = opts.kinds.lb_sync
    ? { ...opts.kinds, lb_sync: createLbSyncProbe({ tracker: new SharedLagStore(redis, vantage) }) as ProbeKind }
    : opts.kinds;
  const stopping = stopController();
  const self = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const delivery = new ResultDelivery({ redis, clock, logger, limits: opts.buffer ?? DEFAULT_BUFFER_LIMITS });
  const members = new VantageMembers(redis, vantage, self, clock);
  let completed = 0;
  let skipped = 0;
  let rejected = 0;
  let fallbackChecks = 0;
  let active = 0;

  /** A re-check's messages say so, with the check's group: `tocsin run` counts them and may ask again. */
  const recheckFields = (check: CheckJob, recheck: boolean) =>
    recheck ? { recheck: true as const, group: groupOf(check) } : {};

  const skip = (check: CheckJob, recheck = false): Promise<void> => {
    skipped++;
    return delivery.send({ type: 'skipped', v: FLEET_WIRE_VERSION, vantage, probe: check.probe.id, ...recheckFields(check, recheck) });
  };

  /** Runs a check and sends its results; false when it was cut short by shutdown. */
  const check = async (kind: ProbeKind, job: CheckJob, dueAt: number, recheck = false): Promise<boolean> => {
    const startedAt = clock.now();
    active++;
    try {
      const results = await runCheck(kind, job, { clock, signal: stopping.signal, sourceAddress: opts.sourceAddress });
      // A check cut short by shutdown says nothing about the target: drop it rather than report a failure.
      if (stopping.signal.aborted) return false;
      await delivery.send({
        type: 'results',
        v: FLEET_WIRE_VERSION,
        vantage,
        lag_ms: Math.max(0, startedAt - dueAt),
        results,
        ...recheckFields(job, recheck),
      });
      return true;
    } finally {
      active--;
    }
  };

  const fallback = new FallbackSchedule({
    clock,
    concurrency: opts.concurrency,
    skipped: (job) => void skip(job),
    run: async (job, dueAt) => {
      const kind = kinds[job.probe.kind];
      if (kind && (await check(kind, job, dueAt))) fallbackChecks++;
    },
  });

  const processJob = async (job: Job): Promise<void> => {
    const found = fromJobData(job.data);
    const kind = found ? kinds[found.probe.kind] : undefined;
    if (!found || !kind) {
      if (rejected++ === 0) {
        logger.warn({ job: job.name, id: job.id }, 'ignoring a job this worker cannot run (version or kind unknown)');
      }
      return;
    }
    if (found.vantage !== vantage) {
      rejected++;
      return;
    }
    fallback.learn(found);
    backToJobs('jobs flow again');
    // The slot the scheduler meant the job for (job schedulers record it as prevMillis).
    const prevMillis = (job.opts as { prevMillis?: unknown }).prevMillis;
    const dueAt = typeof prevMillis === 'number' ? prevMillis : job.timestamp + (job.opts.delay ?? 0);
    // A re-check (a plain job) takes its scheduler's lock: it never runs beside a regular check.
    const recheck = isRecheckJob(job.data);
    const lock = busyKey(vantage, job.repeatJobKey ?? schedulerId(found));
    const token = `${job.id ?? ''}`;
    const got = await redis
      .set(lock, token, 'PX', found.probe.timeoutMs + LOCK_GRACE_MS, 'NX')
      .catch(() => 'OK' as const);
    if (got !== 'OK') {
      await skip(found, recheck);
      return;
    }
    try {
      if (await check(kind, found, dueAt, recheck)) completed++;
    } finally {
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

  // The vantage's schedule as Redis holds it (the job schedulers' templates): the fallback's copy.
  const schedules = new Queue(queueName(vantage), { connection: redis, prefix: FLEET_KEYS.probePrefix });
  schedules.on('error', () => undefined);
  const readSchedule = async (): Promise<void> => {
    const checks: CheckJob[] = [];
    for (const s of await schedules.getJobSchedulers(0, -1, true)) {
      const c = fromJobData(s.template?.data);
      if (c && c.vantage === vantage && kinds[c.probe.kind]) checks.push(c);
    }
    fallback.replace(checks);
  };

  // The moment the connection drops, the worker's own schedule takes over: a slot missed while
  // it waited would be a check lost. When Redis answers again, jobs take over again.
  const fallBack = (): void => {
    if (stopping.signal.aborted || fallback.running || delivery.connected || fallback.size === 0) return;
    const taken = fallback.start(shareOf(self, members.members));
    logger.warn(
      { vantage, checks: taken, of: fallback.size, workers: Math.max(1, members.members.length) },
      'Redis unreachable: running this worker\'s share of the vantage\'s checks on its own schedule',
    );
  };
  // Redis answering again is not jobs flowing again (BullMQ reconnects on its own schedule, and
  // `tocsin run` may be re-creating the schedulers): the worker's own schedule goes on until the
  // first job comes, or until Redis has answered for JOBS_BACK_MS without one.
  let connectedAt: number | undefined;
  const backToJobs = (why: string): void => {
    if (!fallback.running) return;
    fallback.stop();
    logger.info({ vantage, fallbackChecks, buffered: delivery.buffer.size, why }, 'Redis answers again: back to its jobs; delivering buffered results');
    void delivery.drain();
  };
  redis.on('close', () => {
    connectedAt = undefined;
    fallBack();
  });
  redis.on('ready', () => {
    connectedAt = clock.now();
    void delivery.drain();
  });
  let lastReport = Number.NEGATIVE_INFINITY;
  let lastPlanRead = Number.NEGATIVE_INFINITY;
  let readVersion: string | null | undefined;
  let watching = false;
  const report = async (): Promise<void> => {
    await members.beat();
    await delivery.send({
      type: 'worker',
      v: FLEET_WIRE_VERSION,
      vantage,
      worker: self,
      buffered: delivery.buffer.size,
      dropped_overflow: delivery.buffer.droppedOverflow,
      dropped_expired: delivery.buffer.droppedExpired,
      fallback_checks: fallbackChecks,
    });
  };
  const watch = async (): Promise<void> => {
    const now = clock.now();
    delivery.expire();
    // The events above, checked again every second in case one came while nothing could act.
    if (!delivery.connected) {
      fallBack();
      return;
    }
    connectedAt ??= now;
    if (now - connectedAt >= JOBS_BACK_MS) backToJobs('no job came');
    await delivery.drain();
    if (now - lastReport >= REPORT_EVERY_MS) {
      lastReport = now;
      await report();
    }
    if (now - lastPlanRead >= PLAN_REFRESH_MS) {
      lastPlanRead = now;
      // The whole schedule is read again only when `tocsin run` synced a different one (always
      // when it sets no digest: an older version).
      const version = await redis.get(scheduleVersionKey(vantage));
      if (version === null || version !== readVersion) {
        await readSchedule();
        readVersion = version;
      }
    }
  };
  let watchTimer: ReturnType<TimerClock['setTimeout']> | undefined;
  const loop = (): void => {
    if (stopping.signal.aborted) return;
    if (!watching) {
      watching = true;
      watch()
        .catch((err: unknown) => logger.debug({ err: (err as Error).message }, 'worker watch failed'))
        .finally(() => {
          watching = false;
        });
    }
    watchTimer = clock.setTimeout(loop, WATCH_MS);
    watchTimer.unref?.();
  };

  const ready = worker.waitUntilReady().then(() => {
    logger.info(
      { vantage, concurrency: opts.concurrency, sourceAddress: opts.sourceAddress ?? null, queue: `${FLEET_KEYS.probePrefix}:${queueName(vantage)}` },
      'tocsin worker ready',
    );
  });
  ready.catch(() => undefined);
  loop();

  return {
    ready,
    stats: () => ({
      completed,
      skipped,
      rejected,
      lost: stopping.signal.aborted ? delivery.buffer.size : 0,
      buffered: delivery.buffer.size,
      droppedOverflow: delivery.buffer.droppedOverflow,
      droppedExpired: delivery.buffer.droppedExpired,
      fallbackChecks,
      active,
    }),
    async stop(graceMs) {
      if (watchTimer) clock.clearTimeout(watchTimer);
      fallback.stop();
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
      // Results still buffered get one last chance, bounded like the rest of the stop.
      await Promise.race([
        Promise.all([delivery.drain(), members.leave().catch(() => undefined)]),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
      await schedules.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
