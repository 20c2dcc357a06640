import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics/registry.js';
import type { FleetMessage, WorkerReport } from '../../src/queue/bullmq-jobs.js';
import { compareStreamIds } from '../../src/queue/bullmq-results.js';
import { WorkerReports } from '../../src/queue/bullmq-worker-reports.js';
import { shareOf } from '../../src/worker/fallback.js';
import { ResultBuffer } from '../../src/worker/result-buffer.js';

function results(n: number, at = '2026-12-02T10:00:00.000Z'): FleetMessage {
  return {
    type: 'results',
    v: 1,
    vantage: 'a',
    lag_ms: 0,
    results: Array.from({ length: n }, (_, i) => ({ at, probe: `p${i}`, vantage: 'a', ok: true })),
  };
}
const skipped: FleetMessage = { type: 'skipped', v: 1, vantage: 'a', probe: 'p' };

describe('ResultBuffer (a worker\'s results while Redis is away)', () => {
  it('keeps messages first in, first out and counts results, a skipped check as one', () => {
    const b = new ResultBuffer({ maxResults: 100, maxAgeMs: 60_000 });
    b.push(results(2), 0);
    b.push(skipped, 1);
    b.push(results(3), 2);
    expect(b.size).toBe(6);
    expect(b.peek(2)).toEqual([results(2), skipped]);
    b.shift(2);
    expect(b.size).toBe(3);
    expect(b.peek(5)).toEqual([results(3)]);
    b.shift(5);
    expect(b.empty).toBe(true);
    expect(b.size).toBe(0);
  });

  it('drops the oldest beyond the count bound and says how many', () => {
    const b = new ResultBuffer({ maxResults: 4, maxAgeMs: 60_000 });
    expect(b.push(results(2), 0)).toBe(0);
    expect(b.push(results(2), 1)).toBe(0);
    expect(b.push(results(1), 2)).toBe(2);
    expect(b.size).toBe(3);
    expect(b.droppedOverflow).toBe(2);
    expect(b.peek(10)).toEqual([results(2), results(1)]);
  });

  it('drops what outlived the age bound, oldest first', () => {
    const b = new ResultBuffer({ maxResults: 100, maxAgeMs: 1000 });
    b.push(results(1), 0);
    b.push(results(2), 500);
    b.push(results(1), 1500);
    expect(b.expire(1200)).toBe(1);
    expect(b.expire(1600)).toBe(2);
    expect(b.size).toBe(1);
    expect(b.droppedExpired).toBe(3);
  });

  it('puts a message whose send failed back before what was produced after it, for order and for the bound', () => {
    const probe = (id: string): FleetMessage => ({ type: 'skipped', v: 1, vantage: 'a', probe: id });
    const b = new ResultBuffer({ maxResults: 3, maxAgeMs: 60_000 });
    b.push(probe('t10'), 10);
    b.push(probe('t30'), 30);
    // Sent at 20, while Redis was still thought up; the send failed once the outage was noticed.
    b.putBack(probe('t20'), 20);
    expect(b.peek(10)).toEqual([probe('t10'), probe('t20'), probe('t30')]);
    // A later one overflows the bound: the oldest produced goes, not the one put back last.
    expect(b.push(probe('t40'), 40)).toBe(1);
    expect(b.peek(10)).toEqual([probe('t20'), probe('t30'), probe('t40')]);
    // Older than everything held: to the front, then the first to go.
    b.putBack(probe('t5'), 5);
    expect(b.peek(10)).toEqual([probe('t20'), probe('t30'), probe('t40')]);
    expect(b.droppedOverflow).toBe(2);
    // And age counts from production: t20 is the first to expire.
    expect(b.expire(20 + 60_001)).toBe(1);
    expect(b.peek(10)).toEqual([probe('t30'), probe('t40')]);
  });

  it('holds 200,000 messages and delivers them in order without quadratic shifting', () => {
    const b = new ResultBuffer({ maxResults: 200_000, maxAgeMs: 60_000 });
    for (let i = 0; i < 200_000; i++) b.push({ type: 'skipped', v: 1, vantage: 'a', probe: String(i) }, i);
    let next = 0;
    let outOfOrder = 0;
    while (!b.empty) {
      for (const m of b.peek(200)) if (m.type !== 'skipped' || m.probe !== String(next++)) outOfOrder++;
      b.shift(200);
    }
    expect(next).toBe(200_000);
    expect(outOfOrder).toBe(0);
  });
});

describe('shareOf (the checks a worker takes while Redis is away)', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `probe-${i}\u0000https://t${i}/\u0000par-a`);

  it('alone, or without having seen the others, takes every check', () => {
    expect(keys.every(shareOf('w1', []))).toBe(true);
    expect(keys.every(shareOf('w1', ['w1']))).toBe(true);
  });

  it('splits the checks among the members seen: each once, roughly evenly', () => {
    const members = ['w1', 'w2', 'w3'];
    const shares = members.map((m) => keys.filter(shareOf(m, members)).length);
    expect(shares.reduce((a, b) => a + b, 0)).toBe(keys.length);
    for (const n of shares) expect(n).toBeGreaterThan(800);
    // Every member computes the same split, whatever order it saw the others in.
    expect(keys.filter(shareOf('w2', ['w3', 'w1', 'w2']))).toEqual(keys.filter(shareOf('w2', members)));
  });
});

describe('WorkerReports (workers\' counters as tocsin run\'s metrics)', () => {
  const report = (worker: string, over: number, buffered: number, fallback = 0): WorkerReport => ({
    type: 'worker',
    v: 1,
    vantage: 'a',
    worker,
    buffered,
    dropped_overflow: over,
    dropped_expired: 0,
    fallback_checks: fallback,
  });

  it('adds what each worker added since its last report; sums the buffered of live workers', async () => {
    const metrics = createMetrics({ version: 't', processMetrics: false });
    const reports = new WorkerReports(metrics);
    reports.record(report('w1', 5, 10, 7), 0);
    reports.record(report('w2', 1, 4), 0);
    reports.record(report('w1', 8, 0, 7), 1000);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/tocsin_worker_results_dropped_total\{vantage="a",reason="overflow"\} 9/);
    expect(text).toMatch(/tocsin_worker_fallback_checks_total\{vantage="a"\} 7/);
    expect(text).toMatch(/tocsin_worker_results_buffered\{vantage="a"\} 4/);
    // A restarted worker (smaller counts) adds all it reports; a silent one stops counting.
    reports.record(report('w1', 2, 0), 2000);
    reports.record(report('w3', 0, 1), 120_000);
    const later = await metrics.registry.metrics();
    expect(later).toMatch(/tocsin_worker_results_dropped_total\{vantage="a",reason="overflow"\} 11/);
    expect(later).toMatch(/tocsin_worker_results_buffered\{vantage="a"\} 1/);
  });
});

describe('compareStreamIds', () => {
  it('orders by time, then sequence', () => {
    expect(compareStreamIds('1-0', '1-0')).toBe(0);
    expect(compareStreamIds('1-2', '1-10')).toBe(-1);
    expect(compareStreamIds('10-0', '9-99')).toBe(1);
  });
});
