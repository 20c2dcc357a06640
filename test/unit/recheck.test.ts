import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { compileRule, type Rule, RuleSpec } from '../../src/engine/rules.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { planJobs } from '../../src/queue/jobs.js';
import {
  newRecheckSeries,
  recheckGates,
  recheckSeriesIdle,
  stepRecheckSeries,
} from '../../src/schedule/recheck.js';
import { DEFAULT_RECHECK_RATE, Rechecker } from '../../src/schedule/rechecker.js';
import { TokenBucket } from '../../src/schedule/token-bucket.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makePlan } from '../helpers/plan.js';
import { defaultRules } from '../helpers/engine-events.js';

const rule = (spec: unknown): Rule => compileRule(RuleSpec.parse(spec));
function only<T>(xs: readonly T[]): T {
  const [x] = xs;
  if (x === undefined) throw new Error('empty');
  return x;
}
const http = { id: 'api', kind: 'http', component: 'app', labels: {} };
const pack = defaultRules();

describe('re-check gates', () => {
  it('takes the counting rules of the default pack that watch the probe, never ratio rules', () => {
    const gates = recheckGates(http, pack);
    expect(gates.map((g) => [g.rule.id, g.failAfter, g.recoverAfter]).sort()).toEqual([
      ['degraded', 3, 2],
      ['outage', 3, 2],
    ]);
    // lb-sync raises its signal at the first check out of sync; its recovery takes two.
    const lb = recheckGates({ ...http, kind: 'lb_sync' }, pack);
    expect(lb.map((g) => [g.rule.id, g.failAfter, g.recoverAfter]).sort()).toEqual([
      ['degraded', 3, 2],
      ['lb-sync', 1, 2],
      ['outage', 3, 2],
    ]);
    const onlyOutage = recheckGates(http, [rule({ id: 'o', match: { kinds: ['tls'] } }), rule({ id: 'r', condition: { ratio: {} } })]);
    expect(onlyOutage).toEqual([]);
  });

  it('leaves out rules one check settles either way', () => {
    expect(recheckGates(http, [rule({ id: 'one', condition: { consecutive: 1 }, recover_after: 1 })])).toEqual([]);
  });
});

describe('re-check decisions of a series', () => {
  const gates = recheckGates(http, [rule({ id: 'outage' })]);

  it('asks for re-checks until 3 failures in a row, then until 2 healthy checks', () => {
    const s = newRecheckSeries(gates);
    const steps = [
      stepRecheckSeries(gates, s, false, 'connect_refused'),
      stepRecheckSeries(gates, s, false, 'timeout'),
      stepRecheckSeries(gates, s, false, 'timeout'),
      stepRecheckSeries(gates, s, false, 'timeout'),
      stepRecheckSeries(gates, s, true, undefined),
      stepRecheckSeries(gates, s, true, undefined),
    ];
    expect(steps).toEqual([true, true, false, false, true, false]);
    expect(recheckSeriesIdle(s)).toBe(true);
  });

  it('stops at the first success: a blip costs one re-check', () => {
    const s = newRecheckSeries(gates);
    expect(stepRecheckSeries(gates, s, false, 'timeout')).toBe(true);
    expect(stepRecheckSeries(gates, s, true, undefined)).toBe(false);
    expect(recheckSeriesIdle(s)).toBe(true);
  });

  it('a failure while recovering goes back to holding, with nothing to hurry', () => {
    const s = newRecheckSeries(gates);
    for (let i = 0; i < 3; i++) stepRecheckSeries(gates, s, false, 'timeout');
    expect(stepRecheckSeries(gates, s, true, undefined)).toBe(true);
    expect(stepRecheckSeries(gates, s, false, 'timeout')).toBe(false);
    expect(recheckSeriesIdle(s)).toBe(false);
  });

  it('a result neutral for a rule changes none of its counts', () => {
    const degraded = recheckGates(http, [rule({ id: 'slow', condition: { degraded: { consecutive: 3 } } })]);
    const s = newRecheckSeries(degraded);
    expect(stepRecheckSeries(degraded, s, false, 'latency')).toBe(true);
    // A timeout says nothing about slowness: still one of three.
    expect(stepRecheckSeries(degraded, s, false, 'timeout')).toBe(true);
    expect(s.bad).toEqual([1]);
    expect(stepRecheckSeries(degraded, s, false, 'latency')).toBe(true);
    expect(stepRecheckSeries(degraded, s, false, 'latency')).toBe(false);
  });
});

