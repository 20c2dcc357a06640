import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Registry } from 'prom-client';
import { SeriesFamily } from './series-family.js';

/** What the exposition needs of a registry (prom-client's Registry, or a test's stand-in). */
export type ExpositionSource = Pick<Registry, 'getMetricsAsArray' | 'getSingleMetricAsString'>;

/**
 * The `/metrics` text, rendered as it is read: a metric family at a time, and within a family of
 * one series per probe (SeriesFamily) a few thousand lines at a time, giving the event loop back
 * between pieces, so a scrape of 50,000 probes holds the loop for milliseconds at a time, never for
 * the whole exposition. Nothing keeps the pieces once they are handed on: at 50,000 probes the
 * text is ~18 MB, and holding it (or joining it) for the length of a render put that much more
 * garbage in the old generation at every scrape, which decided the daemon's peak memory. A
 * response written from `stream()` holds a piece or two (the socket's backpressure paces the
 * render). Each scrape renders afresh: its text is never older than its request. The text is
 * prom-client's `registry.metrics()` exactly (Prometheus format).
 */
export class Exposition {
  constructor(private readonly registry: ExpositionSource) {}

  /** The pieces of one render, produced as they are asked for. */
  async* stream(): AsyncGenerator<string> {
    let first = true;
    for (const metric of this.registry.getMetricsAsArray()) {
      // The registry's type does not know SeriesFamily, which it holds beside prom-client's own.
      const family: unknown = metric;
      const sep = first ? '' : '\n\n';
      first = false;
      if (family instanceof SeriesFamily) {
        let head = sep;
        for (const piece of family.pieces()) {
          yield head + piece;
          head = '';
          await yieldToLoop();
        }
      } else {
        yield sep + (await this.registry.getSingleMetricAsString(metric.name));
      }
      await yieldToLoop();
    }
    yield '\n';
  }

  /** The whole text as one string (tests, tools): `/metrics` itself is written from `stream()`. */
  async text(): Promise<string> {
    const pieces: string[] = [];
    for await (const piece of this.stream()) pieces.push(piece);
    return pieces.join('');
  }
}
