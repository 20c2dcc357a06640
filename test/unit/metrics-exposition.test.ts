import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Exposition, type ExpositionSource } from '../../src/metrics/exposition.js';

/** A one-family registry whose renders are counted and finish when the test says. */
function slowRegistry(): ExpositionSource & { renders: number; finish(text: string): void } {
  const pending: ((text: string) => void)[] = [];
  const source = {
    renders: 0,
    finish: (text: string) => pending.shift()?.(text),
    getMetricsAsArray: () => [{ name: 'tocsin_x' }] as ReturnType<Registry['getMetricsAsArray']>,
    getSingleMetricAsString: () =>
      new Promise<string>((resolve) => {
        source.renders++;
        pending.push(resolve);
      }),
  };
  return source;
}

describe('Exposition (the /metrics text)', () => {
  it('is exactly what prom-client renders, family by family', async () => {
    const registry = new Registry();
    const g = new Gauge({ name: 'tocsin_g', help: 'g', labelNames: ['probe'], registers: [registry] });
    const c = new Counter({ name: 'tocsin_c_total', help: 'c "quoted"\nline', registers: [registry] });
    const h = new Histogram({ name: 'tocsin_h_seconds', help: 'h', labelNames: ['kind'], buckets: [0.1, 1], registers: [registry] });
    for (let i = 0; i < 100; i++) g.set({ probe: `p${i}\\"` }, i);
    c.inc(3);
    h.observe({ kind: 'http' }, 0.5);
    expect(await new Exposition(registry).text()).toBe(await registry.metrics());
  });

  it('gives the event loop back between families', async () => {
    const registry = new Registry();
    for (let i = 0; i < 5; i++) new Gauge({ name: `tocsin_g${i}`, help: 'g', registers: [registry] }).set(i);
    const rendering = new Exposition(registry).text();
    let between = false;
    setImmediate(() => {
      between = true;
    });
    await rendering;
    expect(between).toBe(true);
  });

  it('renders as it is read: a piece is made when the reader asks for it, and nothing is kept', async () => {
    const registry = slowRegistry();
    const stream = new Exposition(registry).stream();
    await Promise.resolve();
    // Nothing rendered before the first read.
    expect(registry.renders).toBe(0);
    const first = stream.next();
    await Promise.resolve();
    expect(registry.renders).toBe(1);
    registry.finish('one');
    expect(await first).toEqual({ value: 'one', done: false });
    expect(await stream.next()).toEqual({ value: '\n', done: false });
    expect((await stream.next()).done).toBe(true);
    // Each scrape renders afresh: its text is never older than its request.
    const again = new Exposition(registry).text();
    await Promise.resolve();
    expect(registry.renders).toBe(2);
    registry.finish('two');
    expect(await again).toBe('two\n');
  });
});
