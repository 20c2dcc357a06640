import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HistogramFamily } from '../../src/metrics/histogram-family.js';

const BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The same observations into prom-client's Histogram and a HistogramFamily, each in its own registry. */
function pair<L extends string>(labelNames: readonly L[]) {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'h_seconds', help: 'A "help"\\ text\nsecond line', labelNames, buckets: BUCKETS, registers: [theirs] });
  const family = new HistogramFamily<L>('h_seconds', 'A "help"\\ text\nsecond line', labelNames, BUCKETS);
  ours.registerMetric(family as unknown as Histogram);
  return { theirs, ours, reference, family };
}

describe('HistogramFamily', () => {
  it('renders exactly what prom-client renders for the same observations, label escaping included', async () => {
    const { theirs, ours, reference, family } = pair(['kind', 'vantage'] as const);
    const values = [0, 0.003, 0.01, 0.0100001, 0.07, 0.3, 1, 4.9, 10, 11, 250];
    const sets = [
      { kind: 'http', vantage: 'local' },
      { kind: 'tls', vantage: 'a "quoted"\\ vantage\nline' },
    ];
    for (const [i, v] of values.entries()) {
      const labels = sets[i % 2] ?? { kind: 'x', vantage: 'y' };
      reference.observe(labels, v);
      if (i % 3 === 0) family.observe(labels, v);
      else family.observeAt(family.slot(labels), v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });

  it('without labels, has its one series from the start and takes observe(value)', async () => {
    const { theirs, ours, reference, family } = pair([] as const);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    reference.observe(0.2);
    family.observe(0.2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('forgets a removed series and reuses its slot for the next one', async () => {
    const { theirs, ours, reference, family } = pair(['probe'] as const);
    for (const probe of ['a', 'b', 'c']) {
      reference.observe({ probe }, 1);
      family.observe({ probe }, 1);
    }
    const slotOfB = family.slot({ probe: 'b' });
    reference.remove({ probe: 'b' });
    family.remove({ probe: 'b' });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(family.slot({ probe: 'd' })).toBe(slotOfB);
    // The new series starts from zero, not from b's counts.
    reference.observe({ probe: 'd' }, 0.02);
    family.observe({ probe: 'd' }, 0.02);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('grows past its first slots without losing counts', async () => {
    const { theirs, ours, reference, family } = pair(['probe'] as const);
    for (let i = 0; i < 50; i++) {
      for (let k = 0; k <= i % 3; k++) {
        reference.observe({ probe: `p${i}` }, i / 10);
        family.observe({ probe: `p${i}` }, i / 10);
      }
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('refuses a value that is not a finite number, as prom-client does', () => {
    const { family } = pair(['probe'] as const);
    expect(() => family.observe({ probe: 'a' }, Number.NaN)).toThrow(TypeError);
  });
});
