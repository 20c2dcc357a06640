import { describe, expect, test } from 'vitest';
import { combinePatterns, translateGoRegexp } from '../../src/import/go-regexp.js';

// Go (RE2) patterns in JavaScript syntax: what matched in the exporter or in Prometheus matches
// in Tocsin, flags included (written into the pattern, since body_regex takes none).

function js(pattern: string): RegExp {
  const t = translateGoRegexp(pattern);
  if (!t.ok) throw new Error(t.reason);
  return new RegExp(t.source);
}

describe('translateGoRegexp', () => {
  test('plain patterns are kept as written', () => {
    expect(translateGoRegexp('^220 ([^ ]+) ESMTP')).toEqual({ ok: true, source: '^220 ([^ ]+) ESMTP' });
    expect(translateGoRegexp('(\\*|example\\.com)')).toEqual({ ok: true, source: '(\\*|example\\.com)' });
  });

  test('(?i) folds ASCII letters, in literals, classes and ranges, for the rest of its group', () => {
    const re = js('(?i)error: [a-c]x');
    expect(re.test('ERROR: Bx')).toBe(true);
    expect(re.test('Error: cX')).toBe(true);
    expect(re.test('error: dx')).toBe(false);
    const scoped = js('a(?i:b)c');
    expect(scoped.test('aBc')).toBe(true);
    expect(scoped.test('aBC')).toBe(false);
    const unset = js('(?i)a(?-i)b');
    expect(unset.test('Ab')).toBe(true);
    expect(unset.test('AB')).toBe(false);
  });

  test('dot: no newline by default (but \\r, unlike JavaScript), anything under (?s)', () => {
    expect(js('a.b').test('a\rb')).toBe(true);
    expect(js('a.b').test('a\nb')).toBe(false);
    expect(js('(?s)a.b').test('a\nb')).toBe(true);
  });

  test('(?m) makes ^ and $ line anchors; \\A and \\z stay at the text\'s ends', () => {
    expect(js('^b$').test('a\nb\nc')).toBe(false);
    expect(js('(?m)^b$').test('a\nb\nc')).toBe(true);
    expect(js('(?m)\\Ab').test('a\nb')).toBe(false);
    expect(js('a\\z').test('ba')).toBe(true);
    expect(js('a\\z').test('ab')).toBe(false);
  });

  test('(?U) swaps greedy and lazy', () => {
    expect(js('(?U)<.+>').exec('<a><b>')?.[0]).toBe('<a>');
    expect(js('(?U)<.+?>').exec('<a><b>')?.[0]).toBe('<a><b>');
  });

  test('POSIX classes, \\Q...\\E literals, \\x{...}, octal, named groups, a leading ]', () => {
    expect(js('^[[:digit:]]+$').test('123')).toBe(true);
    expect(js('^[[:alpha:]_]+$').test('a_B')).toBe(true);
    expect(js('\\Q1+1=2\\E').test('1+1=2')).toBe(true);
    expect(js('\\x{41}\\101').test('AA')).toBe(true);
    expect(js('(?P<port>\\d+)').exec('x:443')?.groups?.port).toBe('443');
    expect(js('[]a]').test(']')).toBe(true);
    expect(translateGoRegexp('(?P<n>a)', { names: false })).toEqual({ ok: true, source: '(a)' });
  });

  test('\\s is ASCII whitespace only, as in RE2', () => {
    expect(js('a\\sb').test('a\u00a0b')).toBe(false);
    expect(js('a\\sb').test('a\tb')).toBe(true);
  });

  test('what JavaScript cannot say is refused with the reason', () => {
    expect(translateGoRegexp('\\pL+')).toMatchObject({ ok: false, reason: expect.stringContaining('Unicode classes') });
    expect(translateGoRegexp('\\x{1F600}')).toMatchObject({ ok: false });
    expect(translateGoRegexp('[[:^alpha:]]')).toMatchObject({ ok: false });
    expect(translateGoRegexp('(?=a)')).toMatchObject({ ok: false });
    expect(translateGoRegexp('(a)\\1')).toMatchObject({ ok: false });
  });
});

describe('combinePatterns: several unanchored regexps as one', () => {
  test('one required pattern is itself', () => {
    expect(combinePatterns(['ok'], [])).toBe('ok');
  });

  test('every required one must match somewhere, no forbidden one anywhere', () => {
    const re = new RegExp(combinePatterns(['alpha', 'beta'], ['error', 'fail']));
    expect(re.test('beta\nthen alpha')).toBe(true);
    expect(re.test('alpha only')).toBe(false);
    expect(re.test('alpha beta\nerror')).toBe(false);
    const none = new RegExp(combinePatterns([], ['Could not connect']));
    expect(none.test('all good')).toBe(true);
    expect(none.test('x\nCould not connect to database')).toBe(false);
  });

  test('a required pattern anchored at the start still means the start', () => {
    const re = new RegExp(combinePatterns(['^OK', 'done'], []));
    expect(re.test('OK, done')).toBe(true);
    expect(re.test('not OK, done')).toBe(false);
  });
});
