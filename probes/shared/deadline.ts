import { performance } from 'node:perf_hooks';

/** What a deadline is built from: the runner's abort signal and the check's budget. */
export interface DeadlineSource {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** When given, listened to instead of `signal` (which is then never read): see CheckContext. */
  readonly shutdown?: AbortSignal | undefined;
}

/**
 * One deadline for a whole check (every redirect, every operation). It fires when the runner's
 * signal aborts or when the budget runs out, whichever comes first: the probe does not trust the
 * runner alone to abort it, so a forgotten signal cannot leave a check hanging.
 * Always `dispose()` it (in a `finally`): that clears the timer and unhooks the runner's signal.
 *
 * Its own AbortSignal is made only when something asks for `signal` (an API that takes one): a
 * check that only needs `onExpire` (the http kind, once per check) keeps its callbacks in a set,
 * which costs far less than an AbortController and an event listener per check.
 */
export class Deadline {
  readonly budgetMs: number;
  readonly startedAt: number;
  private readonly timer: NodeJS.Timeout;
  private readonly parent: AbortSignal;
  private readonly onParentAbort = (): void => this.expire(this.parent.reason);
  private done = false;
  private reason: unknown;
  private controller: AbortController | undefined;
  /** `onExpire` callbacks registered before `signal` was asked for (then they move onto it). */
  private pending: Set<() => void> | undefined;

  constructor(source: DeadlineSource) {
    this.budgetMs = source.timeoutMs;
    this.startedAt = performance.now();
    // The runner's shutdown signal when it gives one: the deadline itself is this object's timer.
    this.parent = source.shutdown ?? source.signal;
    this.timer = setTimeout(() => this.expire(new Error('deadline')), Math.max(0, source.timeoutMs));
    // The timer must never keep the process alive on its own (the runner's signal does the waiting).
    this.timer.unref();
    // No `{ once: true }`: a signal aborts once, `dispose` removes the listener, and the options
    // object costs its validation at every check.
    if (this.parent.aborted) this.expire(this.parent.reason);
    else this.parent.addEventListener('abort', this.onParentAbort);
  }

  /** Aborted when the deadline passes; hand it to APIs that take a signal. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      const controller = new AbortController();
      this.controller = controller;
      if (this.done) controller.abort(this.reason);
      for (const fn of this.pending ?? []) controller.signal.addEventListener('abort', fn, { once: true });
      this.pending = undefined;
    }
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.done;
  }

  /** Milliseconds since the check started (monotonic clock). */
  elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  remainingMs(): number {
    return Math.max(0, this.budgetMs - this.elapsedMs());
  }

  /**
   * Calls `fn` once when the deadline passes (on the next microtask if it already has).
   * Returns the function that unregisters it: call it when the guarded operation ends, so that
   * long checks with many operations do not pile listeners on one signal.
   */
  onExpire(fn: () => void): () => void {
    if (this.done) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) fn();
      });
      return () => {
        cancelled = true;
      };
    }
    if (this.controller === undefined) {
      this.pending ??= new Set();
      this.pending.add(fn);
    } else {
      this.controller.signal.addEventListener('abort', fn, { once: true });
    }
    return () => {
      // Wherever it is now: `signal` may have been asked for since.
      if (this.pending?.delete(fn) !== true) this.controller?.signal.removeEventListener('abort', fn);
    };
  }

  /** Releases the timer and the runner's signal. Idempotent. */
  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }

  private expire(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const pending = this.pending;
    this.pending = undefined;
    for (const fn of pending ?? []) fn();
  }
}

/** Rounds a millisecond figure for events: sub-millisecond precision is noise over a network. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}
