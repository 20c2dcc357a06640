import type { TimerClock } from '../clock.js';
import type { CheckJob } from '../schedule/check-job.js';
import { keyHash } from '../schedule/phase.js';
import { Scheduler } from '../schedule/scheduler.js';

export interface FallbackDeps {
  readonly clock: TimerClock;
  /** Checks run at once, as for jobs. */
  readonly concurrency: number;
  /** Runs one check due at `dueAt` (its results go to the buffer). */
  readonly run: (check: CheckJob, dueAt: number) => Promise<void>;
  /** A slot passed while its previous check still ran, or every slot was busy. */
  readonly skipped: (check: CheckJob) => void;
}

/**
 * The worker's own copy of its vantage's schedule, and a local scheduler over it for when Redis
 * is unreachable: a BullMQ queue it cannot reach hands out no jobs, yet the vantage must go on
 * checking. The copy is learnt from Redis while it answers (the job schedulers' templates, and
 * every job run); the slots are the inline scheduler's (same hash phase as the job schedulers'
 * offsets), so a check keeps roughly its rhythm across the switch.
 */
export class FallbackSchedule {
  readonly #checks = new Map<string, CheckJob>();
  readonly #scheduler: Scheduler;
  readonly #running = new Set<string>();
  #active = 0;

  constructor(private readonly deps: FallbackDeps) {
    this.#scheduler = new Scheduler(deps.clock, {
      onDue: (key, dueAt) => this.#due(key, dueAt),
      onMissed: (key) => {
        const check = this.#checks.get(key);
        if (check) deps.skipped(check);
      },
    });
  }

  /** Checks known. */
  get size(): number {
    return this.#checks.size;
  }

  get running(): boolean {
    return this.#scheduler.running;
  }

  /** A check seen in a job: added, or its spec and interval updated. */
  learn(check: CheckJob): void {
    this.#checks.set(check.key, check);
  }

  /** The whole schedule as Redis has it now: checks no longer there are forgotten. */
  replace(checks: readonly CheckJob[]): void {
    this.#checks.clear();
    for (const c of checks) this.#checks.set(c.key, c);
  }

  /** Starts checking the known schedule, only the checks `mine` keeps (the worker's share). */
  start(mine: (key: string) => boolean): number {
    const entries = [...this.#checks.values()]
      .filter((c) => mine(c.key))
      .map((c) => ({ key: c.key, intervalMs: c.probe.intervalMs }));
    this.#scheduler.set(entries);
    this.#scheduler.start();
    return entries.length;
  }

  /** Stops scheduling; checks already running end by themselves. */
  stop(): void {
    this.#scheduler.stop();
    this.#scheduler.set([]);
  }

  #due(key: string, dueAt: number): void {
    const check = this.#checks.get(key);
    if (!check) return;
    if (this.#running.has(key) || this.#active >= this.deps.concurrency) {
      this.deps.skipped(check);
      return;
    }
    this.#running.add(key);
    this.#active++;
    void this.deps
      .run(check, dueAt)
      .catch(() => undefined)
      .finally(() => {
        this.#running.delete(key);
        this.#active--;
      });
  }
}

/**
 * Which checks this worker takes while Redis is away: the vantage's workers split them by a hash
 * of the check key over the members they last saw, so a vantage with three workers does not run
 * every check three times. Alone (or never having seen the others) it takes them all.
 */
export function shareOf(self: string, members: readonly string[]): (key: string) => boolean {
  const sorted = [...new Set([...members, self])].sort();
  const index = sorted.indexOf(self);
  if (sorted.length <= 1) return () => true;
  return (key) => keyHash(key) % sorted.length === index;
}
