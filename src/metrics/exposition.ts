import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';

/** What the exposition needs of a registry (prom-client's Registry, or a test's stand-in). */
export type ExpositionSource = Pick<Registry, 'getMetricsAsArray' | 'getSingleMetricAsString'>;

/**
 * The `/metrics` text. Rendered one metric family at a time, giving the event loop back between
 * families: checks due and API requests run between them, so a scrape holds the loop for its
 * largest family (one line per probe), not for the whole exposition. Rendered at most once at a
 * time: scrapes that arrive during a render (two Prometheus servers, a dashboard refresh) share
 * it. A scrape that arrives after a render finished gets a fresh one: the text is never older
 * than its request. The text is prom-client's `registry.metrics()` exactly (Prometheus format).
 */
export class Exposition {
  #rendering: Promise<string> | undefined;

  constructor(private readonly registry: ExpositionSource) {}

  text(): Promise<string> {
    this.#rendering ??= this.#render().finally(() => {
      this.#rendering = undefined;
    });
    return this.#rendering;
  }

  async #render(): Promise<string> {
    const families: string[] = [];
    for (const { name } of this.registry.getMetricsAsArray()) {
      families.push(await this.registry.getSingleMetricAsString(name));
      await yieldToLoop();
    }
    return `${families.join('\n\n')}\n`;
  }
}
