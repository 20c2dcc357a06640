import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type DropReason } from '../../src/engine/engine.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';
import {
  comp,
  defaultRules,
  EngineDriver,
  iso,
  merge,
  MIN,
  planOf,
  probe,
  replay,
  result,
  rounds,
  SEC,
  T0,
} from '../helpers/engine-events.js';

// Delivery is at least once and out of order (CONTRACT §5.10, SCENARIOS S15): each series
// (probe, target, vantage) is evaluated in `at` order and never re-stamped with the engine's
// "now"; a redelivered event changes nothing; a late one within the stale horizon counts at its
// own time; one older than the horizon is dropped as stale; Replay and the daemon's way of
// driving the engine (enqueue, tick every second) agree.

const INTERVAL = 10 * SEC;
/** stale_intervals (default 3) x interval. */
const HORIZON = 3 * INTERVAL;
const VANTAGES = ['v1', 'v2', 'v3'] as const;

// A small topology: two services under one zone, three apps under them, and a component with no
// dependency at all. Probes of 3, 2 and 1 vantages; one probe with two targets (partial outages).
const plan = planOf(
  [
    comp('zone'),
    comp('svc1', ['zone']),
    comp('svc2', ['zone']),
    comp('app1', ['svc1']),
    comp('app2', ['svc1']),
    comp('app3', ['svc2']),
    comp('lone', [], 'RBX'),
  ],
  [
    probe('app1-http', 'app1', ['v1', 'v2', 'v3'], { targets: ['a1'] }),
    probe('app2-http', 'app2', ['v1', 'v2', 'v3'], { targets: ['a2x', 'a2y'] }),
    probe('app3-http', 'app3', ['v1'], { targets: ['a3'] }),
    probe('svc1-tcp', 'svc1', ['v1', 'v2'], { targets: ['s1'], kind: 'tcp' }),
    probe('lone-http', 'lone', ['v1', 'v2', 'v3'], { targets: ['l1'] }),
  ],
);

/** One line = one (probe, target); its vantages see the same outcome (unless noise says otherwise). */
const LINES = plan.probes.flatMap((p, k) =>
  p.targets.map((target) => ({ probe: p.id, target, vantages: p.vantages, k })),
);
const KINDS = ['ok', 'ok', 'timeout', 'status', 'latency'] as const;

interface StreamSpec {
  readonly rounds: number;
  /** Per line: segments of one outcome, repeated to fill the rounds. */
  readonly segments: readonly (readonly { kind: number; len: number }[])[];
  /** Single checks seen differently by one vantage. */
  readonly noise: readonly { line: number; vantage: number; round: number; kind: number }[];
}

const kindArb = fc.integer({ min: 0, max: KINDS.length - 1 });
const segmentsArb = fc.array(fc.record({ kind: kindArb, len: fc.integer({ min: 1, max: 14 }) }), {
  minLength: 1,
  maxLength: 8,
});

function streamArb(withNoise: boolean): fc.Arbitrary<StreamSpec> {
  return fc.record({
    rounds: fc.integer({ min: 20, max: 70 }),
    segments: fc.array(segmentsArb, { minLength: LINES.length, maxLength: LINES.length }),
    noise: withNoise
      ? fc.array(
          fc.record({
            line: fc.nat({ max: LINES.length - 1 }),
            vantage: fc.nat({ max: 2 }),
            round: fc.nat({ max: 69 }),
            kind: fc.integer({ min: 0, max: KINDS.length - 1 }),
          }),
          { maxLength: 6 },
        )
      : fc.constant([]),
  });
}

/** When probe number k checks at vantage number v in round r: a phase per probe, jitter per vantage on some. */
function checkTime(k: number, v: number, r: number): number {
  return T0 + r * INTERVAL + k * 1700 + (k % 2 === 1 ? v * 35 : 0);
}

/** The events of a spec, in time order (the order a perfect queue would deliver them in). */
function build(spec: StreamSpec): ProbeResult[] {
  const out: ProbeResult[] = [];
  LINES.forEach((line, li) => {
    const segs = spec.segments[li] ?? [];
    const perRound: number[] = [];
    for (let s = 0; perRound.length < spec.rounds && segs.length > 0; s = (s + 1) % segs.length) {
      const seg = segs[s];
      if (!seg) break;
      for (let i = 0; i < seg.len && perRound.length < spec.rounds; i++) perRound.push(seg.kind);
    }
    for (let r = 0; r < spec.rounds; r++) {
      line.vantages.forEach((v, vi) => {
        const flip = spec.noise.find((n) => n.line === li && n.round === r && VANTAGES[n.vantage] === v);
        const kind = KINDS[flip ? flip.kind : (perRound[r] ?? 0)] ?? 'ok';
        out.push(result(checkTime(line.k, vi, r), line.probe, v, kind === 'ok' ? undefined : kind, line.target));
      });
    }
  });
  return merge(out);
}

