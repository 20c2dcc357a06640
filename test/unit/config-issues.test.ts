import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { describeIssue, show, typeName } from '../../src/config/issues.js';
import type { KeyPath } from '../../src/config/problems.js';
import { RuleSpec } from '../../src/config/rule-spec.js';

// The words of every config problem (probes, rules, includes, the top level): one dialect, so
// one `check-config` run reads the same way throughout.

/** Every problem of `value` against `schema`, as `path: message`. */
function words(schema: z.ZodType, value: unknown, prefix: KeyPath = []): string[] {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue) =>
    describeIssue(issue, prefix).map((d) => `${d.path.join('.')}: ${d.message}`),
  );
}

describe('describeIssue', () => {
  test('one problem per unknown key, at the key', () => {
    const schema = z.object({ a: z.string() }).strict();
    expect(words(schema, { a: 'x', colour: 'red', shade: 'dark' })).toEqual(['colour: unknown key', 'shade: unknown key']);
  });

  test('missing keys are required; wrong types say what was expected in YAML words', () => {
    const schema = z.object({
      n: z.number(),
      list: z.array(z.string()),
      map: z.record(z.string(), z.string()),
      i: z.number().int(),
    });
    expect(words(schema, { list: 'x', map: [], i: 1.5 })).toEqual([
      'n: required',
      'list: expected list, got string',
      'map: expected mapping, got list',
      'i: expected an integer, got 1.5',
    ]);
    expect(words(schema, { n: null, list: [], map: {}, i: 1 })).toEqual(['n: expected number, got null']);
  });

  test('enums and literals quote the options and the value', () => {
    const schema = z.object({ kind: z.enum(['sqlite', 'redis']), mode: z.literal('majority') });
    expect(words(schema, { kind: 'postgres', mode: 'most' })).toEqual([
      'kind: expected one of "sqlite", "redis", got "postgres"',
      'mode: expected "majority", got "most"',
    ]);
    expect(words(schema, { mode: 'majority' })).toEqual(['kind: required: one of "sqlite", "redis"']);
  });

  test('sizes and bounds', () => {
    const schema = z.object({
      list: z.array(z.string()).min(1),
      few: z.array(z.string()).max(2),
      name: z.string().min(1),
      code: z.string().min(3),
      n: z.number().min(1),
      ratio: z.number().gt(0).max(1),
      step: z.number().multipleOf(5),
    });
    expect(words(schema, { list: [], few: ['a', 'b', 'c'], name: '', code: 'ab', n: 0, ratio: 2, step: 7 })).toEqual([
      'list: must not be empty',
      'few: must have at most 2 items',
      'name: must not be empty',
      'code: must be at least 3 characters long',
      'n: must be >= 1',
      'ratio: must be <= 1',
      'step: must be a multiple of 5',
    ]);
    expect(words(schema.shape.ratio, 0)).toEqual([': must be > 0']);
  });

  test('formats', () => {
    expect(words(z.url(), 'nope')).toEqual([': expected a URL, got "nope"']);
    expect(words(z.iso.datetime({ offset: true }), 'tomorrow')).toEqual([
      ': expected an RFC 3339 date-time with offset, e.g. 2024-11-18T21:00:00Z, got "tomorrow"',
    ]);
    expect(words(z.string().regex(/^a/, 'must start with a'), 'b')).toEqual([': must start with a']);
  });

  test('custom checks keep their own message: the schemas write those for operators', () => {
    const schema = z.string().refine((s) => s.endsWith('s'), 'invalid duration (use e.g. 15s)');
    expect(words(schema, '15')).toEqual([': invalid duration (use e.g. 15s)']);
  });

  test('unions: the discriminator, the types expected, or what is wrong inside the branch that fits', () => {
    const tagged = z.discriminatedUnion('kind', [z.object({ kind: z.literal('a') }), z.object({ kind: z.literal('b') })]);
    expect(words(tagged, {})).toEqual(['kind: required: one of "a", "b"']);
    expect(words(tagged, { kind: 'c' })).toEqual(['kind: expected one of "a", "b", got "c"']);
    const either = z.object({ v: z.union([z.string(), z.number()]) });
    expect(words(either, { v: true })).toEqual(['v: expected string or number, got boolean']);
    expect(words(either, {})).toEqual(['v: required']);
    const shaped = z.object({ q: z.union([z.literal('majority'), z.object({ at_least: z.number().int().min(1) }).strict()]) });
    expect(words(shaped, { q: { at_least: 0 } })).toEqual(['q.at_least: must be >= 1']);
  });

  test('paths are prefixed, indices kept as numbers', () => {
    const issues = z.object({ list: z.array(z.number()) }).safeParse({ list: [1, 'x'] }, { reportInput: true });
    expect(issues.success).toBe(false);
    if (issues.success) return;
    const [issue] = issues.error.issues;
    if (!issue) throw new Error('an issue was expected');
    expect(describeIssue(issue, ['probes', 3])).toEqual([{ path: ['probes', 3, 'list', 1], message: 'expected number, got string' }]);
  });

  test('rules read in the same words as everything else', () => {
    expect(words(RuleSpec, { id: 'r', colour: 'red', shade: 'dark', recover_after: 'two', quorum: 'most' })).toEqual([
      'quorum: expected "majority", got "most"',
      'recover_after: expected number, got string',
      'colour: unknown key',
      'shade: unknown key',
    ]);
  });
});

describe('values in messages', () => {
  test('typeName: YAML words', () => {
    expect([null, [], {}, 'x', 1, true, undefined].map(typeName)).toEqual([
      'null',
      'list',
      'mapping',
      'string',
      'number',
      'boolean',
      'undefined',
    ]);
  });

  test('show: scalars as written, collections by type', () => {
    expect([['a'], { a: 1 }, 'x', 2, false, null].map(show)).toEqual(['list', 'mapping', '"x"', '2', 'false', 'null']);
  });
});