describe('TokenBucket', () => {
  it('gives a second of tokens, then the rate, on the clock', () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(clock, 10);
    let taken = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) taken++;
    expect(taken).toBe(10);
    clock.advance(500);
    taken = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) taken++;
    expect(taken).toBe(5);
    // Idle for an hour: still one second's worth, not 36,000.
    clock.advance(3_600_000);
    taken = 0;
    for (let i = 0; i < 50; i++) if (bucket.take()) taken++;
    expect(taken).toBe(10);
  });

  it('takes a new rate, keeping no more than the new capacity', () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(clock, 100);
    bucket.setRate(2);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
    clock.advance(1000);
    expect([bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, false]);
  });
});

/** A failed regular check at 0 s and two failed re-checks (at 2 s and 4 s): the rule holds. */
function failThreeInARow<J>(
  clock: FakeClock,
  rechecker: Rechecker,
  job: J & Parameters<Rechecker['after']>[0],
  result: (job: J, ok: boolean) => ProbeResult[],
): void {
  expect(rechecker.after(job, result(job, false), false)).toBe(2000);
  clock.advance(2000);
  expect(rechecker.after(job, result(job, false), true)).toBe(4000);
  clock.advance(2000);
  expect(rechecker.after(job, result(job, false), true)).toBeUndefined();
}

async function countsOf(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.rechecks.get()).values) out[`${v.labels.probe}/${v.labels.result}`] = v.value;
  return out;
}

