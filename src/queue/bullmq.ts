import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { ProbeKind } from '../../probes/probe.js';
import type { TimerClock, TimerHandle } from '../clock.js';
import type { Plan } from '../config/plan.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { ResultsBus } from '../results/bus.js';
import { phaseOffset } from '../schedule/phase.js';
import { Rechecker } from '../schedule/rechecker.js';
import { type FleetMessage, toJobData, toRecheckJobData } from './bullmq-jobs.js';
import { redactRedisUrl as redactUrl, redisOptions } from '../redis/connection.js';
import { FLEET_KEYS, queueName, scheduleVersionKey, schedulerId } from './bullmq-keys.js';
import { readStreamRange, ResultsReader } from './bullmq-results.js';
import { VantageMonitor, type VantageView } from './bullmq-vantages.js';
import { WorkerReports } from './bullmq-worker-reports.js';
import { checkKey, planJobs } from './jobs.js';
import type { CheckJob } from '../schedule/check-job.js';
import type { DurableResults, ProbeQueue, QueueStats, Replayed } from './port.js';
import type { ProbeResult } from '../events/probe-result.js';

/** Job options of every probe job: one attempt (the next slot is the retry), little history kept. */
const JOB_OPTIONS = {
  attempts: 1,
  removeOnComplete: { count: 10 },
  removeOnFail: { count: 50 },
} as const;
/** A re-check job: one attempt, gone once run (nothing to keep: its result is on the stream). */
const RECHECK_JOB_OPTIONS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;
/** Scheduler upserts in flight at once during a sync (10,000 checks are 10,000 upserts). */
const SYNC_PARALLELISM = 32;
/** How long `sync` waits for Redis before returning and finishing in the background. */
const SYNC_WAIT_MS = 5000;
/**
 * Results older than this when read (a daemon back after a long stop) would mislead the engine;
 * the plan's `queue.buffer.max_age` replaces it.
 */
const DEFAULT_MAX_RESULT_AGE_MS = 10 * 60_000;
const TICK_MS = 1000;

export interface BullmqQueueDeps {
  readonly kinds: Readonly<Record<string, ProbeKind>>;
  readonly bus: ResultsBus;
  readonly metrics: Metrics;
  readonly clock: TimerClock;
  readonly logger: Logger;
  /** `queue.redis_url`. */
  readonly redisUrl: string;
  /** Redis's password when the URL has none (`queue.password_env`). */
  readonly redisPassword?: string | undefined;
}

/**
 * The fleet ProbeQueue, inside `tocsin run`: one BullMQ queue per vantage (`tocsin:probes:<vantage>`)
 * with one job scheduler per check (probe × target group), so Redis — not this process — keeps
 * time; `tocsin worker --vantage V` processes runs the checks and append their results to the
 * `tocsin:results` stream, which this adapter reads and publishes on the results bus, so metrics,
 * latest results and the rules engine see every vantage exactly as in inline mode.
 *
 * Redis may go away at any time: nothing here throws on it. Scheduling state lives in Redis, so
 * after a restart that lost it (no persistence) the schedulers are upserted again on reconnect.
 */
export class BullmqQueue implements ProbeQueue {
  /** Shared by the BullMQ queues, the stats poll and the vantage set. */
  readonly #redis: Redis;
  readonly #reader: ResultsReader;
  readonly #queues = new Map<string, Queue>();
  readonly #monitor: VantageMonitor;
  readonly #reports: WorkerReports;
  /** Results older than this when read are dropped (`queue.buffer.max_age`: what workers keep). */
  #maxAgeMs = DEFAULT_MAX_RESULT_AGE_MS;
  #plan: Plan | undefined;
  #jobs: CheckJob[] = [];
  #jobByKey = new Map<string, CheckJob>();
  readonly #rechecker: Rechecker;
  #probes = new Set<string>();
  #vantages = new Set<string>();
  #started = false;
  #closed = false;
  #counts = { active: 0, waiting: 0 };
  #ticks = 0;
  #timer: TimerHandle | undefined;
  #reconcileWanted = false;
  #reconciling: Promise<void> | undefined;
  #connectedOnce = false;
  #redisDown = false;
  /** Results read but not published: unknown probe or vantage, or too old. */
  dropped = 0;

