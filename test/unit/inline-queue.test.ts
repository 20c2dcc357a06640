import { describe, expect, it } from 'vitest';
import type { CheckContext, ProbeKind } from '../../probes/probe.js';
import { Deadline } from '../../probes/shared/deadline.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { planJobs } from '../../src/queue/jobs.js';
import { runCheck, stopController } from '../../src/queue/run-check.js';
import { ResultsBus } from '../../src/results/bus.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makePlan } from '../helpers/plan.js';

/** A probe kind whose checks stay open until the test releases them (or their deadline aborts them). */
function gatedKind(grouping: 'each' | 'all' = 'each') {
  const open: { targets: readonly string[]; release: () => void; ctx: CheckContext }[] = [];
  const kind: ProbeKind = {
    kind: 'fake',
    shape: {},
    grouping,
    targets: () => [],
    run: (_spec, targets, ctx) =>
      new Promise((resolve) => {
        const done = () => resolve(targets.map((target) => ({ target, ok: true, duration_ms: 1 })));
        open.push({ targets, release: done, ctx });
        ctx.signal.addEventListener('abort', () =>
          resolve(targets.map((target) => ({ target, ok: false, error: 'timeout' as const }))),
        );
      }),
  };
  return { kind, open };
}

function setup(kind: ProbeKind, probes: Parameters<typeof makePlan>[0], concurrency = 16) {
  const clock = new FakeClock(0);
  const bus = new ResultsBus();
  const results: ProbeResult[] = [];
  bus.subscribe((r) => results.push(r));
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const queue = new InlineQueue({
    kinds: { fake: kind },
    bus,
    metrics,
    clock,
    logger: createLogger('silent'),
    vantage: 'local',
    concurrency,
  });
  return { clock, queue, results, metrics, plan: makePlan(probes) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('InlineQueue', () => {
  it('skips a check still running at its next slot and counts it, never stacking', async () => {
    const { kind, open } = gatedKind();
    const { clock, queue, metrics, plan, results } = setup(kind, [{ timeoutMs: 60_000, intervalMs: 1000 }]);
    await queue.sync(plan);
    await queue.start();
    clock.advance(4000);
    expect(open).toHaveLength(1);
    const skipped = await metrics.schedulerSkipped.get();
    expect(skipped.values[0]?.value).toBe(3);
    open[0]?.release();
    await tick();
    expect(results).toHaveLength(1);
    clock.advance(1000);
    expect(open).toHaveLength(2);
    await queue.stop(0);
  });

  it('runs many checks at once without node warning of a listener leak on the stop signal', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const { kind, open } = gatedKind();
      const probes = Array.from({ length: 40 }, () => ({ timeoutMs: 60_000, intervalMs: 10_000 }));
      const { clock, queue, plan } = setup(kind, probes, 64);
      await queue.sync(plan);
      await queue.start();
      clock.advance(10_000);
      expect(open).toHaveLength(40);
      // Warnings are emitted on the next tick.
      await tick();
      for (const o of open) o.release();
      await queue.stop(0);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('bounds the checks running at once and starts waiting ones as slots free up', async () => {
    const { kind, open } = gatedKind();
    const probes = Array.from({ length: 10 }, () => ({ timeoutMs: 60_000, intervalMs: 10_000 }));
    const { clock, queue, plan } = setup(kind, probes, 3);
    await queue.sync(plan);
    await queue.start();
    clock.advance(10_000);
    expect(queue.stats()).toEqual({ scheduled: 10, inflight: 3, waiting: 7 });
    open[0]?.release();
    await tick();
    await tick();
    expect(queue.stats().inflight).toBe(3);
    expect(queue.stats().waiting).toBe(6);
    expect(open).toHaveLength(4);
    await queue.stop(0);
  });

  it('records scheduler lag from the slot, including the wait for a concurrency slot', async () => {
    const { kind, open } = gatedKind();
    const { clock, queue, plan, metrics } = setup(kind, [{ timeoutMs: 60_000 }, { timeoutMs: 60_000 }], 1);
    await queue.sync(plan);
    await queue.start();
    clock.advance(1000);
    clock.advance(250);
    open[0]?.release();
    await tick();
    await tick();
    const lag = await metrics.schedulerLag.get();
    const count = lag.values.find((v) => v.metricName === 'tocsin_scheduler_lag_seconds_count');
    const sum = lag.values.find((v) => v.metricName === 'tocsin_scheduler_lag_seconds_sum');
    expect(count?.value).toBe(2);
    expect(sum?.value).toBeGreaterThan(0);
    await queue.stop(0);
  });

  it('publishes one event per target with at, probe, vantage and target', async () => {
    const { kind, open } = gatedKind();
    const { clock, queue, plan, results } = setup(kind, [
      { id: 'web', targets: ['https://a/'], timeoutMs: 60_000 },
    ]);
    await queue.sync(plan);
    await queue.start();
    clock.advance(1000);
    open[0]?.release();
    await tick();
    expect(results).toEqual([
      {
        at: expect.stringMatching(/^1970-01-01T00:00:0\d\.\d{3}Z$/),
        probe: 'web',
        vantage: 'local',
        target: 'https://a/',
        ok: true,
        duration_ms: 1,
      },
    ]);
    await queue.stop(0);
  });

  it('stop() aborts checks past the grace period and publishes nothing for them', async () => {
    const { kind, open } = gatedKind();
    const { clock, queue, plan, results } = setup(kind, [{ timeoutMs: 60_000 }]);
    await queue.sync(plan);
    await queue.start();
    clock.advance(1000);
    expect(open).toHaveLength(1);
    await queue.stop(10);
    expect(open[0]?.ctx.signal.aborted).toBe(true);
    expect(results).toEqual([]);
    expect(queue.running).toBe(false);
  });
});

describe('planJobs', () => {
  it('makes one job per target for independent kinds and one per probe for grouped kinds', () => {
    const plan = makePlan([{ targets: ['a', 'b', 'c'], vantages: ['x', 'y'] }]);
    expect(planJobs(plan, { fake: gatedKind('each').kind }, ['x', 'y'])).toHaveLength(6);
    expect(planJobs(plan, { fake: gatedKind('all').kind }, ['x', 'y'])).toHaveLength(2);
    expect(planJobs(plan, { fake: gatedKind('each').kind }, ['x'])).toHaveLength(3);
  });
});

describe('runCheck', () => {
  const clock = { now: () => Date.parse('2026-01-01T00:00:00Z') };
  const job = (kind: ProbeKind, timeoutMs = 50) =>
    planJobs(makePlan([{ timeoutMs, targets: ['a', 'b'] }]), { fake: kind }, ['local'])[0];

  it('turns a throwing probe into internal failures, one per target', async () => {
    const kind: ProbeKind = {
      kind: 'fake',
      shape: {},
      grouping: 'all',
      targets: () => [],
      run: async () => {
        throw new Error('boom');
      },
    };
    const j = job(kind);
    if (!j) throw new Error('no job');
    const results = await runCheck(kind, j, { clock });
    expect(results.map((r) => [r.target, r.ok, r.error])).toEqual([
      ['a', false, 'internal'],
      ['b', false, 'internal'],
    ]);
    expect(results[0]?.detail).toContain('boom');
  });

  it('does not wait past the deadline for a probe that ignores it', async () => {
    const kind: ProbeKind = {
      kind: 'fake',
      shape: {},
      grouping: 'all',
      targets: () => [],
      run: () => new Promise(() => {}),
    };
    const j = job(kind, 20);
    if (!j) throw new Error('no job');
    const results = await runCheck(kind, j, { clock });
    expect(results.every((r) => r.error === 'internal' && r.detail?.includes('deadline'))).toBe(true);
  });

  it('gives a kind building its Deadline from the context the deadline, without making `signal`', async () => {
    let signalRead = false;
    const kind: ProbeKind = {
      kind: 'fake',
      shape: {},
      grouping: 'all',
      targets: () => [],
      run: async (_spec, targets, ctx) => {
        const watched = new Proxy(ctx, {
          get: (t, key) => {
            if (key === 'signal') signalRead = true;
            return Reflect.get(t, key);
          },
        });
        const deadline = new Deadline(watched);
        try {
          await new Promise<void>((resolve) => deadline.onExpire(resolve));
          return targets.map((target) => ({ target, ok: false, error: 'timeout' as const }));
        } finally {
          deadline.dispose();
        }
      },
    };
    const j = job(kind, 30);
    if (!j) throw new Error('no job');
    const results = await runCheck(kind, j, { clock, signal: stopController().signal });
    expect(results.map((r) => r.error)).toEqual(['timeout', 'timeout']);
    expect(signalRead).toBe(false);
  });

  it('aborts such a Deadline, and a `signal` asked for, when the daemon stops', async () => {
    const stop = stopController();
    const seen: string[] = [];
    const kind: ProbeKind = {
      kind: 'fake',
      shape: {},
      grouping: 'all',
      targets: () => [],
      run: async (_spec, targets, ctx) => {
        const deadline = new Deadline(ctx);
        const asked = ctx.signal;
        asked.addEventListener('abort', () => seen.push('signal'));
        try {
          await new Promise<void>((resolve) => deadline.onExpire(resolve));
          seen.push('deadline');
          return targets.map((target) => ({ target, ok: false, error: 'timeout' as const }));
        } finally {
          deadline.dispose();
        }
      },
    };
    const j = job(kind, 60_000);
    if (!j) throw new Error('no job');
    const running = runCheck(kind, j, { clock, signal: stop.signal });
    await tick();
    stop.abort(new Error('stopping'));
    const results = await running;
    expect(results.map((r) => r.error)).toEqual(['timeout', 'timeout']);
    expect(seen.sort()).toEqual(['deadline', 'signal']);
  });

  it('fills in a target the probe forgot', async () => {
    const kind: ProbeKind = {
      kind: 'fake',
      shape: {},
      grouping: 'all',
      targets: () => [],
      run: async () => [{ target: 'a', ok: true }],
    };
    const j = job(kind);
    if (!j) throw new Error('no job');
    const results = await runCheck(kind, j, { clock });
    expect(results.map((r) => [r.target, r.ok, r.error])).toEqual([
      ['a', true, undefined],
      ['b', false, 'internal'],
    ]);
    expect(results[0]?.at).toBe('2026-01-01T00:00:00.000Z');
  });
});
