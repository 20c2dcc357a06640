import { describe, expect, it } from 'vitest';
import type { Clock } from '../../src/clock.js';
import { rulesForPlan } from '../../src/engine/pack.js';
import { Replay } from '../../src/engine/replay.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Metrics } from '../../src/metrics/registry.js';
import { checkKey } from '../../src/queue/jobs.js';
import { Rechecker } from '../../src/schedule/rechecker.js';
import { makePlan } from '../helpers/plan.js';

/**
 * The noise benchmark's scenarios (bench/noise.ts) as the default rules and the real Rechecker
 * see them, in virtual time: three vantages checking one probe every 5 s, each re-checking its own
 * failures when re-checks are on. Re-checks must not add false alarms (issue 19): the same seeds
 * run with and without them, and the openings are compared.
 */
const VANTAGES = ['a', 'b', 'c'] as const;
const INTERVAL_MS = 5_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

type Failing = (at: number, vantage: string, random: () => number) => boolean;

function openings(seed: number, rechecks: boolean, failing: Failing): number {
  let x = seed * 7919;
  const random = () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x / 2 ** 32;
  };
  const plan = makePlan(
    [
      {
        id: 'p0',
        kind: 'http',
        intervalMs: INTERVAL_MS,
        timeoutMs: 1_000,
        vantages: [...VANTAGES],
        targets: ['t0'],
        ...(rechecks ? { recheck: { intervalMs: 2_000, max: 5 } } : {}),
      },
    ],
    { vantages: [...VANTAGES] },
  );
  const rules = rulesForPlan(plan);
  const replay = new Replay({ plan, rules });
  let now = T0;
  const clock = { now: () => now } as Clock;
  const metrics = { rechecks: { inc: () => undefined } } as unknown as Pick<Metrics, 'rechecks'>;
  const rechecker = new Rechecker({ clock, metrics });
  rechecker.setPlan(plan, rules);
  const probe = plan.probes[0];
  if (!probe) throw new Error('no probe');
  const due = VANTAGES.map((vantage, i) => ({ at: T0 + i * 1_000, vantage: vantage as string, recheck: false }));
  const end = T0 + 300_000;
  for (;;) {
    due.sort((p, q) => p.at - q.at);
    const next = due.shift();
    if (!next || next.at > end) break;
    now = next.at;
    const ok = !failing(next.at, next.vantage, random);
    const event: ProbeResult = {
      at: new Date(next.at).toISOString(),
      probe: 'p0',
      target: 't0',
      vantage: next.vantage,
      ok,
      ...(ok ? {} : { error: 'status' as const, detail: 'status 503, expected 2xx' }),
    };
    replay.feed(event);
    const job = { key: checkKey('p0', 't0', next.vantage), probe, targets: ['t0'], vantage: next.vantage };
    const at = rechecks ? rechecker.after(job, [event], next.recheck) : undefined;
    if (at !== undefined) due.push({ at, vantage: next.vantage, recheck: true });
    if (!next.recheck) due.push({ at: next.at + INTERVAL_MS, vantage: next.vantage, recheck: false });
  }
  const timeline = replay.finish().flatMap((inc) => inc.timeline);
  return timeline.filter((e) => e.kind === 'opened' || e.kind === 'reopened').length;
}

const FAULT_FROM = T0 + 50_000;
const FAULT_TO = T0 + 170_000;
const inFault = (at: number) => at >= FAULT_FROM && at < FAULT_TO;
const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
const total = (rechecks: boolean, failing: Failing) => SEEDS.reduce((n, s) => n + openings(s, rechecks, failing), 0);

describe('re-checks add no false alarms (the noise benchmark in virtual time)', () => {
  it('S10, a service failing half its checks at random for 2 minutes: as many openings with re-checks as without', () => {
    const flapping: Failing = (at, _v, random) => inFault(at) && random() < 0.5;
    const without = total(false, flapping);
    const withRechecks = total(true, flapping);
    // The scenario does open incidents (else the comparison would prove nothing)...
    expect(without).toBeGreaterThanOrEqual(SEEDS.length);
    // ...and re-checks, which follow failures only, do not over-sample them into more openings.
    // The two runs draw different checks (re-checks take draws too), so the counts differ by
    // sampling; over 1,000 seeds they were 1,397 without and 1,452 with (the draft comes sooner,
    // leaving more of the 2 minutes to flap in); re-checking every failure, flapping or not, gave 407
    // against 276 over these 200 seeds.
    expect(withRechecks).toBeLessThanOrEqual(Math.ceil(without * 1.1));
  });

  it('S5, one vantage of three failing: no incident either way', () => {
    const minority: Failing = (at, vantage) => inFault(at) && vantage === 'a';
    expect(total(false, minority)).toBe(0);
    expect(total(true, minority)).toBe(0);
  });

  it('single blips (one failed check between successes at each vantage, now and then): no incident either way', () => {
    const blips: Failing = (at, _v, random) => inFault(at) && random() < 0.1;
    expect(total(false, blips)).toBe(0);
    expect(total(true, blips)).toBe(0);
  });
});