  constructor(private readonly deps: BullmqQueueDeps) {
    const options = redisOptions(deps.redisUrl, deps.redisPassword);
    // Commands wait through an outage (the daemon keeps running); BullMQ requires this of a
    // shared connection anyway.
    this.#redis = new Redis({ ...options, maxRetriesPerRequest: null, lazyConnect: true });
    this.#redis.on('error', () => {
      // Reported once per outage by the 'close'/'ready' handlers below; ioredis retries by itself.
    });
    this.#redis.on('close', () => {
      if (this.#closed || this.#redisDown) return;
      this.#redisDown = true;
      deps.logger.warn({ redis: redactUrl(deps.redisUrl) }, 'lost the connection to Redis; reconnecting');
    });
    this.#redis.on('ready', () => {
      if (this.#redisDown) deps.logger.info('connected to Redis again; re-syncing the job schedulers');
      this.#redisDown = false;
      // A Redis restarted without persistence lost every scheduler: put them back.
      if (this.#connectedOnce && this.#plan) void this.#requestReconcile();
      this.#connectedOnce = true;
    });
    const readerRedis = new Redis({ ...options, maxRetriesPerRequest: null, lazyConnect: true });
    readerRedis.on('error', () => {});
    this.#reader = new ResultsReader({
      redis: readerRedis,
      logger: deps.logger,
      onMessage: (msg) => this.#onMessage(msg),
    });
    this.#monitor = new VantageMonitor({ clock: deps.clock, logger: deps.logger, metrics: deps.metrics });
    this.#reports = new WorkerReports(deps.metrics);
    this.#rechecker = new Rechecker({ clock: deps.clock, metrics: deps.metrics });
    this.#redis.connect().catch(() => {
      // The retry strategy keeps trying; `running` stays false meanwhile.
    });
  }

  /** Started, not stopped, and Redis answers: what /readyz reports as "the scheduler runs". */
  get running(): boolean {
    return this.#started && !this.#closed && this.#redis.status === 'ready';
  }

  /** The vantage-level view (last report, staleness), for the API. */
  vantages(): VantageView[] {
    return this.#monitor.views();
  }

  async sync(plan: Plan): Promise<void> {
    this.#plan = plan;
    this.#jobs = planJobs(plan, this.deps.kinds, plan.vantages);
    this.#jobByKey = new Map(this.#jobs.map((j) => [j.key, j]));
    this.#rechecker.setPlan(plan);
    this.#probes = new Set(plan.probes.map((p) => p.id));
    this.#vantages = new Set(plan.vantages);
    if (plan.queue.kind === 'bullmq') this.#maxAgeMs = plan.queue.buffer.max_age;
    this.#monitor.setPlan(plan);
    this.deps.metrics.schedulerScheduled.set(this.#jobs.length);
    const done = this.#requestReconcile();
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      done.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), SYNC_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    if (!waited) {
      this.deps.logger.warn(
        { redis: redactUrl(this.deps.redisUrl) },
        'Redis not reachable: the job schedulers will be synced once it is',
      );
    }
  }

  async start(): Promise<void> {
    this.#started = true;
    this.#monitor.reset();
    this.#reader.start();
    this.#tick();
  }

  /** Stops reading results (none is published after this resolves); workers and schedulers go on. */
  async stop(graceMs: number): Promise<void> {
    this.#started = false;
    this.#closed = true;
    if (this.#timer) this.deps.clock.clearTimeout(this.#timer);
    await this.#reader.stop();
    // A sync in progress gets the grace period, then the connection is dropped under it.
    if (this.#reconciling) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.#reconciling.catch(() => undefined),
        new Promise((r) => {
          timer = setTimeout(r, graceMs);
        }),
      ]);
      clearTimeout(timer);
    }
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined)));
    this.#redis.disconnect();
  }

  stats(): QueueStats {
    return { scheduled: this.#jobs.length, inflight: this.#counts.active, waiting: this.#counts.waiting };
  }

  #queue(vantage: string): Queue {
    let q = this.#queues.get(vantage);
    if (!q) {
      q = new Queue(queueName(vantage), { connection: this.#redis, prefix: FLEET_KEYS.probePrefix });
      q.on('error', (err) => this.deps.logger.debug({ err: err.message, vantage }, 'probe queue error'));
      this.#queues.set(vantage, q);
    }
    return q;
  }

  /** Runs reconciliations one at a time; a request during one runs another after it with the latest plan. */
  #requestReconcile(): Promise<void> {
    this.#reconcileWanted = true;
    this.#reconciling ??= (async () => {
      let failures = 0;
      while (this.#reconcileWanted && !this.#closed) {
        this.#reconcileWanted = false;
        try {
          await this.#reconcile();
          if (failures > 0) this.deps.logger.info('job schedulers synced');
        } catch (err) {
          if (this.#closed) break;
          if (failures++ === 0) this.deps.logger.warn({ err: (err as Error).message }, 'could not sync the job schedulers; retrying');
          this.#reconcileWanted = true;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    })().finally(() => {
      this.#reconciling = undefined;
    });
    return this.#reconciling;
  }

  async #reconcile(): Promise<void> {
    const plan = this.#plan;
    if (!plan) return;
    const jobs = this.#jobs;
    // Vantages dropped from the config: their schedulers go, or their workers would run stale checks.
    const known = await this.#redis.smembers(FLEET_KEYS.vantages);
    for (const v of known) {
      if (plan.vantages.includes(v)) continue;
      await this.#reconcileVantage(v, []);
      await this.#redis.del(scheduleVersionKey(v));
      await this.#queue(v).close();
      this.#queues.delete(v);
      await this.#redis.srem(FLEET_KEYS.vantages, v);
    }
    if (plan.vantages.length > 0) await this.#redis.sadd(FLEET_KEYS.vantages, ...plan.vantages);
    for (const v of plan.vantages) {
      await this.#reconcileVantage(
        v,
        jobs.filter((j) => j.vantage === v),
      );
    }
  }

  async #reconcileVantage(vantage: string, jobs: readonly CheckJob[]): Promise<void> {
    const queue = this.#queue(vantage);
    const existing = new Map<string, { hash: unknown; every: number | undefined }>();
    for (const s of await queue.getJobSchedulers(0, -1, true)) {
      const data = s.template?.data as { hash?: unknown } | undefined;
      existing.set(s.key, { hash: data?.hash, every: s.every });
    }
    const wanted = new Set<string>();
    const upserts: (() => Promise<unknown>)[] = [];
    const digest = createHash('sha1');
    for (const job of jobs) {
      const id = schedulerId(job);
      wanted.add(id);
      const data = toJobData(job);
      digest.update(`${id}\u0000${data.hash}\u0000${job.probe.intervalMs}\n`);
      const cur = existing.get(id);
      if (cur && cur.hash === data.hash && cur.every === job.probe.intervalMs) continue;
      upserts.push(() =>
        queue.upsertJobScheduler(
          id,
          { every: job.probe.intervalMs, offset: phaseOffset(job.key, job.probe.intervalMs) },
          { name: job.probe.id, data, opts: JOB_OPTIONS },
        ),
      );
    }
    for (const id of existing.keys()) {
      if (!wanted.has(id)) upserts.push(() => queue.removeJobScheduler(id));
    }
    await inBatches(upserts, SYNC_PARALLELISM);
    if (jobs.length > 0) await this.#redis.set(scheduleVersionKey(vantage), digest.digest('hex'));
  }

  #tick(): void {
    if (this.#closed) return;
    this.#monitor.check();
    if (this.#ticks++ % 2 === 0 && this.#redis.status === 'ready') {
      this.#refreshCounts().catch(() => undefined);
    }
    this.#timer = this.deps.clock.setTimeout(() => this.#tick(), TICK_MS);
    this.#timer.unref?.();
  }

  async #refreshCounts(): Promise<void> {
    let active = 0;
    let waiting = 0;
    for (const q of this.#queues.values()) {
      const c = await q.getJobCounts('active', 'waiting', 'prioritized');
      active += c.active ?? 0;
      waiting += (c.waiting ?? 0) + (c.prioritized ?? 0);
    }
    this.#counts = { active, waiting };
    this.deps.metrics.schedulerInflight.set(active);
  }

  #onMessage(msg: FleetMessage): void {
    const { deps } = this;
    deps.logger.trace({ msg }, 'fleet message');
    if (!this.#vantages.has(msg.vantage)) {
      this.dropped++;
      return;
    }
    // A report says the worker lives, not that the vantage's checks run: it is not "seen".
    if (msg.type === 'worker') {
      this.#reports.record(msg, deps.clock.now());
      return;
    }
    this.#monitor.seen(msg.vantage);
    if (msg.type === 'skipped') {
      if (msg.recheck) {
        const job = this.#jobByKey.get(checkKey(msg.probe, msg.group ?? '', msg.vantage));
        if (job) this.#rechecker.skipped(job);
      } else if (this.#probes.has(msg.probe)) deps.metrics.schedulerSkipped.inc({ probe: msg.probe });
      return;
    }
    deps.metrics.schedulerLag.observe(msg.lag_ms / 1000);
    const usable = this.#usable(msg.results, msg.vantage);
    for (const r of usable) deps.bus.publish(r);
    if (usable.length > 0) this.#afterCheck(msg.vantage, usable, msg.recheck === true, msg.group);
  }

  /**
   * Re-checks are decided here, where every vantage's results arrive, and run by the vantage
   * that checked: a one-off job on that vantage's queue only (docs/fleet.md, "Re-checks").
   */
  #afterCheck(vantage: string, results: readonly ProbeResult[], recheck: boolean, group: string | undefined): void {
    const first = results[0];
    if (!first) return;
    // One message holds one check's results: its group is the target, or `*` for grouped kinds.
    const job =
      this.#jobByKey.get(checkKey(first.probe, group ?? first.target ?? '', vantage)) ??
      this.#jobByKey.get(checkKey(first.probe, '*', vantage));
    if (!job) return;
    const at = this.#rechecker.after(job, results, recheck);
    if (at === undefined) return;
    if (this.#redis.status !== 'ready') {
      this.#rechecker.skipped(job);
      return;
    }
    const delay = Math.max(0, at - this.deps.clock.now());
    // Named after the check it follows: every `tocsin run` reading the stream asks for the same
    // job, which BullMQ adds once; the next re-check has a name of its own (the job it follows
    // may not be removed yet when its result is read).
    const jobId = `recheck~${schedulerId(job)}~${Date.parse(first.at)}`;
    this.#queue(vantage)
      .add(job.probe.id, toRecheckJobData(job), { ...RECHECK_JOB_OPTIONS, jobId, delay })
      .catch(() => this.#rechecker.skipped(job));
  }

  /** The results the plan still has a use for: known probe, the message's vantage, not too old. */
  #usable(results: readonly ProbeResult[], vantage: string): ProbeResult[] {
    const now = this.deps.clock.now();
    const out: ProbeResult[] = [];
    for (const r of results) {
      if (!this.#probes.has(r.probe) || r.vantage !== vantage || now - Date.parse(r.at) > this.#maxAgeMs) {
        this.dropped++;
        continue;
      }
      out.push(r);
    }
    return out;
  }

  /** The results stream as the engine's durable source (positions are stream ids). */
  readonly durable: DurableResults = {
    position: () => this.#reader.position(),
    delivered: () => this.#reader.delivered,
    replay: async (after, until, onResults) => {
      let results = 0;
      let skipped = 0;
      const { gap } = await readStreamRange(this.#redis, after, until, (messages) => {
        for (const msg of messages) {
          if (msg.type !== 'results') continue;
          if (!this.#vantages.has(msg.vantage)) {
            skipped += msg.results.length;
            continue;
          }
          const usable = this.#usable(msg.results, msg.vantage);
          skipped += msg.results.length - usable.length;
          results += usable.length;
          if (usable.length > 0) onResults(usable);
        }
      });
      return { results, skipped, gap } satisfies Replayed;
    },
  };
}

/** Runs the tasks with at most `limit` at once. */
async function inBatches(tasks: readonly (() => Promise<unknown>)[], limit: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task) await task();
    }
  });
  await Promise.all(lanes);
}
