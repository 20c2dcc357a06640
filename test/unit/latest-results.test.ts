import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { LatestResults } from '../../src/results/latest.js';

const result = (at: string, target: string | undefined, vantage: string, ok = true): ProbeResult => ({
  at: `2026-12-02T10:00:${at}Z`,
  probe: 'web',
  ...(target === undefined ? {} : { target }),
  vantage,
  ok,
});

describe('LatestResults', () => {
  it('keeps the newest result of a series, whatever order results arrive in', () => {
    const latest = new LatestResults();
    latest.record(result('05', 'https://a', 'fra'));
    latest.record(result('03', 'https://a', 'fra', false));
    expect(latest.forProbe('web')).toEqual([result('05', 'https://a', 'fra')]);
    latest.record(result('07', 'https://a', 'fra', false));
    expect(latest.forProbe('web')).toEqual([result('07', 'https://a', 'fra', false)]);
  });

  it('keeps one result per target and vantage of a probe, each the newest of its series', () => {
    const latest = new LatestResults();
    latest.record(result('01', 'https://a', 'fra'));
    latest.record(result('02', 'https://a', 'ams'));
    latest.record(result('03', 'https://b', 'fra'));
    latest.record(result('04', undefined, 'fra'));
    latest.record(result('05', 'https://a', 'ams', false));
    latest.record(result('00', 'https://b', 'fra', false));
    expect(latest.forProbe('web')).toEqual([
      result('01', 'https://a', 'fra'),
      result('05', 'https://a', 'ams', false),
      result('03', 'https://b', 'fra'),
      result('04', undefined, 'fra'),
    ]);
  });

  it('answers an unknown probe with no results, and hands out copies its caller may change', () => {
    const latest = new LatestResults();
    expect(latest.forProbe('web')).toEqual([]);
    latest.record(result('01', 'https://a', 'fra'));
    latest.forProbe('web').length = 0;
    latest.record(result('02', 'https://b', 'fra'));
    const listed = latest.forProbe('web');
    listed.pop();
    expect(latest.forProbe('web')).toHaveLength(2);
  });
});