describe('Rechecker', () => {
  const recheck = { intervalMs: 2000, max: 5 };

  function setup(
    probes: Parameters<typeof makePlan>[0] = [{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000, recheck }],
    rate?: number,
    rules: readonly Rule[] = pack,
  ) {
    const clock = new FakeClock(0);
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const rechecker = new Rechecker({ clock, metrics });
    const plan = makePlan(probes, rate === undefined ? {} : { queue: { kind: 'inline', concurrency: 16, recheck_rate: rate } });
    rechecker.setPlan(plan, rules);
    const jobs = planJobs(plan, { http: { kind: 'http', shape: {}, grouping: 'each', targets: () => [], run: async () => [] } }, ['local']);
    const result = (job: (typeof jobs)[number], ok: boolean): ProbeResult[] =>
      job.targets.map((target) => ({
        at: new Date(clock.now()).toISOString(),
        probe: job.probe.id,
        target,
        vantage: 'local',
        ok,
        ...(ok ? {} : { error: 'connect_refused' as const }),
      }));
    const counts = async () => {
      const out: Record<string, number> = {};
      for (const v of (await metrics.rechecks.get()).values) out[`${v.labels.probe}/${v.labels.result}`] = v.value;
      return out;
    };
    return { clock, rechecker, jobs, result, counts };
  }

  it('re-checks recheck.interval after the failed check started, until the rule holds', async () => {
    const { clock, rechecker, jobs, result, counts } = setup();
    const job = only(jobs);
    clock.advance(10_000);
    const failed = result(job, false);
    clock.advance(1000); // the check took its whole timeout
    expect(rechecker.after(job, failed, false)).toBe(12_000);
    clock.advance(1000);
    expect(rechecker.after(job, result(job, false), true)).toBe(14_000);
    clock.advance(2000);
    // Three in a row: the rule holds, no more re-checks.
    expect(rechecker.after(job, result(job, false), true)).toBeUndefined();
    expect(await counts()).toEqual({ 'api/failed': 2 });
    // The failure goes on at the regular interval: six failed checks in a row in all, as many as
    // `intermittent` needs to judge (min_checks), so its end is no lucky streak.
    for (let i = 0; i < 3; i++) {
      clock.advance(30_000);
      expect(rechecker.after(job, result(job, false), false)).toBeUndefined();
    }
    // The first healthy check: one re-check confirms the recovery (recover_after: 2).
    clock.advance(30_000);
    expect(rechecker.after(job, result(job, true), false)).toBe(clock.now() + 2000);
    clock.advance(2000);
    expect(rechecker.after(job, result(job, true), true)).toBeUndefined();
    expect(await counts()).toEqual({ 'api/failed': 2, 'api/ok': 1 });
    expect(rechecker.pending).toBe(0);
  });

  it('a failure shorter than a ratio rule\'s min_checks recovers at the regular interval (S10)', async () => {
    const { clock, rechecker, jobs, result, counts } = setup();
    const job = only(jobs);
    // A flapping service's first streak: three failures in a row, quickly, thanks to re-checks.
    failThreeInARow(clock, rechecker, job, result);
    // Healthy at the next regular check: no re-check, `intermittent` gets its regular checks.
    clock.advance(26_000);
    expect(rechecker.after(job, result(job, true), false)).toBeUndefined();
    clock.advance(30_000);
    expect(rechecker.after(job, result(job, true), false)).toBeUndefined();
    expect(await counts()).toEqual({ 'api/failed': 2 });
  });

  it('without a ratio rule watching the probe, every recovery is re-checked', () => {
    const outageOnly = pack.filter((r) => r.condition !== 'ratio');
    const { clock, rechecker, jobs, result } = setup(undefined, undefined, outageOnly);
    const job = only(jobs);
    failThreeInARow(clock, rechecker, job, result);
    clock.advance(26_000);
    expect(rechecker.after(job, result(job, true), false)).toBe(clock.now() + 2000);
  });

  it('re-checks an lb_sync instance when its lag reaches max_lag, not an interval later', async () => {
    const clock = new FakeClock(0);
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    const rechecker = new Rechecker({ clock, metrics });
    const plan = makePlan([{ id: 'lb', kind: 'lb_sync', targets: ['i1', 'i2'], intervalMs: 30_000, timeoutMs: 1000, recheck }]);
    rechecker.setPlan(plan, pack);
    const kind = { kind: 'lb_sync', shape: {}, grouping: 'all' as const, targets: () => [], run: async () => [] };
    const job = only(planJobs(plan, { lb_sync: kind }, ['local']));
    const at = (ms: number) => new Date(ms).toISOString();
    const instance = (target: string, observations: Record<string, unknown>, ok = true): ProbeResult => ({
      at: at(clock.now()),
      probe: 'lb',
      target,
      vantage: 'local',
      ok,
      ...(ok ? {} : { error: 'config_out_of_sync' as const }),
      observations,
    });
    const inSync = { in_sync: true, lag_s: 0 };
    // i2 starts to differ at 10 s; max_lag 5 s: out of sync at 15 s, long before the next check.
    clock.advance(10_000);
    const differing = { in_sync: false, lag_s: 0, out_of_sync_at: at(15_000) };
    expect(rechecker.after(job, [instance('i1', inSync), instance('i2', differing)], false)).toBe(15_000);
    clock.advance(5000);
    // The re-check sees it out of sync: nothing more to wait for.
    const out = instance('i2', { in_sync: false, lag_s: 5 }, false);
    expect(rechecker.after(job, [instance('i1', inSync), out], true)).toBeUndefined();
    expect(await countsOf(metrics)).toEqual({ 'lb/failed': 1 });
    // A lag that reaches max_lag after the next regular check is left to that check.
    clock.advance(30_000);
    const slow = { in_sync: false, lag_s: 0, out_of_sync_at: at(clock.now() + 60_000) };
    expect(rechecker.after(job, [instance('i1', inSync), instance('i2', slow)], false)).toBeUndefined();
  });

  it('never more than max re-checks after a regular check', () => {
    const { clock, rechecker, jobs, result } = setup([
      { id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000, recheck: { intervalMs: 2000, max: 1 } },
    ]);
    const job = only(jobs);
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    clock.advance(2000);
    expect(rechecker.after(job, result(job, false), true)).toBeUndefined();
    clock.advance(30_000);
    // The regular check starts a new run; it is the third failure: the rule holds.
    expect(rechecker.after(job, result(job, false), false)).toBeUndefined();
  });

  it('bounds re-checks of every probe together by the rate, counting those skipped', async () => {
    const probes = Array.from({ length: 50 }, (_, i) => ({
      id: `p${i}`,
      kind: 'http',
      targets: [`t${i}`],
      intervalMs: 30_000,
      timeoutMs: 1000,
      recheck,
    }));
    const { clock, rechecker, jobs, result, counts } = setup(probes, 10);
    const asked = jobs.filter((job) => rechecker.after(job, result(job, false), false) !== undefined);
    expect(asked).toHaveLength(10);
    const skipped = Object.entries(await counts()).filter(([k]) => k.endsWith('/skipped'));
    expect(skipped.map(([, v]) => v).reduce((a, b) => a + b, 0)).toBe(40);
    clock.advance(1000);
    // A second later, ten more tokens: the skipped ones are re-checked at their next failure.
    const again = jobs.slice(10).filter((job) => rechecker.after(job, result(job, false), false) !== undefined);
    expect(again).toHaveLength(10);
  });

  it('without recheck (recheck: false) or without a counting rule, never re-checks', () => {
    const { rechecker, jobs, result } = setup([{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000 }]);
    expect(rechecker.after(only(jobs), result(only(jobs), false), false)).toBeUndefined();
    const clock = new FakeClock(0);
    const lone = new Rechecker({ clock, metrics: createMetrics({ version: 'test', processMetrics: false }) });
    const plan = makePlan([{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, recheck }]);
    lone.setPlan(plan, [rule({ id: 'r', condition: { ratio: {} } })]);
    expect(lone.after(only(jobs), result(only(jobs), false), false)).toBeUndefined();
  });

  it('one re-check pending per job; a skipped one frees it, a lost one is given up after its deadline', () => {
    const { clock, rechecker, jobs, result } = setup(undefined, undefined, [rule({ id: 'slow', condition: { consecutive: 10 } })]);
    const job = only(jobs);
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    // A regular check ending while that re-check is pending asks for none more.
    expect(rechecker.after(job, result(job, false), false)).toBeUndefined();
    rechecker.skipped(job);
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    // Never answered (a worker died with it): past its time, deadline and a grace, asked again.
    clock.advance(2000 + 1000 + 10_000 + 1);
    expect(rechecker.after(job, result(job, false), false)).toBe(clock.now() + 2000);
  });

  it('keeps counts across a reload that leaves the probe alone, restarts them when it changes', () => {
    const { clock, rechecker, jobs, result } = setup();
    const job = only(jobs);
    rechecker.setPlan(makePlan([{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000, recheck }]), pack);
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    clock.advance(2000);
    rechecker.setPlan(makePlan([{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000, recheck }]), pack);
    // Second failure of three: still half-way.
    expect(rechecker.after(job, result(job, false), true)).toBe(4000);
    rechecker.setPlan(
      makePlan([{ id: 'api', kind: 'http', targets: ['t'], intervalMs: 30_000, timeoutMs: 1000, recheck: { intervalMs: 3000, max: 5 } }]),
      pack,
    );
    clock.advance(2000);
    // Counts restarted: this failure is the first, with the new interval.
    expect(rechecker.after(job, result(job, false), false)).toBe(7000);
  });

  it('leaves a flapping series to the ratio rule: a failure soon after the last one is not re-checked', () => {
    const { clock, rechecker, jobs, result } = setup();
    const job = only(jobs);
    // A blip: one re-check, healthy: over.
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    clock.advance(2000);
    expect(rechecker.after(job, result(job, true), true)).toBeUndefined();
    // Failing again within the `intermittent` window (10 min): flapping, no re-check either way.
    clock.advance(30_000);
    expect(rechecker.after(job, result(job, false), false)).toBeUndefined();
    clock.advance(30_000);
    expect(rechecker.after(job, result(job, true), false)).toBeUndefined();
    // Ten quiet minutes later, a failure is news again.
    clock.advance(600_000);
    expect(rechecker.after(job, result(job, false), false)).toBe(clock.now() + 2000);
  });

  it('without a ratio rule watching the probe, every new failure is re-checked', () => {
    const { clock, rechecker, jobs, result } = setup(undefined, undefined, [rule({ id: 'outage' })]);
    const job = only(jobs);
    expect(rechecker.after(job, result(job, false), false)).toBe(2000);
    clock.advance(2000);
    expect(rechecker.after(job, result(job, true), true)).toBeUndefined();
    clock.advance(30_000);
    expect(rechecker.after(job, result(job, false), false)).toBe(clock.now() + 2000);
  });

  it('defaults to 200 re-checks a second', () => {
    expect(DEFAULT_RECHECK_RATE).toBe(200);
  });
});
