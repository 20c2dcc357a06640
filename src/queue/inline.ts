import type { ProbeKind } from '../../probes/probe.js';
import type { TimerClock, TimerHandle } from '../clock.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Plan } from '../config/plan.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { ResultsBus } from '../results/bus.js';
import { Rechecker } from '../schedule/rechecker.js';
import { Scheduler } from '../schedule/scheduler.js';
import { planJobs } from './jobs.js';
import type { CheckJob } from '../schedule/check-job.js';
import type { ProbeQueue, QueueStats } from './port.js';
import { type RunCheckOptions, runCheck, stopController } from './run-check.js';

export interface InlineQueueDeps {
  readonly kinds: Readonly<Record<string, ProbeKind>>;
  readonly bus: ResultsBus;
  readonly metrics: Metrics;
  readonly clock: TimerClock;
  readonly logger: Logger;
  /** The vantage this process probes from. */
  readonly vantage: string;
  /** Checks running at once. */
  readonly concurrency: number;
}

interface Waiting {
  readonly job: CheckJob;
  readonly dueAt: number;
  /** A re-check after a failure (docs/rules.md, "Re-checks"), not a slot of the schedule. */
  readonly recheck: boolean;
}

/**
 * The embedded ProbeQueue: a hash-phased scheduler and a bounded pool of in-process checks.
 * A check still running (or still waiting for a slot) when its next slot comes is skipped.
 */
export class InlineQueue implements ProbeQueue {
  readonly #scheduler: Scheduler;
  #jobs = new Map<string, CheckJob>();
  /** Keys running or waiting: at most one of each at a time. */
  readonly #busy = new Set<string>();
  readonly #waiting: Waiting[] = [];
  #waitingHead = 0;
  /** Checks running, by job key (a job runs once at a time: `#busy`). */
  readonly #inflight = new Map<string, Promise<void>>();
  #stopping: AbortController = stopController();
  /** What every check of this run is given (made at start: one object, not one per check). */
  #runOptions: RunCheckOptions;
  readonly #rechecker: Rechecker;
  /** Re-checks waiting for their time, by job key: one per job at most. */
  readonly #rechecks = new Map<string, TimerHandle>();

  constructor(private readonly deps: InlineQueueDeps) {
    this.#runOptions = { clock: deps.clock, signal: this.#stopping.signal };
    this.#scheduler = new Scheduler(deps.clock, {
      onDue: (key, dueAt) => this.#onDue(key, dueAt),
      onMissed: (key, slots) => {
        const job = this.#jobs.get(key);
        if (job) deps.metrics.schedulerSkipped.inc({ probe: job.probe.id }, slots);
      },
    });
    this.#rechecker = new Rechecker({ clock: deps.clock, metrics: deps.metrics });
  }

  get running(): boolean {
    return this.#scheduler.running;
  }

  async sync(plan: Plan): Promise<void> {
    const jobs = planJobs(plan, this.deps.kinds, [this.deps.vantage]);
    this.#jobs = new Map(jobs.map((j) => [j.key, j]));
    this.#rechecker.setPlan(plan);
    this.#scheduler.set(jobs.map((j) => ({ key: j.key, intervalMs: j.probe.intervalMs })));
    this.deps.metrics.schedulerScheduled.set(jobs.length);
  }

  async start(): Promise<void> {
    this.#stopping = stopController();
    this.#runOptions = { clock: this.deps.clock, signal: this.#stopping.signal };
    this.#scheduler.start();
  }

  async stop(graceMs: number): Promise<void> {
    this.#scheduler.stop();
    for (const timer of this.#rechecks.values()) this.deps.clock.clearTimeout(timer);
    this.#rechecks.clear();
    this.#rechecker.clearPending();
    for (let i = this.#waitingHead; i < this.#waiting.length; i++) {
      const w = this.#waiting[i];
      if (w) this.#busy.delete(w.job.key);
    }
    this.#waiting.length = 0;
    this.#waitingHead = 0;
    const all = Promise.allSettled([...this.#inflight.values()]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([all, grace]);
    clearTimeout(timer);
    // Past the grace period, abort what is left; runCheck returns promptly once aborted.
    this.#stopping.abort(new Error('shutdown'));
    await all;
  }

  stats(): QueueStats {
    return {
      scheduled: this.#jobs.size,
      inflight: this.#inflight.size,
      waiting: this.#waiting.length - this.#waitingHead,
    };
  }

  #onDue(key: string, dueAt: number): void {
    const job = this.#jobs.get(key);
    if (!job) return;
    if (this.#busy.has(key)) {
      this.deps.metrics.schedulerSkipped.inc({ probe: job.probe.id });
      return;
    }
    this.#busy.add(key);
    this.#waiting.push({ job, dueAt, recheck: false });
    this.#pump();
  }

  /**
   * A re-check's time came. It never waits in line: with its job running or waiting, or no free
   * slot for it (the scheduler is behind), it is skipped and counted; the next regular check goes
   * on from there.
   */
  #onRecheck(key: string): void {
    this.#rechecks.delete(key);
    const job = this.#jobs.get(key);
    if (!job || !this.running) return;
    const full = this.#inflight.size >= this.deps.concurrency || this.#waitingHead < this.#waiting.length;
    if (this.#busy.has(key) || full) {
      this.#rechecker.skipped(job);
      return;
    }
    this.#busy.add(key);
    this.#waiting.push({ job, dueAt: this.deps.clock.now(), recheck: true });
    this.#pump();
  }

  #afterCheck(job: CheckJob, results: readonly ProbeResult[], recheck: boolean): void {
    const at = this.#rechecker.after(job, results, recheck);
    if (at === undefined || this.#rechecks.has(job.key)) return;
    const timer = this.deps.clock.setTimeout(() => this.#onRecheck(job.key), at - this.deps.clock.now());
    this.#rechecks.set(job.key, timer);
  }

  #pump(): void {
    while (this.#inflight.size < this.deps.concurrency && this.#waitingHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitingHead++];
      if (this.#waitingHead > 1024 && this.#waitingHead * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#waitingHead);
        this.#waitingHead = 0;
      }
      if (next) this.#start(next);
    }
  }

  #start({ job, dueAt, recheck }: Waiting): void {
    const { deps } = this;
    const kind = deps.kinds[job.probe.kind];
    if (!kind) {
      this.#busy.delete(job.key);
      return;
    }
    deps.metrics.schedulerLag.observe(Math.max(0, deps.clock.now() - dueAt) / 1000);
    this.#inflight.set(job.key, this.#run(kind, job, recheck));
    deps.metrics.schedulerInflight.set(this.#inflight.size);
  }

  /** One check, start to end: one async frame (no promise chain of closures per check). */
  async #run(kind: ProbeKind, job: CheckJob, recheck: boolean): Promise<void> {
    const { deps } = this;
    try {
      const results = await runCheck(kind, job, this.#runOptions);
      // A check cut short by shutdown says nothing about the target: drop it rather than report a failure.
      if (this.#stopping.signal.aborted) return;
      for (const r of results) deps.bus.publish(r);
      this.#afterCheck(job, results, recheck);
    } catch (err) {
      deps.logger.error({ err, probe: job.probe.id }, 'check failed unexpectedly');
    } finally {
      this.#inflight.delete(job.key);
      this.#busy.delete(job.key);
      deps.metrics.schedulerInflight.set(this.#inflight.size);
      this.#pump();
    }
  }
}
