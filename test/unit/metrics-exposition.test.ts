import { describe, expect, it } from 'vitest';
import { Exposition } from '../../src/metrics/exposition.js';

/** A registry whose renders are counted and finish when the test says. */
function slowRegistry() {
  let renders = 0;
  const pending: ((text: string) => void)[] = [];
  return {
    get renders() {
      return renders;
    },
    finish: (text: string) => pending.shift()?.(text),
    metrics: () =>
      new Promise<string>((resolve) => {
        renders++;
        pending.push(resolve);
      }),
  };
}

describe('Exposition (the /metrics text)', () => {
  it('renders once for scrapes that arrive during a render; a later scrape gets a fresh render', async () => {
    const registry = slowRegistry();
    const exposition = new Exposition(registry);
    const a = exposition.text();
    const b = exposition.text();
    expect(registry.renders).toBe(1);
    registry.finish('one');
    expect(await a).toBe('one');
    expect(await b).toBe('one');
    const c = exposition.text();
    expect(registry.renders).toBe(2);
    registry.finish('two');
    expect(await c).toBe('two');
  });

  it('renders again after a failed render', async () => {
    let fail = true;
    const exposition = new Exposition({ metrics: async () => (fail ? Promise.reject(new Error('boom')) : 'ok') });
    await expect(exposition.text()).rejects.toThrow('boom');
    fail = false;
    expect(await exposition.text()).toBe('ok');
  });
});