const seriesOf = (e: ProbeResult): string => `${e.probe}|${e.target ?? ''}|${e.vantage}`;
const t = (e: ProbeResult | undefined): number => (e ? Date.parse(e.at) : Number.NaN);

/** What must not change: per incident its root, components (with impacts), signals and status. */
function outcome(incidents: readonly Incident[], opts: { impacts: boolean }): unknown[] {
  return incidents
    .map((i) => ({
      root: i.root_component,
      components: i.components.map((c) => (opts.impacts ? `${c.id}:${c.impact}` : c.id)).sort(),
      signals: i.signals.map((s) => `${s.rule}|${s.probe}|${s.since}`).sort(),
      status: i.status,
      review: i.review,
    }))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

interface Run {
  readonly incidents: Incident[];
  readonly dropped: Record<DropReason, number>;
  readonly calls: DropReason[];
}

function run(events: readonly ProbeResult[]): Run {
  const calls: DropReason[] = [];
  const { incidents, engine } = replay(plan, events, { onDrop: (r) => calls.push(r) });
  return { incidents, dropped: engine.dropped(), calls };
}

const NO_DROPS = { duplicate: 0, out_of_order: 0, stale: 0, unknown_probe: 0 };

describe('generated delivery streams', () => {
  it('do exercise the engine: incidents, merges under a dependency, partial outages, recoveries', () => {
    const samples = fc.sample(streamArb(true), { numRuns: 80, seed: 7 }).map((s) => run(build(s)).incidents);
    expect(samples.filter((s) => s.length > 0).length).toBeGreaterThan(50);
    expect(samples.some((s) => s.some((i) => i.components.length > 2 && i.root_component === 'zone'))).toBe(true);
    expect(samples.some((s) => s.some((i) => i.root_component === 'svc1'))).toBe(true);
    expect(samples.some((s) => s.some((i) => i.components.some((c) => c.impact === 'partial_outage')))).toBe(true);
    expect(samples.some((s) => s.some((i) => i.status === 'resolved'))).toBe(true);
    expect(samples.some((s) => s.some((i) => i.signals.some((x) => x.rule === 'degraded')))).toBe(true);
  }, 120_000);
});

describe('redelivered events (at least once)', () => {
  /**
   * Copies of events, each inserted after position `q` >= its original's, no further than the
   * stale horizon from it. Which reason drops a copy: it joins the batch of `q`'s timestamp and
   * is applied first in it, so it is a duplicate when its series' newest applied event is the
   * original itself, out of order when the series has moved on.
   */
  function withCopies(events: readonly ProbeResult[], picks: readonly { pick: number; lag: number }[]) {
    const after = new Map<number, ProbeResult[]>();
    const expected = { ...NO_DROPS };
    for (const { pick, lag } of picks) {
      const i = pick % events.length;
      const orig = events[i];
      if (!orig) continue;
      let q = Math.min(events.length - 1, i + lag);
      while (q > i && t(events[q]) - t(orig) > HORIZON) q--;
      const atQ = t(events[q]);
      let newest = Number.NEGATIVE_INFINITY;
      for (const e of events) if (seriesOf(e) === seriesOf(orig) && t(e) < atQ) newest = Math.max(newest, t(e));
      if (t(orig) === atQ || newest === t(orig)) expected.duplicate++;
      else expected.out_of_order++;
      after.set(q, [...(after.get(q) ?? []), { ...orig }]);
    }
    const stream = events.flatMap((e, i) => [e, ...(after.get(i) ?? [])]);
    return { stream, expected };
  }

  it('duplicating arbitrary events never changes the outcome, and each copy is counted once', () => {
    const picks = fc.array(fc.record({ pick: fc.nat(), lag: fc.nat({ max: 50 }) }), { minLength: 1, maxLength: 40 });
    fc.assert(
      fc.property(streamArb(true), picks, (spec, dups) => {
        const events = build(spec);
        const { stream, expected } = withCopies(events, dups);
        const ordered = run(events);
        const redelivered = run(stream);
        expect(ordered.dropped).toEqual(NO_DROPS);
        // Everything, ids, timelines and times included, as if the copies never came.
        expect(redelivered.incidents).toEqual(ordered.incidents);
        const impacts = { impacts: true };
        expect(outcome(redelivered.incidents, impacts)).toEqual(outcome(ordered.incidents, impacts));
        expect(redelivered.dropped).toEqual(expected);
        expect(redelivered.calls).toHaveLength(stream.length - events.length);
      }),
      { numRuns: 80 },
    );
  }, 120_000);

  it('copies right after their original are duplicates, counted exactly, through ingest and onDrop', () => {
    const calls: DropReason[] = [];
    const d = new EngineDriver(plan, { onDrop: (r) => calls.push(r) });
    const p = { id: 'lone-http', vantages: ['v1', 'v2', 'v3'], targets: ['l1'] };
    const events = rounds(p, T0, T0 + 10 * INTERVAL, () => undefined);
    for (const [n, e] of events.entries()) {
      d.feed(e);
      // Every third event is delivered three times in all.
      if (n % 3 === 0) {
        d.feed({ ...e });
        d.feed({ ...e });
      }
    }
    d.incidents();
    expect(d.engine.dropped()).toEqual({ ...NO_DROPS, duplicate: 20 });
    expect(calls).toEqual(new Array<DropReason>(20).fill('duplicate'));
  });

  it('a duplicated failure does not count as one more failed check', () => {
    const d = new EngineDriver(plan);
    const p = { id: 'app3-http', vantages: ['v1'], targets: ['a3'] };
    // Two failed checks, the second delivered twice (at once and again in the next batch): still two.
    const [f1, f2, f3] = rounds(p, T0, T0 + 3 * INTERVAL, () => 'timeout');
    if (!f1 || !f2 || !f3) throw new Error('no events');
    d.feed(f1);
    d.feed(f2);
    d.feed({ ...f2 });
    d.tick(t(f2) + 500);
    d.feed({ ...f2 });
    expect(d.incidents()).toEqual([]);
    expect(d.engine.dropped().duplicate).toBe(2);
    // The real third failure opens the draft, at its own check.
    d.feed(f3);
    const [inc] = d.incidents();
    expect(inc?.opened_at).toBe(f3.at);
    expect(inc?.signals[0]?.since).toBe(f1.at);
  });

  it('an older event redelivered after its series moved on is dropped as out of order and changes nothing', () => {
    const d = new EngineDriver(plan);
    const p = { id: 'app3-http', vantages: ['v1'], targets: ['a3'] };
    // fail, fail, ok, fail, fail: no three in a row. The old failures come back after the ok.
    const events = rounds(p, T0, T0 + 5 * INTERVAL, (at) => (at === T0 + 2 * INTERVAL ? undefined : 'timeout'));
    const [f1, f2, ok, f4, f5] = events;
    if (!f1 || !f2 || !ok || !f4 || !f5) throw new Error('no events');
    d.feed(f1);
    d.feed(f2);
    d.feed(ok);
    d.tick(t(ok) + 500);
    d.feed({ ...f1 });
    d.feed({ ...f2 });
    d.feed(f4);
    d.feed({ ...f2 });
    d.feed(f5);
    expect(d.incidents()).toEqual([]);
    expect(d.engine.dropped()).toEqual({ ...NO_DROPS, out_of_order: 3 });
  });

  it('an event of a probe the plan does not know is dropped as unknown_probe', () => {
    const calls: DropReason[] = [];
    const engine = createEngine({ plan, rules: defaultRules(), onDrop: (r) => calls.push(r) });
    engine.ingest(result(T0, 'nope-http', 'v1', 'timeout'));
    engine.ingest(result(T0 + SEC, 'nope-http', 'v1', 'timeout'));
    engine.flush();
    expect(engine.dropped()).toEqual({ ...NO_DROPS, unknown_probe: 2 });
    expect(calls).toEqual(['unknown_probe', 'unknown_probe']);
  });
});

describe('late vantages (a worker that reconnects and flushes)', () => {
  /**
   * Per vantage, at most one outage of its worker: its events from `start` to `start + span`
   * (within the stale horizon) are held back and delivered, in their own order, once the other
   * vantages' events reached the end of the outage.
   */
  const delaysArb = fc.array(
    fc.record({
      vantage: fc.constantFrom(...VANTAGES),
      start: fc.integer({ min: 0, max: 70 * INTERVAL }),
      span: fc.integer({ min: 1, max: HORIZON }),
    }),
    { minLength: 1, maxLength: 3 },
  );

  function delayed(
    events: readonly ProbeResult[],
    delays: readonly { vantage: string; start: number; span: number }[],
  ): ProbeResult[] {
    const seen = new Set<string>();
    const spans = delays.filter((d) => !seen.has(d.vantage) && seen.add(d.vantage));
    const held = new Map<ProbeResult, { until: number; vantage: string }>();
    for (const s of spans) {
      const from = T0 + s.start;
      const until = from + s.span;
      for (const e of events) {
        if (e.vantage === s.vantage && t(e) >= from && t(e) <= until) held.set(e, { until, vantage: s.vantage });
      }
    }
    const live = events.filter((e) => !held.has(e));
    const backlog = (lo: number, hi: number): ProbeResult[] =>
      spans
        .filter((s) => T0 + s.start + s.span >= lo && T0 + s.start + s.span < hi)
        .sort((a, b) => a.start + a.span - (b.start + b.span) || (a.vantage < b.vantage ? -1 : 1))
        .flatMap((s) => events.filter((e) => held.get(e)?.vantage === s.vantage));
    // Each backlog goes after the last live event at or before the end of its worker's outage.
    const out: ProbeResult[] = backlog(Number.NEGATIVE_INFINITY, t(live[0]));
    live.forEach((e, i) => {
      out.push(e);
      out.push(...backlog(t(e), i + 1 < live.length ? t(live[i + 1]) : Number.POSITIVE_INFINITY));
    });
    return out;
  }

  /** Late delivery must not change which incidents open, their roots and components, nor any signal's since. */
  type Delays = readonly { vantage: string; start: number; span: number }[];
  function sameOutcomeWhenLate(spec: StreamSpec, delays: Delays): void {
    const events = build(spec);
    const late = delayed(events, delays);
    expect(late).toHaveLength(events.length);
    const ordered = run(events);
    const flushed = run(late);
    expect(flushed.dropped).toEqual(NO_DROPS);
    expect(outcome(flushed.incidents, { impacts: false })).toEqual(outcome(ordered.incidents, { impacts: false }));
    // Each signal starts at a real failed check of its probe, never at a delivery time.
    const failedAt = new Set(events.filter((e) => !e.ok).map((e) => `${e.probe}|${e.at}`));
    for (const inc of flushed.incidents) {
      for (const s of inc.signals) expect(failedAt.has(`${s.probe}|${s.since}`), `${s.probe} since ${s.since}`).toBe(true);
    }
  }

  it('never changes which incidents open, their roots and components, nor any signal\'s since', () => {
    fc.assert(fc.property(streamArb(false), delaysArb, sameOutcomeWhenLate), { numRuns: 80 });
  }, 120_000);

  // Found by the property above (fast-check seed 875365778): app2's a2x target fails 2, passes 4,
  // fails 1, over and over (three failures in a row across the cycle's seam) while vantage v1's
  // results from 75.1 s are delivered 26.7 s late. In order, svc1's intermittency completes while
  // app2's draft is open and one incident rooted at svc1 lists both; delivered late, app2's draft
  // had resolved by the time v1's backlog completed svc1's quorum, and svc1 opened apart. A
  // signal is now placed by when its quorum held in the checks' time (quorum.ts, quorumMetAt).
  it('a late vantage does not split a cascade that in order is one incident', () => {
    sameOutcomeWhenLate(
      {
        rounds: 20,
        segments: [
          [{ kind: 0, len: 1 }],
          [{ kind: 0, len: 1 }],
          [{ kind: 2, len: 2 }, { kind: 0, len: 4 }, { kind: 2, len: 1 }],
          [{ kind: 0, len: 1 }],
          [{ kind: 2, len: 2 }, { kind: 0, len: 2 }],
          [{ kind: 0, len: 1 }],
        ],
        noise: [],
      },
      [{ vantage: 'v1', start: 75101, span: 26669 }],
    );
  });

  it('a failure seen only by a late single-vantage probe starts when it really started', () => {
    const d = new EngineDriver(plan);
    const app3 = { id: 'app3-http', vantages: ['v1'], targets: ['a3'] };
    const lone = { id: 'lone-http', vantages: ['v1', 'v2', 'v3'], targets: ['l1'] };
    const failFrom = T0 + 6 * INTERVAL;
    const a3 = rounds(app3, T0, T0 + 12 * INTERVAL, (at) => (at >= failFrom ? 'connect_refused' : undefined));
    const other = rounds(lone, T0, T0 + 12 * INTERVAL, () => undefined);
    // app3's worker is cut off from failFrom for 25 s: its three failed checks arrive together after.
    const cut = (e: ProbeResult) => t(e) >= failFrom && t(e) <= failFrom + 25 * SEC;
    const live = merge(a3.filter((e) => !cut(e)), other);
    const backlog = a3.filter(cut);
    expect(backlog).toHaveLength(3);
    // The backlog comes after everything else checked up to the end of the cut.
    d.feedAll(live.filter((e) => t(e) <= failFrom + 25 * SEC));
    d.tick(failFrom + 25 * SEC);
    d.feedAll(backlog);
    d.feedAll(live.filter((e) => t(e) > failFrom + 25 * SEC));
    const [inc] = d.incidents();
    expect(d.engine.dropped()).toEqual(NO_DROPS);
    expect(inc?.root_component).toBe('app3');
    expect(inc?.signals[0]?.since).toBe(iso(failFrom));
    // Opened when the evidence arrived (the engine's clock then), not before: it never guesses.
    expect(inc?.opened_at).toBe(iso(failFrom + 25 * SEC));
  });

  it('a late vantage that saw the failure first takes the signal\'s since back to that first failed check', () => {
    const app1 = { id: 'app1-http', vantages: ['v1', 'v2', 'v3'], targets: ['a1'] };
    // v1 sees app1 fail from 00:00:00, v2 and v3 from 00:00:10; it fails on until 00:01:30.
    const events = rounds(app1, T0, T0 + 10 * INTERVAL, (at, v) => (v === 'v1' || at >= T0 + INTERVAL ? 'timeout' : undefined));
    const ordered = replay(plan, events).incidents;
    expect(ordered[0]?.signals[0]?.since).toBe(iso(T0));
    // v1's worker is cut off from 00:00:15 to 00:00:40: its checks of 00:00:20 and 00:00:30
    // arrive after v2's and v3's third failure (00:00:30) completed the quorum without it.
    const cut = (e: ProbeResult) => e.vantage === 'v1' && t(e) >= T0 + 15 * SEC && t(e) <= T0 + 40 * SEC;
    const late = [
      ...events.filter((e) => !cut(e) && t(e) <= T0 + 40 * SEC),
      ...events.filter(cut),
      ...events.filter((e) => !cut(e) && t(e) > T0 + 40 * SEC),
    ];
    const flushed = replay(plan, late);
    expect(flushed.engine.dropped()).toEqual(NO_DROPS);
    expect(flushed.incidents).toHaveLength(1);
    // Its first failed check was v1's at 00:00:00, whoever reported it last.
    expect(flushed.incidents[0]?.signals[0]?.since).toBe(iso(T0));
  });
});

describe('backlogs older than the stale horizon', () => {
  const app3 = { id: 'app3-http', vantages: ['v1'], targets: ['a3'] };
  const app1 = { id: 'app1-http', vantages: ['v1', 'v2', 'v3'], targets: ['a1'] };
  const lone = { id: 'lone-http', vantages: ['v1', 'v2', 'v3'], targets: ['l1'] };

  it('one vantage\'s failures from an hour ago, delivered after the clock moved on, open nothing and count as stale', () => {
    const calls: DropReason[] = [];
    const d = new EngineDriver(plan, { onDrop: (r) => calls.push(r) });
    // v1 and v2 report app1 healthy all along; v3's worker was cut off from 00:05 and saw
    // app1 failing from 00:05 to 00:15 (60 checks); its buffer arrives at 01:05.
    const healthy = rounds({ ...app1, vantages: ['v1', 'v2'] }, T0, T0 + 65 * MIN, () => undefined);
    const v3before = rounds({ ...app1, vantages: ['v3'] }, T0, T0 + 5 * MIN, () => undefined);
    const v3backlog = rounds({ ...app1, vantages: ['v3'] }, T0 + 5 * MIN, T0 + 15 * MIN, () => 'timeout');
    d.feedAll(merge(healthy, v3before));
    d.feedAll(v3backlog);
    // Then v3 is back, seeing the service fail now with everyone else for two checks.
    d.feedAll(rounds(app1, T0 + 65 * MIN, T0 + 65 * MIN + 2 * INTERVAL, () => 'timeout'));
    expect(d.incidents()).toEqual([]);
    expect(d.engine.dropped()).toEqual({ ...NO_DROPS, stale: 60 });
    expect(calls.filter((c) => c === 'stale')).toHaveLength(60);
    expect(d.engine.componentStatuses().app1).toBe('operational');
  });

  it('a stale backlog does not add to the failed checks of today: the draft waits for 3 fresh ones', () => {
    const d = new EngineDriver(plan);
    // The clock moves on with another probe; app3's single vantage flushes an hour-old outage
    // (60 failed checks) and then reports two fresh failures: two, not 62, consecutive failures.
    d.feedAll(rounds(lone, T0, T0 + 70 * MIN, () => undefined));
    d.feedAll(rounds(app3, T0, T0 + 10 * MIN, () => 'timeout'));
    const fresh = rounds(app3, T0 + 70 * MIN, T0 + 70 * MIN + 3 * INTERVAL, () => 'timeout');
    d.feedAll(fresh.slice(0, 2));
    d.tick(t(fresh[1]) + 1);
    expect(d.incidents()).toEqual([]);
    expect(d.engine.dropped().stale).toBe(60);
    d.feed(fresh[2] as ProbeResult);
    const [inc] = d.incidents();
    expect(inc?.opened_at).toBe(fresh[2]?.at);
    expect(inc?.signals[0]?.since).toBe(fresh[0]?.at);
  });

  it('a whole failure episode delivered after fresh healthy events opens nothing now', () => {
    const d = new EngineDriver(plan);
    // Every vantage reports app1 healthy up to 01:10; then the buffered results of an outage at
    // 00:10-00:20 (all three vantages, 60 rounds) arrive.
    d.feedAll(rounds(app1, T0 + 60 * MIN, T0 + 70 * MIN, () => undefined));
    const episode = rounds(app1, T0 + 10 * MIN, T0 + 20 * MIN, () => 'status');
    d.feedAll(episode);
    d.feedAll(rounds(app1, T0 + 70 * MIN, T0 + 75 * MIN, () => undefined));
    expect(d.incidents()).toEqual([]);
    expect(d.engine.dropped()).toEqual({ ...NO_DROPS, stale: episode.length });
  });

  it('the horizon is stale_intervals x the probe\'s interval behind the engine\'s clock, boundary included', () => {
    const slow = planOf([comp('app'), comp('db')], [
      probe('fast', 'app', ['v1', 'v2', 'v3', 'v4'], { intervalMs: 10 * SEC }),
      probe('slow', 'db', ['v1', 'v2'], { intervalMs: 60 * SEC }),
    ]);
    const now = T0 + 10 * MIN;
    const check = (staleIntervals: number | undefined, events: ProbeResult[]) => {
      const engine = createEngine({ plan: slow, rules: defaultRules(), ...(staleIntervals ? { staleIntervals } : {}) });
      engine.tick(now);
      for (const e of events) engine.ingest(e);
      engine.flush();
      return engine.dropped().stale;
    };
    // fast: 30 s. Exactly 30 s old is within; 1 ms more is stale.
    expect(check(undefined, [result(now - 30 * SEC, 'fast', 'v1', 'timeout')])).toBe(0);
    expect(check(undefined, [result(now - 30 * SEC - 1, 'fast', 'v2', 'timeout')])).toBe(1);
    // slow: 3 x 60 s.
    expect(check(undefined, [result(now - 179 * SEC, 'slow', 'v1', 'timeout')])).toBe(0);
    expect(check(undefined, [result(now - 181 * SEC, 'slow', 'v2', 'timeout')])).toBe(1);
    // stale_intervals 5: 50 s for fast.
    expect(check(5, [result(now - 45 * SEC, 'fast', 'v3', 'timeout')])).toBe(0);
    expect(check(5, [result(now - 51 * SEC, 'fast', 'v4', 'timeout')])).toBe(1);
  });
});

describe('replay and the daemon agree', () => {
  /**
   * The daemon's way (src/incidents/runtime.ts): every result is `enqueue`d as it arrives, a
   * little after its check, and the engine ticks every second on the wall clock.
   */
  function daemon(events: readonly ProbeResult[], lags: readonly number[] | ((e: ProbeResult) => number)) {
    const engine = createEngine({ plan, rules: defaultRules() });
    // One check's results (every target of the probe at one vantage) travel together.
    const checks = new Map<string, number>();
    const checkOf = (e: ProbeResult): number => {
      const key = `${e.probe}|${e.vantage}|${e.at}`;
      if (!checks.has(key)) checks.set(key, checks.size);
      return checks.get(key) ?? 0;
    };
    const arrivals = events
      .map((e, i) => ({ e, arrive: t(e) + (typeof lags === 'function' ? lags(e) : (lags[checkOf(e) % lags.length] ?? 0)), i }))
      .sort((a, b) => a.arrive - b.arrive || a.i - b.i);
    const docs = new Map<string, Incident>();
    const keep = (changes: ReturnType<typeof engine.tick>) => {
      for (const c of changes) docs.set(c.incident.id, c.incident);
    };
    let next = 0;
    const last = arrivals.at(-1)?.arrive ?? T0;
    for (let now = Math.floor(T0 / SEC) * SEC; now <= last + 5 * SEC; now += SEC) {
      for (let a = arrivals[next]; a && a.arrive <= now; a = arrivals[++next]) engine.enqueue(a.e);
      keep(engine.tick(now));
    }
    keep(engine.flush());
    return { incidents: [...docs.values()], dropped: engine.dropped() };
  }

  it('the same incidents for the same events, results arriving up to 2.5 s late', () => {
    const lagsArb = fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(streamArb(false), lagsArb, (spec, lags) => {
        const events = build(spec);
        const replayed = run(events).incidents;
        const live = daemon(events, lags);
        expect(live.dropped).toEqual(NO_DROPS);
        expect(outcome(live.incidents, { impacts: true })).toEqual(outcome(replayed, { impacts: true }));
        // Opened at the tick that saw the evidence: a little after replay, never before.
        const openedAt = (list: Incident[]) =>
          new Map(list.map((i) => [JSON.stringify(outcome([i], { impacts: true })), Date.parse(i.opened_at)]));
        const byKey = openedAt(replayed);
        for (const [key, at] of openedAt(live.incidents)) {
          const r = byKey.get(key) ?? Number.NaN;
          expect(at - r, key).toBeGreaterThanOrEqual(0);
          expect(at - r, key).toBeLessThanOrEqual(2500 + SEC);
        }
      }),
      { numRuns: 60 },
    );
  }, 120_000);

  it('the same incidents when a late result makes two signals fire in the other order', () => {
    const app1 = { id: 'app1-http', vantages: ['v1', 'v2', 'v3'], targets: ['a1'] };
    const app2 = { id: 'app2-http', vantages: ['v1', 'v2', 'v3'], targets: ['a2x', 'a2y'] };
    const round = (at: number, from: number) => Math.round((at - from) / INTERVAL);
    // app2's first target fails for 14 checks, then twice at 00:03:50, then once at 00:06:31.7,
    // where its intermittency ratio fires (since 00:00:01.7); app1 fails from 00:06:10 and its
    // third failed check (00:06:30) completes its outage 1.7 s before that.
    const events = merge(
      rounds(app1, T0, T0 + 40 * INTERVAL, (at) => (round(at, T0) >= 37 ? 'timeout' : undefined)),
      rounds(app2, T0 + 1700, T0 + 1700 + 40 * INTERVAL, (at, _v, target) => {
        const r = round(at, T0 + 1700);
        return target === 'a2x' && (r <= 13 || r === 23 || r === 24 || r === 39) ? 'timeout' : undefined;
      }),
    );
    const replayed = run(events).incidents;
    expect(replayed.some((i) => i.signals.some((s) => s.rule === 'intermittent'))).toBe(true);
    // Live, two of app1's last checks reach the engine 2.5 s late: app2's ratio fires first.
    const live = daemon(events, (e) => (e.probe === 'app1-http' && e.vantage !== 'v1' && t(e) === T0 + 39 * INTERVAL ? 2500 : 0));
    expect(live.dropped).toEqual(NO_DROPS);
    expect(outcome(live.incidents, { impacts: true })).toEqual(outcome(replayed, { impacts: true }));
  });
});
