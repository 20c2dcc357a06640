import type { ProbeResult } from '../events/probe-result.js';

export type ResultListener = (result: ProbeResult) => void;

/**
 * Fan-out of probe-result events to their consumers (metrics, latest-result store, rules engine).
 * Synchronous on purpose: consumers are cheap in-memory updates; anything slow (disk, network)
 * buffers on its side. A throwing listener is reported and never stops the others.
 */
export class ResultsBus {
  readonly #listeners: ResultListener[] = [];

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  subscribe(listener: ResultListener): () => void {
    this.#listeners.push(listener);
    return () => {
      const i = this.#listeners.indexOf(listener);
      if (i >= 0) this.#listeners.splice(i, 1);
    };
  }

  publish(result: ProbeResult): void {
    for (const listener of this.#listeners) {
      try {
        listener(result);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }
}
