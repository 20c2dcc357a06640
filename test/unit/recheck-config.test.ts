import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatProblem, loadConfig, type LoadResult } from '../../src/config/load.js';
import { planChanges } from '../../src/config/reload.js';

/** Loads a config written from `lines` in a directory of its own. */
async function load(lines: string[]): Promise<LoadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-recheck-'));
  try {
    await writeFile(join(dir, 'tocsin.yml'), lines.join('\n'));
    return await loadConfig(join(dir, 'tocsin.yml'), { cwd: dir, env: {} });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function plan(lines: string[]) {
  const loaded = await load(lines);
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  return loaded.plan;
}

async function problems(lines: string[]): Promise<string[]> {
  const loaded = await load(lines);
  if (loaded.ok) throw new Error('loaded without problems');
  return loaded.problems.map(formatProblem);
}

const probe = (extra: string, id = 'p') =>
  `  - { id: ${id}, kind: http, component: api, url: "http://127.0.0.1:1/", interval: 30s, timeout: 1s${extra} }`;

describe('recheck in the config', () => {
  it('is on by default: every 2s (never below the timeout), at most 5 after a check', async () => {
    const p = await plan([
      'components: [{ id: api, name: API }]',
      'probes:',
      probe(''),
      '  - { id: q, kind: http, component: api, url: "http://127.0.0.1:1/", interval: 30s }',
    ]);
    expect(p.probes.map((x) => x.recheck)).toEqual([
      { intervalMs: 2000, max: 5 },
      // The default timeout of a 30s probe is 10s: a re-check never comes sooner.
      { intervalMs: 10_000, max: 5 },
    ]);
    expect(p.queue.recheck_rate).toBeUndefined();
  });

  it('takes the probe over defaults.recheck key by key, and false anywhere turns it off', async () => {
    const p = await plan([
      'defaults:',
      '  recheck: { interval: 3s, max: 2 }',
      'components: [{ id: api, name: API }]',
      'probes:',
      probe('', 'a'),
      probe(', recheck: { max: 4 }', 'b'),
      probe(', recheck: false', 'c'),
      probe(', recheck: true', 'd'),
    ]);
    expect(p.probes.map((x) => [x.id, x.recheck])).toEqual([
      ['a', { intervalMs: 3000, max: 2 }],
      ['b', { intervalMs: 3000, max: 4 }],
      ['c', undefined],
      ['d', { intervalMs: 3000, max: 2 }],
    ]);
    const off = await plan([
      'defaults: { recheck: false }',
      'components: [{ id: api, name: API }]',
      'probes:',
      probe('', 'a'),
      probe(', recheck: { interval: 5s }', 'b'),
    ]);
    expect(off.probes.map((x) => x.recheck)).toEqual([undefined, { intervalMs: 5000, max: 5 }]);
  });

  it('a default interval no shorter than a probe\'s interval turns its re-checks off quietly', async () => {
    const p = await plan([
      'components: [{ id: api, name: API }]',
      'probes:',
      '  - { id: fast, kind: http, component: api, url: "http://127.0.0.1:1/", interval: 1s }',
    ]);
    expect(p.probes[0]?.recheck).toBeUndefined();
  });

  it('reports bad values as FILE:LINE: key', async () => {
    expect(
      await problems([
        'defaults:',
        '  recheck: { interval: soon }',
        'queue: { kind: inline, recheck_rate: 0 }',
        'components: [{ id: api, name: API }]',
        'probes:',
        probe(', recheck: { interval: 30s }', 'a'),
        probe(', recheck: { intervl: 3s }', 'b'),
        probe(', recheck: { max: 0 }', 'c'),
        probe(', recheck: { interval: 10ms }', 'd'),
      ]),
    ).toEqual([
      'tocsin.yml:2: defaults.recheck.interval: invalid duration "soon" (use e.g. 500ms, 15s, 2m, 1h)',
      'tocsin.yml:3: queue.recheck_rate: must be > 0',
      'tocsin.yml:6: probes[0].recheck.interval: recheck interval 30s must be less than interval 30s',
      'tocsin.yml:7: probes[1].recheck.intervl: unknown key',
      'tocsin.yml:8: probes[2].recheck.max: must be >= 1',
      'tocsin.yml:9: probes[3].recheck.interval: must be at least 100ms',
    ]);
  });

  it('a reload applies a recheck change like any probe change, and the rate without a restart', async () => {
    const lines = (recheck: string, rate: number) => [
      // One store path for both plans (the temporary directories differ).
      `store: { kind: sqlite, path: ${join(tmpdir(), 'tocsin-recheck.db')} }`,
      `queue: { kind: inline, recheck_rate: ${rate} }`,
      'components: [{ id: api, name: API }]',
      'probes:',
      probe(recheck),
    ];
    const before = await plan(lines('', 200));
    const after = await plan(lines(', recheck: { interval: 4s }', 50));
    expect(planChanges(before, after)).toEqual({
      status: 'success',
      probes: { added: 0, removed: 0, changed: 1, unchanged: 0 },
      restart_required: [],
    });
    expect(after.queue.recheck_rate).toBe(50);
  });
});
