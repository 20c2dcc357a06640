import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE_KINDS } from '../../probes/index.js';
import { runCli } from '../helpers/cli.js';

describe('tocsin check-config: rule selectors and the default pack', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-check-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const probes = [
    'components: [{ id: api, name: API }, { id: db-par, name: Database }]',
    'probes:',
    '  - { id: api-health, kind: http, component: api, url: "http://127.0.0.1:9/", labels: { tier: gold } }',
  ];

  it('reports selectors naming no kind, probe, component or label key as FILE:LINE: path: reason', async () => {
    mkdirSync(join(dir, 'rules.d'), { recursive: true });
    writeFileSync(join(dir, 'bad.yml'), [...probes, 'rules:', '  - include: rules.d/*.yml', ''].join('\n'));
    writeFileSync(
      join(dir, 'rules.d', 'mine.yml'),
      [
        '- id: typos',
        '  match:',
        '    kinds: [htpp]',
        '    probes: [api-helth]',
        '    components: [db-parr]',
        '    labels: { teir: gold }',
        '',
      ].join('\n'),
    );
    const res = await runCli(['check-config', '--config', 'bad.yml'], { cwd: dir });
    const known = Object.keys(PROBE_KINDS).sort().join(', ');
    expect(res.stdout.trim().split('\n')).toEqual([
      `rules.d/mine.yml:3: rules[0].match.kinds[0]: unknown probe kind "htpp" (known: ${known}); did you mean "http"?`,
      'rules.d/mine.yml:4: rules[0].match.probes[0]: unknown probe "api-helth"; did you mean "api-health"?',
      'rules.d/mine.yml:5: rules[0].match.components[0]: unknown component "db-parr"; did you mean "db-par"?',
      'rules.d/mine.yml:6: rules[0].match.labels.teir: no probe has label "teir" (labels in use: tier); did you mean "tier"?',
    ]);
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);

    // The daemon loads the config the same way: it refuses to start, with the same lines.
    const run = await runCli(['run', '--config', 'bad.yml'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('rules.d/mine.yml:3: rules[0].match.kinds[0]: unknown probe kind "htpp"');
  });

  it('reports what the daemon would refuse at start: a network address without tokens, a short token', async () => {
    writeFileSync(join(dir, 'open.yml'), ['server: { listen: 0.0.0.0:9470 }', ...probes, ''].join('\n'));
    const open = await runCli(['check-config', '--config', 'open.yml'], { cwd: dir });
    expect(open.code).toBe(1);
    expect(open.stdout).toContain('server.listen 0.0.0.0:9470 is reachable from the network but server.tokens is empty');

    writeFileSync(
      join(dir, 'short.yml'),
      ['server:', '  listen: 0.0.0.0:9470', '  tokens: [{ name: ci, role: operator, token_env: SHORT_TOKEN }]', ...probes, ''].join('\n'),
    );
    const short = await runCli(['check-config', '--config', 'short.yml'], { cwd: dir, env: { SHORT_TOKEN: 'Zq9#x' } });
    expect(short.code).toBe(1);
    expect(short.stdout).toContain('server.tokens: token "ci" (SHORT_TOKEN) is 5 characters; tokens need at least 24');
    expect(short.stdout).toContain('warning: the API on 0.0.0.0:9470 speaks plain HTTP');
    expect(short.stdout).not.toContain('Zq9#x');
  });

  it('without rules:, validates the default pack and counts its rules', async () => {
    writeFileSync(join(dir, 'good.yml'), [...probes, ''].join('\n'));
    const res = await runCli(['check-config', '--config', 'good.yml'], { cwd: dir });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(`${join(dir, 'good.yml')}: OK (2 components, 1 probe, 4 rules)\n`);
  });
});
