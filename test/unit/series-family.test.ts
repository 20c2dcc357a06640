import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Exposition } from '../../src/metrics/exposition.js';
import { escapeLabelValue, LINES_PER_CHUNK, SeriesFamily } from '../../src/metrics/series-family.js';

function family<L extends string>(registry: Registry, name: string, type: 'gauge' | 'counter', labels: readonly L[]) {
  const f = new SeriesFamily(name, `help of ${name}`, type, labels);
  registry.registerMetric(f as unknown as Gauge);
  return f;
}

describe('SeriesFamily (per-probe gauges and counters)', () => {
  it('renders exactly what prom-client renders for the same series, escapes included', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const g = family(ours, 'tocsin_up', 'gauge', ['probe', 'target']);
    const c = family(ours, 'tocsin_checks_total', 'counter', ['probe', 'error']);
    const pg = new Gauge({ name: 'tocsin_up', help: 'help of tocsin_up', labelNames: ['probe', 'target'], registers: [theirs] });
    const pc = new Counter({ name: 'tocsin_checks_total', help: 'help of tocsin_checks_total', labelNames: ['probe', 'error'], registers: [theirs] });
    for (let i = 0; i < 50; i++) {
      const labels = { probe: `p${i}`, target: `https://h${i}.example/a"b\\c\nd` };
      g.set(labels, i % 2);
      pg.set(labels, i % 2);
      c.inc({ probe: `p${i}`, error: i % 3 ? '' : 'timeout' }, i);
      pc.inc({ probe: `p${i}`, error: i % 3 ? '' : 'timeout' }, i);
    }
    g.set({ probe: 'p1', target: 'https://h1.example/a"b\\c\nd' }, 0.125);
    pg.set({ probe: 'p1', target: 'https://h1.example/a"b\\c\nd' }, 0.125);
    const expected = await theirs.metrics();
    expect(await new Exposition(ours).text()).toBe(expected);
    // registry.metrics() goes through get(): the same text again.
    expect(await ours.metrics()).toBe(expected);
  });

  it('series made from one shared object of escaped values render as prom-client renders them, and are found by their labels', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const up = family(ours, 'tocsin_up', 'gauge', ['probe', 'kind', 'target']);
    const seconds = family(ours, 'tocsin_seconds', 'gauge', ['probe', 'target']);
    const pu = new Gauge({ name: 'tocsin_up', help: 'help of tocsin_up', labelNames: ['probe', 'kind', 'target'], registers: [theirs] });
    const ps = new Gauge({ name: 'tocsin_seconds', help: 'help of tocsin_seconds', labelNames: ['probe', 'target'], registers: [theirs] });
    for (let i = 0; i < 20; i++) {
      const raw = { probe: `p${i}`, kind: 'http', target: `https://h${i}.example/a"b\\c\nd` };
      // One object for both families (the second has no `kind`: it is ignored).
      const shared = { probe: escapeLabelValue(raw.probe), kind: raw.kind, target: escapeLabelValue(raw.target) };
      up.setAt(up.addShared(shared), i % 2);
      seconds.setAt(seconds.addShared(shared), i / 8);
      pu.set(raw, i % 2);
      ps.set({ probe: raw.probe, target: raw.target }, i / 8);
    }
    const expected = await theirs.metrics();
    expect(await new Exposition(ours).text()).toBe(expected);
    expect(await ours.metrics()).toBe(expected);
    // The index, built when first asked, writes their texts: the same series, not a second one.
    const p3 = { probe: 'p3', kind: 'http', target: 'https://h3.example/a"b\\c\nd' };
    up.set(p3, 7);
    expect(up.size).toBe(20);
    expect(await new Exposition(ours).text()).toContain(`tocsin_up{probe="p3",kind="http",target="https://h3.example/a\\"b\\\\c\\nd"} 7`);
    up.remove(p3);
    expect(up.size).toBe(19);
    expect(await new Exposition(ours).text()).not.toContain('tocsin_up{probe="p3"');
  });

  it('an empty family is its HELP and TYPE lines, as prom-client writes it', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    family(ours, 'tocsin_skipped_total', 'counter', ['probe']);
    new Counter({ name: 'tocsin_skipped_total', help: 'help of tocsin_skipped_total', labelNames: ['probe'], registers: [theirs] });
    expect(await new Exposition(ours).text()).toBe(await theirs.metrics());
  });

  it('a slot is found once and then updated in place; inc adds, set replaces', async () => {
    const f = new SeriesFamily('tocsin_x_total', 'x', 'counter', ['probe'] as const);
    const a = f.slot({ probe: 'a' });
    expect(f.slot({ probe: 'a' })).toBe(a);
    f.incAt(a);
    f.incAt(a, 2);
    f.inc({ probe: 'b' });
    f.set({ probe: 'b' }, 7);
    const values = (await f.get()).values.map((v) => [v.labels.probe, v.value]);
    expect(values).toEqual([
      ['a', 3],
      ['b', 7],
    ]);
  });

  it('add makes a series without looking for one; slot and remove, asked later, find it', async () => {
    const f = new SeriesFamily('tocsin_x_total', 'x', 'counter', ['probe'] as const);
    const a = f.add({ probe: 'a' });
    const b = f.add({ probe: 'b' });
    expect(b).not.toBe(a);
    f.incAt(b, 4);
    expect(f.size).toBe(2);
    // The index, built at the first lookup, holds what add made before it...
    expect(f.slot({ probe: 'b' })).toBe(b);
    // ...and what add makes after it.
    const c = f.add({ probe: 'c' });
    expect(f.slot({ probe: 'c' })).toBe(c);
    f.remove({ probe: 'a' });
    f.removeAt(a);
    expect(f.size).toBe(2);
    expect((await f.get()).values.map((v) => [v.labels.probe, v.value])).toEqual([
      ['b', 4],
      ['c', 0],
    ]);
    // A removed series' slot serves the next one, through add as through slot.
    expect(f.add({ probe: 'd' })).toBe(a);
    expect(f.slot({ probe: 'd' })).toBe(a);
  });

  it('a removed series leaves the text and its slot serves the next new series', async () => {
    const registry = new Registry();
    const f = family(registry, 'tocsin_up', 'gauge', ['probe']);
    f.set({ probe: 'a' }, 1);
    const b = f.slot({ probe: 'b' });
    f.remove({ probe: 'b' });
    expect(f.size).toBe(1);
    const text = await new Exposition(registry).text();
    expect(text).toContain('tocsin_up{probe="a"} 1');
    expect(text).not.toContain('probe="b"');
    expect(f.slot({ probe: 'c' })).toBe(b);
    // The reused slot starts at 0, not at the removed series' value.
    expect(await new Exposition(registry).text()).toContain('tocsin_up{probe="c"} 0');
  });

  it('gives back, through get(), the very label values it was given: escapes, quotes, empty values', async () => {
    const f = new SeriesFamily('tocsin_up', 'up', 'gauge', ['probe', 'target', 'error'] as const);
    const odd = { probe: 'a\\b"c', target: 'line\none\\n', error: '' };
    f.set(odd, 2);
    f.set({ probe: 'plain', target: 'https://x/"q"', error: 'timeout' }, 3);
    expect(f.slot(odd)).toBe(0);
    expect((await f.get()).values).toEqual([
      { labels: odd, value: 2 },
      { labels: { probe: 'plain', target: 'https://x/"q"', error: 'timeout' }, value: 3 },
    ]);
    const none = new SeriesFamily('tocsin_one', 'one', 'counter', [] as const);
    none.inc({});
    expect((await none.get()).values).toEqual([{ labels: {}, value: 1 }]);
  });

  it('grows past its initial capacity without losing values', async () => {
    const f = new SeriesFamily('tocsin_up', 'up', 'gauge', ['probe'] as const);
    for (let i = 0; i < 1000; i++) f.set({ probe: `p${i}` }, i);
    const values = (await f.get()).values;
    expect(values).toHaveLength(1000);
    expect(values[999]).toEqual({ labels: { probe: 'p999' }, value: 999 });
  });

  it('gives the event loop back within a family of many series, and the text is whole', async () => {
    const registry = new Registry();
    const f = family(registry, 'tocsin_up', 'gauge', ['probe']);
    const count = LINES_PER_CHUNK * 3 + 5;
    for (let i = 0; i < count; i++) f.set({ probe: `p${i}` }, 1);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pieces: string[] = [];
    for await (const piece of new Exposition(registry).stream()) pieces.push(piece);
    clearInterval(timer);
    const text = pieces.join('');
    expect(text.split('\n').filter((l) => l.startsWith('tocsin_up{'))).toHaveLength(count);
    // Four chunks of lines: the loop ran between them (setImmediate turns, where timers fire).
    expect(pieces.filter((p) => p.includes('tocsin_up{')).length).toBeGreaterThanOrEqual(4);
    expect(ticks).toBeGreaterThan(0);
    expect(text).toBe(await registry.metrics());
  });
});
