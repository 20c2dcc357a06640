import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { PROBE_KINDS } from '../../probes/index.js';
import type { ProbeKind } from '../../probes/probe.js';
import { formatProblem, type LoadOptions, loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import { formatPath } from '../../src/config/problems.js';
import { didYouMean, editDistance } from '../../src/config/suggest.js';
import { ConfigFileSpec } from '../../src/config/schema.js';
import { checkTopology } from '../../src/config/topology.js';
import { DEFAULT_PACK_DIR } from '../../src/config/pack.js';
import { rulesForPlan } from '../../src/engine/pack.js';

// Problems are shown relative to `cwd`; the fixtures directory keeps the expected lines short.
const FIXTURES = fileURLToPath(new URL('../fixtures/config/', import.meta.url));
const DEFAULT_CONFIG = fileURLToPath(new URL('../../config/tocsin.yml', import.meta.url));
/** The shipped pack's rules: file and line of each. */
const PACK_SOURCES = [
  ['degraded.yml', 5],
  ['intermittent.yml', 9],
  ['lb-sync.yml', 4],
  ['outage.yml', 5],
];

async function problemsOf(file: string, opts: LoadOptions = {}): Promise<string[]> {
  const result = await loadConfig(file, { cwd: FIXTURES, env: {}, ...opts });
  if (result.ok) throw new Error(`${file} loaded without problems`);
  return result.problems.map(formatProblem);
}

async function planOf(file: string, opts: LoadOptions = {}): Promise<Plan> {
  const result = await loadConfig(file, { cwd: FIXTURES, env: {}, ...opts });
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  return result.plan;
}

describe('problems: FILE:LINE: path: reason', () => {
  test('unknown keys, at the line of the key itself', async () => {
    expect(await problemsOf('errors/unknown-key.yml')).toEqual([
      'errors/unknown-key.yml:8: probes[0].intervall: unknown key',
      'errors/unknown-key.yml:9: colour: unknown key',
    ]);
  });

  test('a missing required key, at the line of its parent', async () => {
    expect(await problemsOf('errors/missing-required.yml')).toEqual([
      'errors/missing-required.yml:4: probes[0].url: required',
    ]);
  });

  test('wrong types, including inside lists', async () => {
    expect(await problemsOf('errors/wrong-type.yml')).toEqual([
      'errors/wrong-type.yml:8: probes[0].max_body_size: expected number, got string',
      'errors/wrong-type.yml:10: probes[0].expect.status[1]: expected number or string, got boolean',
    ]);
  });

  test('an unknown kind lists the known ones, and the common keys are still checked', async () => {
    expect(await problemsOf('errors/unknown-kind.yml')).toEqual([
      `errors/unknown-kind.yml:5: probes[0].kind: unknown probe kind "icmp" (known: ${Object.keys(PROBE_KINDS).sort().join(', ')})`,
      'errors/unknown-kind.yml:8: probes[0].timeout: timeout 20s must be less than interval 15s',
    ]);
  });

  test('a duplicate probe id, at the second occurrence, naming the first', async () => {
    expect(await problemsOf('errors/dup/tocsin.yml')).toEqual([
      'errors/dup/more.yml:2: probes[1].id: duplicate probe id "api-health" (first defined at errors/dup/tocsin.yml:4)',
    ]);
  });

  test('a duplicate component id', async () => {
    expect(await problemsOf('errors/duplicate-component.yml')).toEqual([
      'errors/duplicate-component.yml:4: components[2].id: duplicate component id "api" (first defined at errors/duplicate-component.yml:2)',
    ]);
  });

  test('a probe naming no component', async () => {
    expect(await problemsOf('errors/unknown-component.yml')).toEqual([
      'errors/unknown-component.yml:5: probes[1].component: unknown component "apii"',
    ]);
  });

  test('depends_on naming no component', async () => {
    expect(await problemsOf('errors/unknown-depends.yml')).toEqual([
      'errors/unknown-depends.yml:6: components[0].depends_on[1]: unknown component "hypervisor"',
    ]);
  });

  test('each dependency cycle once, at the entry closing it', async () => {
    expect(await problemsOf('errors/cycle.yml')).toEqual([
      'errors/cycle.yml:4: components[2].depends_on[0]: dependency cycle: a → b → c → a',
      'errors/cycle.yml:5: components[3].depends_on[0]: dependency cycle: d → d',
    ]);
  });

  test('a maintenance window naming no component', async () => {
    expect(await problemsOf('errors/maintenance-unknown.yml')).toEqual([
      'errors/maintenance-unknown.yml:6: maintenance[0].components[1]: unknown component "db"',
    ]);
  });

  test('probe vantages outside an inline daemon’s single vantage', async () => {
    expect(await problemsOf('errors/vantages-inline.yml')).toEqual([
      'errors/vantages-inline.yml:5: probes[0].vantages[1]: vantage "par-b" is not this daemon\'s vantage "paris" (queue.kind is inline)',
    ]);
  });

  test('probe vantages outside queue.vantages', async () => {
    expect(await problemsOf('errors/vantages-bullmq.yml')).toEqual([
      'errors/vantages-bullmq.yml:11: probes[0].vantages[1]: vantage "ams-a" is not in queue.vantages (par-a, par-b)',
    ]);
  });

  test('timeout not less than interval (given or default)', async () => {
    expect(await problemsOf('errors/timeout.yml')).toEqual([
      'errors/timeout.yml:9: probes[0].timeout: timeout 30s must be less than interval 30s',
      'errors/timeout.yml:10: probes[1].timeout: timeout 1m must be less than interval 30s',
    ]);
  });

  test('a literal include that does not exist (a glob matching nothing is fine)', async () => {
    expect(await problemsOf('errors/missing-include.yml')).toEqual([
      'errors/missing-include.yml:5: probes[1].include: cannot read include errors/probes.d/missing.yml: ENOENT: no such file or directory',
    ]);
  });

  test('an unreadable ca_file, resolved relative to the declaring file', async () => {
    expect(await problemsOf('errors/ca-file.yml')).toEqual([
      'errors/ca-file.yml:10: probes[0].tls.ca_file: cannot read ca_file errors/certs/nope.pem: ENOENT: no such file or directory',
    ]);
  });

  test('YAML syntax errors, at the parser’s line', async () => {
    expect(await problemsOf('errors/syntax.yml')).toEqual([
      'errors/syntax.yml:6: (yaml): Sequence item without - indicator',
    ]);
  });

  test('a config file that is not a mapping', async () => {
    expect(await problemsOf('errors/not-mapping.yml')).toEqual([
      'errors/not-mapping.yml:1: (root): expected a mapping of config keys, got list',
    ]);
  });

  test('a probes include file that is not a list', async () => {
    expect(await problemsOf('errors/include-not-list.yml')).toEqual([
      'errors/probes.d/mapping.yml:1: probes: an included file holds a list of probes, got mapping',
    ]);
  });

  test('token_env (and secret_env) naming a variable that is not set', async () => {
    const env = { TOCSIN_TEST_SET: 'secret', TOCSIN_TEST_EMPTY: '' };
    expect(await problemsOf('errors/token-env.yml', { env })).toEqual([
      'errors/token-env.yml:4: server.tokens[1].token_env: environment variable TOCSIN_TEST_UNSET is not set',
      'errors/token-env.yml:9: notifiers[0].secret_env: environment variable TOCSIN_TEST_EMPTY is empty',
    ]);
  });

  test('an include cycle', async () => {
    expect(await problemsOf('errors/include-cycle/tocsin.yml')).toEqual([
      'errors/include-cycle/b.yml:2: probes[1].include: include cycle: errors/include-cycle/a.yml → errors/include-cycle/b.yml → errors/include-cycle/a.yml',
    ]);
  });

  test('includes nested deeper than 8 levels', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
    try {
      const main = join(dir, 'tocsin.yml');
      await writeFile(main, 'components: [{ id: api, name: API }]\nprobes:\n  - include: l1.yml\n');
      for (let level = 1; level <= 10; level++)
        await writeFile(join(dir, `l${level}.yml`), `- include: l${level + 1}.yml\n`);
      expect(await problemsOf(main, { cwd: dir })).toEqual([
        'l8.yml:1: probes[0].include: includes nested more than 8 levels deep',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a missing config file', async () => {
    expect(await problemsOf('errors/absent.yml')).toEqual([
      'errors/absent.yml:1: (root): cannot read config: ENOENT: no such file or directory',
    ]);
  });

  // A directory stands in for an unreadable file: permission bits cannot stop root, which CI runs as.
  test('an include file that cannot be read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
    try {
      const main = join(dir, 'tocsin.yml');
      await writeFile(main, 'components: [{ id: api, name: API }]\nprobes:\n  - include: locked/p.yml\n');
      await mkdir(join(dir, 'locked', 'p.yml'), { recursive: true });
      expect(await problemsOf(main, { cwd: dir })).toEqual([
        'tocsin.yml:3: probes[0].include: cannot read include locked/p.yml: EISDIR: illegal operation on a directory, read',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('every problem at once, across files, ordered by file then line', async () => {
    expect(await problemsOf('errors/many/tocsin.yml')).toEqual([
      'errors/many/tocsin.yml:1: store.kind: expected one of "sqlite", "redis", got "postgres"',
      'errors/many/tocsin.yml:3: components[0].depends_on[0]: unknown component "ghost"',
      'errors/many/tocsin.yml:5: probes[0].interval: invalid duration "soon" (use e.g. 500ms, 15s, 2m, 1h)',
      'errors/many/checks.d/bad.yml:3: probes[0].component: unknown component "nowhere"',
      'errors/many/checks.d/bad.yml:5: probes[0].method: expected string, got number',
      'errors/many/checks.d/bad.yml:9: probes[1].url: expected string, got number',
    ]);
  });

  test('ConfigProblem carries file, line, path and message separately', async () => {
    const result = await loadConfig('errors/missing-required.yml', { cwd: FIXTURES, env: {} });
    expect(result).toEqual({
      ok: false,
      problems: [
        { file: 'errors/missing-required.yml', line: 4, path: 'probes[0].url', message: 'required' },
      ],
    });
  });
});

describe('rule selectors name what exists', () => {
  const known = Object.keys(PROBE_KINDS).sort().join(', ');

  test('unknown kind, probe, component and label key, at the entry in the rule file', async () => {
    expect(await problemsOf('errors/rule-selectors/tocsin.yml')).toEqual([
      'errors/rule-selectors/tocsin.yml:9: rules[0].match.probes[0]: unknown probe "db-tsl"; did you mean "db-tls"?',
      `errors/rule-selectors/rules.d/selectors.yml:3: rules[0].match.kinds[1]: unknown probe kind "htpp" (known: ${known}); did you mean "http"?`,
      `errors/rule-selectors/rules.d/selectors.yml:3: rules[0].match.kinds[2]: unknown probe kind "icmp" (known: ${known})`,
      'errors/rule-selectors/rules.d/selectors.yml:6: rules[1].match.probes[1]: unknown probe "api-helth"; did you mean "api-health"?',
      'errors/rule-selectors/rules.d/selectors.yml:9: rules[2].match.components[1]: unknown component "db-parr"; did you mean "db-par"?',
      'errors/rule-selectors/rules.d/selectors.yml:12: rules[3].match.labels.teir: no probe has label "teir" (labels in use: tier); did you mean "tier"?',
    ]);
  });

  /** The problems of a config written from `lines` in a directory of its own. */
  async function problemsOfLines(lines: string[]): Promise<string[]> {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
    try {
      await writeFile(join(dir, 'tocsin.yml'), lines.join('\n'));
      return await problemsOf(join(dir, 'tocsin.yml'), { cwd: dir });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('ids and label keys of invalid probes still count (one problem, not two)', async () => {
    const lines = [
      'components: [{ id: api, name: API }]',
      'probes: [{ id: p, kind: http, component: api, labels: { tier: gold } }]',
      'rules:',
      '  - { id: r, match: { probes: [p], labels: { tier: gold, zone: a } } }',
    ];
    expect(await problemsOfLines(lines)).toEqual([
      'tocsin.yml:2: probes[0].url: required',
      'tocsin.yml:4: rules[0].match.labels.zone: no probe has label "zone" (labels in use: tier)',
    ]);
  });

  test('rule problems read like the rest: one line per unknown key, duplicates name the first', async () => {
    const lines = [
      'components: [{ id: api, name: API }]',
      'probes: [{ id: p, kind: http, component: api, url: http://x/ }]',
      'rules:',
      '  - { id: x, colour: red, match: { kind: [http] }, recover_after: two }',
      '  - { id: r }',
      '  - { id: r }',
    ];
    expect(await problemsOfLines(lines)).toEqual([
      'tocsin.yml:4: rules[0].match.kind: unknown key',
      'tocsin.yml:4: rules[0].recover_after: expected number, got string',
      'tocsin.yml:4: rules[0].colour: unknown key',
      'tocsin.yml:6: rules[2].id: duplicate rule id "r" (first defined at tocsin.yml:5)',
    ]);
  });
});

describe('the default rule pack (no `rules:`), read and checked as the daemon runs it', () => {
  const CONFIG = [
    'components: [{ id: api, name: API }]',
    'probes: [{ id: p, kind: http, component: api, url: http://x/ }]',
    '',
  ].join('\n');

  async function withPack(files: Record<string, string>, fn: (dir: string) => Promise<void>): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'tocsin-pack-'));
    try {
      await writeFile(join(dir, 'tocsin.yml'), CONFIG);
      await mkdir(join(dir, 'pack'));
      for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'pack', name), text);
      await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  test('the shipped pack passes, and its rules carry their file and line', async () => {
    const plan = await planOf('defaults.yml');
    expect(plan.rules?.map((r) => [basename(r.source.file), r.source.line])).toEqual(PACK_SOURCES);
    expect(plan.rules?.every((r) => r.source.file.startsWith(DEFAULT_PACK_DIR))).toBe(true);
  });

  test('a valid pack elsewhere is what the plan runs', async () => {
    await withPack({ 'a.yml': '# mine\n- id: only\n  condition: { consecutive: 2 }\n', 'notes.txt': 'ignored' }, async (dir) => {
      const plan = await planOf(join(dir, 'tocsin.yml'), { cwd: dir, packDir: join(dir, 'pack') });
      expect(plan.rules).toEqual([
        {
          source: { file: join(dir, 'pack', 'a.yml'), line: 2 },
          spec: expect.objectContaining({ id: 'only', condition: { consecutive: 2 } }),
        },
      ]);
      expect(rulesForPlan(plan).map((r) => [r.id, r.consecutive])).toEqual([['only', 2]]);
    });
  });

  test('bad YAML, unknown keys, bad values and bad selectors, with the pack file and line', async () => {
    const files = {
      'a-syntax.yml': '- id: a\n  match:\n    kinds: [http\n',
      'b-keys.yml': '- id: b\n  colour: red\n  quorum: most\n  match: { kinds: [htpp], component: [api] }\n',
      'c-not-list.yml': 'id: c\n',
    };
    await withPack(files, async (dir) => {
      const problems = await problemsOf(join(dir, 'tocsin.yml'), { cwd: dir, packDir: join(dir, 'pack') });
      const known = Object.keys(PROBE_KINDS).sort().join(', ');
      expect(problems).toEqual([
        expect.stringMatching(/^pack\/a-syntax\.yml:\d+: \(yaml\): .+/),
        'pack/b-keys.yml:2: rules[0].colour: unknown key',
        'pack/b-keys.yml:3: rules[0].quorum: expected "majority", got "most"',
        'pack/b-keys.yml:4: rules[0].match.component: unknown key',
        `pack/b-keys.yml:4: rules[0].match.kinds[0]: unknown probe kind "htpp" (known: ${known}); did you mean "http"?`,
        'pack/c-not-list.yml:1: rules: an included file holds a list of rules, got mapping',
      ]);
    });
  });

  test('a missing or empty pack is reported against the config', async () => {
    await withPack({}, async (dir) => {
      const opts = { cwd: dir, packDir: join(dir, 'pack') };
      expect(await problemsOf(join(dir, 'tocsin.yml'), opts)).toEqual([
        'tocsin.yml:1: rules: the default rule pack pack holds no rule file (*.yml)',
      ]);
      expect(await problemsOf(join(dir, 'tocsin.yml'), { ...opts, packDir: join(dir, 'absent') })).toEqual([
        'tocsin.yml:1: rules: cannot read the default rule pack absent: ENOENT: no such file or directory',
      ]);
    });
  });

  test('with `rules:` given, the pack is not read', async () => {
    await withPack({ 'broken.yml': 'id: [\n' }, async (dir) => {
      await writeFile(join(dir, 'tocsin.yml'), `${CONFIG}rules: [{ id: mine }]\n`);
      const plan = await planOf(join(dir, 'tocsin.yml'), { cwd: dir, packDir: join(dir, 'pack') });
      expect(plan.rules?.map((r) => r.spec.id)).toEqual(['mine']);
    });
  });
});

describe('includes', () => {
  test('relative, glob, nested directories and nested includes, expanded in place', async () => {
    const plan = await planOf('includes/tocsin.yml');
    expect(plan.probes.map((p) => p.id)).toEqual([
      'inline-first',
      'a-1', // checks.d/*.yml, sorted
      'a-2',
      'b-1',
      'from-extra', // more/extra.yml includes ../nested/deeper/from-extra.yaml first
      'extra-1',
      'deep-1', // nested/**/*.yml
    ]);
    const source = (id: string) => plan.probes.find((p) => p.id === id)?.source;
    expect(source('a-2')).toEqual({ file: join(FIXTURES, 'includes/checks.d/a.yml'), line: 8 });
    expect(source('from-extra')).toEqual({
      file: join(FIXTURES, 'includes/nested/deeper/from-extra.yaml'),
      line: 1,
    });
    expect(source('extra-1')).toEqual({ file: join(FIXTURES, 'includes/more/extra.yml'), line: 3 });
  });

  test('rules are located and validated, defaults applied, in include order', async () => {
    const plan = await planOf('includes/tocsin.yml');
    expect(plan.rules).toEqual([
      {
        source: { file: join(FIXTURES, 'includes/tocsin.yml'), line: 13 },
        spec: expect.objectContaining({ id: 'inline-rule', condition: { consecutive: 2 }, quorum: 'majority' }),
      },
      {
        source: { file: join(FIXTURES, 'includes/rules.d/default.yml'), line: 1 },
        spec: expect.objectContaining({ id: 'quorum', quorum: 'majority', recover_after: 2 }),
      },
      {
        source: { file: join(FIXTURES, 'includes/rules.d/default.yml'), line: 3 },
        spec: expect.objectContaining({
          id: 'flapping',
          condition: { ratio: { min: 0.4, min_checks: 6, window: 600_000, min_changes: 0 } },
        }),
      },
    ]);
  });

  test('tls.ca_file is read relative to the including file into tls.ca', async () => {
    const plan = await planOf('includes/tocsin.yml');
    const tls = plan.probes.find((p) => p.id === 'a-1')?.spec.tls;
    expect(tls).toMatchObject({
      ca_file: join(FIXTURES, 'includes/certs/ca.pem'),
      ca: expect.stringContaining('BEGIN CERTIFICATE'),
    });
  });

  test('targets come from the kind', async () => {
    const plan = await planOf('includes/tocsin.yml');
    expect(plan.probes.find((p) => p.id === 'b-1')?.targets).toEqual(['127.0.0.1:8080']);
    expect(plan.probes.find((p) => p.id === 'a-1')?.targets).toEqual(['https://api.example.test/a']);
  });
});

describe('defaults', () => {
  test('timeout is 10s, or half the interval when shorter', async () => {
    const plan = await planOf('defaults.yml');
    const timing = plan.probes.map((p) => [p.id, p.intervalMs, p.timeoutMs, p.spec.timeout]);
    expect(timing).toEqual([
      ['fast', 15_000, 7_500, 7_500],
      ['slow', 60_000, 10_000, 10_000],
      ['default-interval', 30_000, 10_000, 10_000],
      ['pinned', 30_000, 2_000, 2_000],
    ]);
  });

  test('inline daemon: vantage local, every probe runs there', async () => {
    const plan = await planOf('defaults.yml');
    expect(plan.vantage).toBe('local');
    expect(plan.vantages).toEqual(['local']);
    expect(plan.probes.every((p) => p.vantages.length === 1 && p.vantages[0] === 'local')).toBe(true);
  });

  test('bullmq: plan vantages are the queue’s, a probe without vantages runs at all', async () => {
    const plan = await planOf('includes/tocsin.yml');
    expect(plan.vantages).toEqual(['par-a', 'par-b', 'par-c']);
    expect(plan.probes.find((p) => p.id === 'inline-first')?.vantages).toEqual(['par-a', 'par-b', 'par-c']);
    expect(plan.probes.find((p) => p.id === 'a-1')?.vantages).toEqual(['par-a', 'par-b']);
  });

  test('store path is absolute against the working directory; server, queue, rules defaults', async () => {
    const plan = await planOf(join(FIXTURES, 'defaults.yml'), { cwd: '/srv/tocsin' });
    expect(plan.store).toEqual({ kind: 'sqlite', path: '/srv/tocsin/data/tocsin.db' });
    expect(plan.server).toEqual({ listen: { host: '127.0.0.1', port: 9470 }, tokens: [] });
    expect(plan.queue).toEqual({ kind: 'inline', concurrency: 256 });
    // Without `rules:`, the default pack as the loader read it: what the daemon runs.
    expect(plan.rules?.map((r) => [basename(r.source.file), r.source.line])).toEqual(PACK_SOURCES);
    expect(plan.maintenance).toEqual([]);
    expect(plan.notifiers).toEqual([]);
    expect(plan.file).toBe(join(FIXTURES, 'defaults.yml'));
  });

  test('components carry their source and defaults', async () => {
    const plan = await planOf('defaults.yml');
    expect(plan.components).toEqual([
      {
        id: 'api',
        name: 'API',
        group: 'Components',
        depends_on: [],
        source: { file: join(FIXTURES, 'defaults.yml'), line: 3 },
      },
    ]);
  });
});

test('the plan is deep-frozen', async () => {
  const plan = await planOf('includes/tocsin.yml');
  const probe = plan.probes[0];
  if (!probe) throw new Error('no probe');
  expect(Object.isFrozen(plan)).toBe(true);
  expect(() => (plan.probes as unknown[]).push(probe)).toThrow(TypeError);
  expect(() => {
    (probe.spec as Record<string, unknown>).url = 'http://elsewhere/';
  }).toThrow(TypeError);
  expect(() => {
    (plan.store as { path: string }).path = '/tmp/x';
  }).toThrow(TypeError);
  const dependsOn = plan.components[1]?.depends_on;
  expect(dependsOn).toEqual(['lb']);
  expect(() => (dependsOn as string[]).push('x')).toThrow(TypeError);
});

test('freezing the plan leaves zod’s shared default values alone', async () => {
  const plan = await planOf('defaults.yml');
  expect(Object.isFrozen(plan.server.listen)).toBe(true);
  const again = ConfigFileSpec.parse({ components: [{ id: 'a', name: 'A' }], probes: [] });
  expect(Object.isFrozen(again.server.listen)).toBe(false);
  expect(Object.isFrozen(again.server.tokens)).toBe(false);
});

test('config/tocsin.yml (the embedded default) loads cleanly with an empty environment', async () => {
  const result = await loadConfig(DEFAULT_CONFIG, { env: {} });
  if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
  const { plan } = result;
  expect(plan.probes.map((p) => [p.id, p.targets[0]])).toEqual([
    ['tocsin-health', 'http://127.0.0.1:9470/healthz'],
    ['tocsin-metrics', 'http://127.0.0.1:9470/metrics'],
    ['tocsin-ready', 'http://127.0.0.1:9470/readyz'],
  ]);
  expect(plan.probes.every((p) => new URL(p.targets[0] ?? '').hostname === '127.0.0.1')).toBe(true);
  expect(plan.rules?.every((r) => r.source.file.startsWith(DEFAULT_PACK_DIR))).toBe(true);
  expect(rulesForPlan(plan).map((r) => r.id)).toEqual(['degraded', 'intermittent', 'lb-sync', 'outage']);
});

test('kinds are taken from options: the kind’s shape is merged strictly with the common keys', async () => {
  const fake: ProbeKind<{ host: string }> = {
    kind: 'fake',
    shape: { host: z.string() },
    grouping: 'each',
    targets: (spec) => [spec.host],
    run: async () => [],
  };
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
  try {
    const file = join(dir, 'tocsin.yml');
    await writeFile(
      file,
      [
        'components: [{ id: api, name: API }]',
        'probes:',
        '  - { id: ok, kind: fake, component: api, host: db1 }',
        '  - { id: bad, kind: fake, component: api, url: http://x/ }',
        '  - { id: other, kind: http, component: api, url: http://x/ }',
        // The default pack's `kinds: [lb_sync]` would be unknown to this registry.
        'rules: []',
      ].join('\n'),
    );
    const kinds = { fake: fake as ProbeKind };
    expect(await problemsOf(file, { cwd: dir, kinds })).toEqual([
      'tocsin.yml:4: probes[1].host: required',
      'tocsin.yml:4: probes[1].url: unknown key',
      'tocsin.yml:5: probes[2].kind: unknown probe kind "http" (known: fake)',
    ]);
    await writeFile(
      file,
      'components: [{ id: api, name: API }]\nprobes: [{ id: ok, kind: fake, component: api, host: db1 }]\nrules: []\n',
    );
    const plan = await planOf(file, { cwd: dir, kinds });
    expect(plan.probes[0]?.targets).toEqual(['db1']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('YAML anchors and merge keys share probe settings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-config-'));
  try {
    const file = join(dir, 'tocsin.yml');
    const lines = [
      'components: [{ id: api, name: API }]',
      'probes:',
      '  - &api { id: a, kind: http, component: api, url: http://x/a, interval: 1m }',
      '  - { <<: *api, id: b, url: http://x/b }',
    ];
    await writeFile(file, lines.join('\n'));
    const plan = await planOf(file, { cwd: dir });
    expect(plan.probes.map((p) => [p.id, p.intervalMs, p.targets[0]])).toEqual([
      ['a', 60_000, 'http://x/a'],
      ['b', 60_000, 'http://x/b'],
    ]);
    await writeFile(file, [...lines, '  - { <<: *api, id: c, colour: red }'].join('\n'));
    expect(await problemsOf(file, { cwd: dir })).toEqual(['tocsin.yml:5: probes[2].colour: unknown key']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('helpers', () => {
  test('formatPath: dotted keys, bracket indices, quoted odd keys', () => {
    expect(formatPath(['probes', 3, 'expect', 'status', 0])).toBe('probes[3].expect.status[0]');
    expect(formatPath(['probes', 0, 'labels', 'app.kubernetes.io/name'])).toBe(
      'probes[0].labels["app.kubernetes.io/name"]',
    );
    expect(formatPath([])).toBe('(root)');
  });

  test('didYouMean: the closest name within one edit per three characters (a swap is one edit)', () => {
    expect(didYouMean('htpp', ['tls', 'http', 'storage'])).toBe('; did you mean "http"?');
    expect(didYouMean('lbsync', ['lb_sync', 'tls'])).toBe('; did you mean "lb_sync"?');
    expect(didYouMean('icmp', ['http', 'tls'])).toBe('');
    expect(didYouMean('db-ams', ['db-par'])).toBe('');
    expect(editDistance('htpp', 'http')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
  });

  test('checkTopology: unknown dependencies and each cycle once', () => {
    const issues = checkTopology([
      { id: 'a', dependsOn: ['b', 'x'] },
      { id: 'b', dependsOn: ['a'] },
      { id: 'c', dependsOn: ['a'] },
    ]);
    expect(issues).toEqual([
      { kind: 'unknown_dependency', node: 0, dep: 1, id: 'x' },
      { kind: 'cycle', node: 1, dep: 0, cycle: ['a', 'b', 'a'] },
    ]);
  });

  test('checkTopology: a diamond is not a cycle', () => {
    expect(
      checkTopology([
        { id: 'top', dependsOn: ['l', 'r'] },
        { id: 'l', dependsOn: ['root'] },
        { id: 'r', dependsOn: ['root'] },
        { id: 'root', dependsOn: [] },
      ]),
    ).toEqual([]);
  });
});
