import type { Registry } from 'prom-client';

/** Scrapes within this long of a render get the same text (an HA pair of Prometheus, a retry). */
const FRESH_MS = 1000;

/**
 * The `/metrics` text, rendered at most once at a time and reused for FRESH_MS: scrapes that
 * arrive together (two Prometheus servers, a dashboard refresh) cost one render, not one each,
 * so the event loop that runs checks and the API never renders the same exposition twice over.
 */
export class Exposition {
  #last: { text: string; at: number } | undefined;
  #rendering: Promise<string> | undefined;

  constructor(
    private readonly registry: Pick<Registry, 'metrics'>,
    private readonly now: () => number = () => performance.now(),
  ) {}

  text(): Promise<string> {
    const last = this.#last;
    if (last && this.now() - last.at < FRESH_MS) return Promise.resolve(last.text);
    this.#rendering ??= this.registry
      .metrics()
      .then((text) => {
        this.#last = { text, at: this.now() };
        return text;
      })
      .finally(() => {
        this.#rendering = undefined;
      });
    return this.#rendering;
  }
}
