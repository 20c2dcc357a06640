import { describe, expect, test } from 'vitest';
import { parseRelabelConfigs, relabel, expandTemplate, type Labels } from '../../src/import/relabel.js';
import { parseGoDuration, parsePromDuration } from '../../src/import/durations.js';
import { assignIds, slug, targetSlug } from '../../src/import/probe-ids.js';
import { parseYaml } from '../../src/config/yaml-source.js';
import type { ImportProblem } from '../../src/import/problems.js';

// Prometheus's relabelling followed as Prometheus does (the vectors from its relabel_test.go),
// the two duration syntaxes, and stable probe ids.

function rules(yaml: string): { rules: ReturnType<typeof parseRelabelConfigs>; problems: ImportProblem[] } {
  const parsed = parseYaml(yaml, '/p/prometheus.yml');
  if (!parsed.ok) throw new Error('bad yaml');
  const problems: ImportProblem[] = [];
  const report = (where: ImportProblem['where'], reason: string): void => {
    problems.push({ where, reason });
  };
  const list = parseRelabelConfigs(parsed.source, [], parsed.source.value, report);
  return { rules: list, problems };
}

function apply(yaml: string, labels: Record<string, string>): Record<string, string> | undefined {
  const { rules: list } = rules(yaml);
  if (!list) throw new Error('rules not followable');
  const out = relabel(new Map(Object.entries(labels)) as Labels, list);
  return out && Object.fromEntries(out);
}

describe('relabel', () => {
  test('the standard Blackbox relabelling', () => {
    const out = apply(
      `
- source_labels: [__address__]
  target_label: __param_target
- source_labels: [__param_target]
  target_label: instance
- target_label: __address__
  replacement: 127.0.0.1:9115
`,
      { __address__: 'https://example.com', job: 'web' },
    );
    expect(out).toEqual({
      __address__: '127.0.0.1:9115',
      __param_target: 'https://example.com',
      instance: 'https://example.com',
      job: 'web',
    });
  });

  test('replace with groups, separators, and no match leaving labels alone', () => {
    const yaml = `
- source_labels: [host, port]
  separator: ':'
  regex: '(.+):(\\d+)'
  target_label: __param_target
  replacement: 'tcp://$1:\${2}0'
- source_labels: [a]
  regex: f
  target_label: b
  replacement: bar
`;
    expect(apply(yaml, { host: 'db', port: '543', a: 'boo' })).toEqual({
      host: 'db',
      port: '543',
      a: 'boo',
      __param_target: 'tcp://db:5430',
    });
  });

  test('keep, drop, keepequal, dropequal', () => {
    expect(apply('- { source_labels: [env], regex: prod, action: keep }', { env: 'dev' })).toBeUndefined();
    expect(apply('- { source_labels: [env], regex: prod, action: keep }', { env: 'prod' })).toEqual({ env: 'prod' });
    expect(apply('- { source_labels: [env], regex: "de.*", action: drop }', { env: 'dev' })).toBeUndefined();
    expect(apply('- { source_labels: [a], target_label: b, action: keepequal }', { a: '1', b: '2' })).toBeUndefined();
    expect(apply('- { source_labels: [a], target_label: b, action: dropequal }', { a: '1', b: '1' })).toBeUndefined();
  });

  test('hashmod gives the shard Prometheus gives', () => {
    expect(apply('- { source_labels: [c], target_label: d, modulus: 1000, action: hashmod }', { c: 'baz' })?.d).toBe('976');
    expect(apply('- { source_labels: [a], target_label: b, modulus: 1000, action: hashmod }', { a: 'foo\nbar' })?.b).toBe('734');
  });

  test('labelmap, labeldrop, labelkeep, lowercase', () => {
    expect(apply('- { regex: "(b.*)", replacement: "bar_${1}", action: labelmap }', { a: 'foo', b1: 'bar', b2: 'baz' })).toEqual({
      a: 'foo',
      b1: 'bar',
      b2: 'baz',
      bar_b1: 'bar',
      bar_b2: 'baz',
    });
    expect(apply('- { regex: "module|tmp.*", action: labeldrop }', { module: 'x', tmp1: 'y', keep: 'z' })).toEqual({ keep: 'z' });
    expect(apply('- { regex: "keep", action: labelkeep }', { module: 'x', keep: 'z' })).toEqual({ keep: 'z' });
    expect(apply('- { source_labels: [a], target_label: a, action: lowercase }', { a: 'MiXed' })).toEqual({ a: 'mixed' });
  });

  test('an empty replacement removes the label', () => {
    expect(apply('- { source_labels: [a], target_label: b, replacement: "" }', { a: 'x', b: 'y' })).toEqual({ a: 'x' });
  });

  test('rules it cannot follow are reported at their line', () => {
    const { rules: list, problems } = rules(`
- source_labels: [__address__]
  target_label: __param_target
- source_labels: [name]
  regex: '\\pL+'
  target_label: x
- action: rewrite
`);
    expect(list).toBeUndefined();
    expect(problems.map((p) => `${p.where.line}: ${p.reason}`)).toEqual([
      expect.stringMatching(/^5: relabel rule cannot be followed: regex "\\\\pL\+": Unicode classes/),
      '7: relabel rule cannot be followed: unknown action "rewrite"',
    ]);
  });
});

