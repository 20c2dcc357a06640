import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import { engineOptionsForPlan, rulesForPlan } from '../../src/engine/pack.js';
import { Replay } from '../../src/engine/replay.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-engine-options-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function planWith(engine: string): Promise<Plan> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(
    file,
    `components:
  - { id: dc, name: Datacenter }
  - { id: a, name: App A, depends_on: [dc] }
  - { id: b, name: App B, depends_on: [dc] }
probes:
  - { id: pa, kind: http, component: a, url: "http://127.0.0.1:1/" }
  - { id: pb, kind: http, component: b, url: "http://127.0.0.1:2/" }
${engine}`,
  );
  const loaded = await loadConfig(file, { env: {}, cwd: dir });
  if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));
  return loaded.plan;
}

/** a fails from t0; b fails from t0 + 3 min: whether they merge depends on the correlation window. */
function replay(plan: Plan) {
  const r = new Replay({ plan, rules: rulesForPlan(plan), ...engineOptionsForPlan(plan) });
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let i = 0; i < 12; i++) {
    const at = new Date(t0 + i * 30_000).toISOString();
    r.feed({ at, probe: 'pa', target: 'http://127.0.0.1:1/', vantage: 'local', ok: false, error: 'connect_refused' });
    r.feed({ at, probe: 'pb', target: 'http://127.0.0.1:2/', vantage: 'local', ok: i < 6, ...(i < 6 ? {} : { error: 'connect_refused' as const }) });
  }
  return r.finish();
}

describe('engine: tunables from the config', () => {
  it('defaults to a 2 minute correlation window: failures 3 minutes apart stay apart', async () => {
    const plan = await planWith('');
    expect(plan.engine).toEqual({ correlation_window: 120_000, reopen_cooldown: 1_800_000, stale_intervals: 3 });
    expect(replay(plan).map((i) => i.root_component)).toEqual(['a', 'b']);
  });

  it('a wider correlation_window merges them under their common dependency', async () => {
    const incidents = replay(await planWith('engine: { correlation_window: 5m }'));
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.root_component).toBe('dc');
    expect(incidents[0]?.timeline.map((e) => e.kind)).toContain('rerooted');
  });

  it('reports bad values with file, line and key', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'components: [{ id: a, name: A }]\nprobes: []\nengine:\n  stale_intervals: 0\n  window: 2m\n');
    const loaded = await loadConfig(file, { env: {}, cwd: dir });
    expect(loaded.ok).toBe(false);
    const lines = loaded.ok ? [] : loaded.problems.map(formatProblem);
    expect(lines).toEqual([
      expect.stringMatching(/bad\.yml:4: engine\.stale_intervals: .+/),
      expect.stringMatching(/bad\.yml:5: engine\.window: unknown key/),
    ]);
  });
});
