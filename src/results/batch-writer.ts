import type { ProbeResult } from '../events/probe-result.js';
import { seriesKey } from './key.js';

export interface BatchWriterOptions {
  /** Writes one batch; called at most once at a time. */
  readonly write: (results: readonly ProbeResult[]) => Promise<void>;
  /** Flush period in ms. Default 1000. */
  readonly intervalMs?: number;
  /** Each failed write; `first`: the first since the store last took one (log that one only). */
  readonly onError: (err: unknown, first: boolean) => void;
  /** The first write that succeeds after failures. */
  readonly onRecovered?: () => void;
}

/**
 * Coalesces results into periodic batch writes: at 10,000 probes a write per result would be
 * hundreds of transactions a second, while the store only needs the latest per series.
 */
export class BatchWriter {
  #pending = new Map<string, ProbeResult>();
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #failing = false;

  constructor(private readonly opts: BatchWriterOptions) {}

  start(): void {
    this.#timer = setInterval(() => void this.flush(), this.opts.intervalMs ?? 1000);
    this.#timer.unref();
  }

  add(result: ProbeResult): void {
    this.#pending.set(seriesKey(result), result);
  }

  /** Writes what is pending (waiting for a write in progress first). */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      if (this.#pending.size === 0) return;
      const batch = [...this.#pending.values()];
      this.#pending = new Map();
      try {
        await this.opts.write(batch);
        if (this.#failing) this.opts.onRecovered?.();
        this.#failing = false;
      } catch (err) {
        this.opts.onError(err, !this.#failing);
        this.#failing = true;
      }
    });
    return this.#writing;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.flush();
  }
}