describe('expandTemplate: Go\'s Regexp.Expand', () => {
  const m = /(?<word>a+)(b)/.exec('aab') as RegExpExecArray;
  test.each([
    ['$1', 'aa'],
    ['${1}x', 'aax'],
    ['$1x', ''],
    ['$word-$2', 'aa-b'],
    ['$$1', '$1'],
    ['$!', '$!'],
    ['$9', ''],
  ])('%s → %s', (template, want) => {
    expect(expandTemplate(template, m)).toBe(want);
  });
});

describe('durations', () => {
  test('Prometheus', () => {
    expect(parsePromDuration('15s')).toBe(15_000);
    expect(parsePromDuration('1m30s')).toBe(90_000);
    expect(parsePromDuration('1w')).toBe(604_800_000);
    expect(parsePromDuration('0')).toBe(0);
    expect(parsePromDuration('1.5s')).toBeUndefined();
    expect(parsePromDuration('')).toBeUndefined();
  });

  test('Go', () => {
    expect(parseGoDuration('5s')).toBe(5000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('250ms')).toBe(250);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('-5s')).toBeUndefined();
  });
});

describe('probe ids', () => {
  test('slugs keep what ids allow', () => {
    expect(slug('blackbox http/2xx')).toBe('blackbox-http-2xx');
    expect(targetSlug('https://api.example.com/v1/ping')).toBe('https-api.example.com-v1-ping');
    expect(targetSlug('http://api.example.com/')).toBe('api.example.com');
    expect(targetSlug('[2001:db8::10]:6379')).toBe('2001:db8::10:6379');
  });

  test('collisions take the longer form, then a hash; order does not matter', () => {
    const a = { base: 'job-x', longer: 'job-x-http_2xx', key: 'a' };
    const b = { base: 'job-x', longer: 'job-x-tcp_connect', key: 'b' };
    const c = { base: 'job-y', longer: 'job-y-m', key: 'c' };
    const d = { base: 'job-z', longer: 'job-z-m', key: 'd' };
    const e = { base: 'job-z', longer: 'job-z-m', key: 'e' };
    const ids = assignIds([a, b, c, d, e]);
    expect(ids.slice(0, 3)).toEqual(['job-x-http_2xx', 'job-x-tcp_connect', 'job-y']);
    expect(ids[3]).toMatch(/^job-z-[0-9a-f]{8}$/);
    expect(new Set(ids).size).toBe(5);
    expect(assignIds([e, c, b, a, d])).toEqual([ids[4], ids[2], ids[1], ids[0], ids[3]]);
  });

  test('long ids are cut with a hash', () => {
    const [id] = assignIds([{ base: `job-${'a'.repeat(200)}`, longer: 'x', key: 'k' }]);
    expect(id?.length).toBeLessThanOrEqual(100);
    expect(id).toMatch(/-[0-9a-f]{8}$/);
  });
});
