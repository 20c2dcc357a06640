import { performance } from 'node:perf_hooks';

/** What a deadline is built from: the runner's abort signal and the check's budget. */
export interface DeadlineSource {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
}

/**
 * One deadline for a whole check (every redirect, every operation). It fires when the runner's
 * signal aborts or when the budget runs out, whichever comes first: the probe does not trust the
 * runner alone to abort it, so a forgotten signal cannot leave a check hanging.
 * Always `dispose()` it (in a `finally`): that clears the timer and unhooks the runner's signal.
 */
export class Deadline {
  readonly budgetMs: number;
  readonly startedAt: number;
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly parent: AbortSignal;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);

  constructor(source: DeadlineSource) {
    this.budgetMs = source.timeoutMs;
    this.startedAt = performance.now();
    this.parent = source.signal;
    this.timer = setTimeout(
      () => this.controller.abort(new Error('deadline')),
      Math.max(0, source.timeoutMs),
    );
    // The timer must never keep the process alive on its own (the runner's signal does the waiting).
    this.timer.unref();
    if (source.signal.aborted) this.controller.abort(source.signal.reason);
    else source.signal.addEventListener('abort', this.onParentAbort, { once: true });
  }

  /** Aborted when the deadline passes; hand it to APIs that take a signal. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get expired(): boolean {
    return this.controller.signal.aborted;
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
    const signal = this.controller.signal;
    if (signal.aborted) {
      let cancelled = false;
      queueMicrotask(() => {
        if (!cancelled) fn();
      });
      return () => {
        cancelled = true;
      };
    }
    signal.addEventListener('abort', fn, { once: true });
    return () => signal.removeEventListener('abort', fn);
  }

  /** Releases the timer and the runner's signal. Idempotent. */
  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}

/** Rounds a millisecond figure for events: sub-millisecond precision is noise over a network. */
export function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}
