import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { SeriesFamily } from './series-family.js';

/** What the exposition needs of a registry (prom-client's Registry, or a test's stand-in). */
export type ExpositionSource = Pick<Registry, 'getMetricsAsArray' | 'getSingleMetricAsString'>;

/**
 * The `/metrics` text, as pieces to be written one after the other. Rendered a metric family at a
 * time, giving the event loop back between families, and within a family of one series per probe
 * (SeriesFamily) every few thousand lines: checks due and API requests run in between, so a scrape
 * of 50,000 probes holds the loop for milliseconds at a time, never for the whole exposition. The
 * pieces are never joined into one string: at 50,000 probes that would be one more copy of ~18 MB
 * per scrape.
 *
 * Rendered at most once at a time: scrapes that arrive during a render (two Prometheus servers, a
 * dashboard refresh) share it. A scrape that arrives after a render finished gets a fresh one: the
 * text is never older than its request. The text is prom-client's `registry.metrics()` exactly
 * (Prometheus format).
 */
export class Exposition {
  #rendering: Promise<readonly string[]> | undefined;

  constructor(private readonly registry: ExpositionSource) {}

  pieces(): Promise<readonly string[]> {
    this.#rendering ??= this.#render().finally(() => {
      this.#rendering = undefined;
    });
    return this.#rendering;
  }

  async text(): Promise<string> {
    return (await this.pieces()).join('');
  }

  async #render(): Promise<readonly string[]> {
    const pieces: string[] = [];
    const write = (text: string): void => {
      pieces.push(text);
    };
    let first = true;
    for (const metric of this.registry.getMetricsAsArray()) {
      if (!first) write('\n\n');
      first = false;
      // The registry's type does not know SeriesFamily, which it holds beside prom-client's own.
      const family: unknown = metric;
      if (family instanceof SeriesFamily) await family.render(write, () => yieldToLoop());
      else write(await this.registry.getSingleMetricAsString(metric.name));
      await yieldToLoop();
    }
    write('\n');
    return pieces;
  }
}
