import { describe, expect, test } from 'vitest';
import { Duration, formatDuration, parseDuration } from '../../src/duration.js';

describe('parseDuration', () => {
  test.each([
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['15s', 15_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1h2m3s4ms', 3_723_004],
    ['1.5s', 1_500],
    [' 15s ', 15_000],
  ])('%j → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(['', '15', 's', '15 s', '15x', '-1s', '1s junk', 'junk1s', '1,5s', 'ms'])(
    '%j is malformed',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe('formatDuration', () => {
  test.each([
    [0, '0s'],
    [500, '500ms'],
    [1_500, '1500ms'],
    [15_000, '15s'],
    [90_000, '90s'],
    [120_000, '2m'],
    [3_600_000, '1h'],
    [86_400_000, '24h'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1_000, 61_000, 7_200_000])
      expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('Duration schema', () => {
  test('parses to milliseconds', () => {
    expect(Duration.parse('2m')).toBe(120_000);
  });

  test('explains a malformed duration', () => {
    const result = Duration.safeParse('soon');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('invalid duration "soon" (use e.g. 500ms, 15s, 2m, 1h)');
  });

  test('rejects numbers: a bare 30 is ambiguous (seconds? milliseconds?)', () => {
    expect(Duration.safeParse(30).success).toBe(false);
  });
});
