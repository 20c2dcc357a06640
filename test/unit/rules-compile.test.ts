import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import { defaultPackRules } from '../../src/config/pack.js';
import { compileRules, outcomeFor } from '../../src/engine/rules.js';
import { defaultRules } from '../helpers/engine-events.js';

describe('the default rule pack', () => {
  it('compiles, one file per concern', () => {
    const rules = defaultRules();
    expect(rules.map((r) => r.id).sort()).toEqual(['degraded', 'intermittent', 'lb-sync', 'outage']);
    expect(new Set(defaultPackRules().map((r) => r.source.file.split('/').pop()))).toEqual(
      new Set(['degraded.yml', 'intermittent.yml', 'lb-sync.yml', 'outage.yml']),
    );
  });

  it('reads results as CONTRACT §5 says: latency is degradation, not outage', () => {
    const byId = new Map(defaultRules().map((r) => [r.id, r]));
    const outage = byId.get('outage');
    const degraded = byId.get('degraded');
    if (!outage || !degraded) throw new Error('default pack incomplete');
    expect(outcomeFor(outage, false, 'timeout')).toBe('bad');
    expect(outcomeFor(outage, false, 'latency')).toBe('good');
    expect(outcomeFor(outage, false, 'config_out_of_sync')).toBe('neutral');
    expect(outcomeFor(outage, false, 'internal')).toBe('neutral');
    expect(outcomeFor(degraded, false, 'latency')).toBe('bad');
    expect(outcomeFor(degraded, false, 'timeout')).toBe('neutral');
    expect(outcomeFor(degraded, true, undefined)).toBe('good');
  });
});

describe('compileRules', () => {
  it('applies defaults', () => {
    const { rules, problems } = compileRules([{ id: 'r' }]);
    expect(problems).toEqual([]);
    expect(rules[0]).toMatchObject({ condition: 'consecutive', consecutive: 3, quorum: 'majority', recoverAfter: 2, keepFiringForMs: 0 });
  });

  it('reports each problem with its key path', () => {
    const { problems } = compileRules([
      { id: 'ok' },
      { id: 'Bad Id', condition: { consecutive: 0 } },
      { id: 'x', match: { errors: ['nope'] }, colour: 'red' },
      { id: 'ok' },
      { id: 'y', inhibited_by: ['ghost'], keep_firing_for: 'soon' },
    ]);
    const shown = problems.map((p) => `${p.index}:${p.path.join('.')}`);
    expect(shown).toEqual(
      expect.arrayContaining(['1:id', '1:condition.consecutive', '2:match.errors.0', '2:colour', '3:id', '4:keep_firing_for']),
    );
    expect(problems.find((p) => p.index === 3)?.message).toBe('duplicate rule id "ok" (first defined at rule 0)');
    // The config loader's words: one problem per unknown key, at the key.
    expect(problems.find((p) => p.index === 2 && p.path[0] === 'colour')?.message).toBe('unknown key');
  });
});

describe('check-config reports bad rules as FILE:LINE: rules[i].key: reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('points into the included rule file', async () => {
    writeFileSync(
      join(dir, 'tocsin.yml'),
      ['components: [{ id: api, name: API }]', 'probes: [{ id: p, kind: http, component: api, url: "http://127.0.0.1:9/" }]', 'rules:', '  - include: rules.d/*.yml', ''].join('\n'),
    );
    writeFileSync(join(dir, 'rules.yml'), '');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'rules.d'), { recursive: true });
    writeFileSync(
      join(dir, 'rules.d', 'mine.yml'),
      ['- id: fine', '- id: broken', '  condition:', '    consecutive: -1', '  inhibited_by: [ghost]', ''].join('\n'),
    );
    const loaded = await loadConfig(join(dir, 'tocsin.yml'), { cwd: dir, env: {} });
    expect(loaded.ok).toBe(false);
    const lines = loaded.ok ? [] : loaded.problems.map(formatProblem);
    expect(lines).toContain('rules.d/mine.yml:4: rules[1].condition.consecutive: must be >= 1');
    expect(lines).toContain('rules.d/mine.yml:5: rules[1].inhibited_by[0]: unknown rule "ghost"');
  });
});
