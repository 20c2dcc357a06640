import type { Registry } from 'prom-client';

/**
 * The `/metrics` text, rendered at most once at a time: scrapes that arrive while a render runs
 * (two Prometheus servers, a dashboard refresh) share it instead of queueing renders of their
 * own on the event loop that runs the checks and the API. A scrape that arrives after a render
 * finished gets a fresh one: the exposition is never older than the request.
 */
export class Exposition {
  #rendering: Promise<string> | undefined;

  constructor(private readonly registry: Pick<Registry, 'metrics'>) {}

  text(): Promise<string> {
    this.#rendering ??= this.registry.metrics().finally(() => {
      this.#rendering = undefined;
    });
    return this.#rendering;
  }
}
