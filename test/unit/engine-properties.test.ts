import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import { createEngine } from '../../src/engine/engine.js';
import { Replay } from '../../src/engine/replay.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from '../helpers/plan.js';
import { defaultRules } from '../helpers/engine-events.js';

// Properties of the pure engine over random failure patterns on a small topology: determinism,
// independence from arrival order within a timestamp, snapshot/restore transparency, and at most
// one open incident per fingerprint.

const src = { file: '/dev/null', line: 1 };
const comp = (id: string, dependsOn: string[] = [], region = 'PAR') => ({
  id,
  name: id.toUpperCase(),
  group: 'G',
  region,
  depends_on: dependsOn,
  source: src,
});

const plan: Plan = makePlan(
  [
    { id: 'pa', kind: 'http', component: 'a', targets: ['ta'], vantages: ['v1', 'v2', 'v3'] },
    { id: 'pb', kind: 'http', component: 'b', targets: ['tb1', 'tb2'], vantages: ['v1'] },
    { id: 'pc', kind: 'http', component: 'c', targets: ['tc'], vantages: ['v1'] },
    { id: 'pd', kind: 'http', component: 'd', targets: ['td'], vantages: ['v1'] },
  ],
  {
    components: [comp('dc'), comp('hv1', ['dc']), comp('hv2', ['dc']), comp('a', ['hv1']), comp('b', ['hv1']), comp('c', ['hv2']), comp('d', [], 'RBX')],
    maintenance: [{ id: 'mw', components: ['hv2'], start: '2026-01-01T00:05:00Z', end: '2026-01-01T00:08:00Z' }],
  },
);
const rules = defaultRules();
const T0 = Date.parse('2026-01-01T00:00:00Z');
const series = plan.probes.flatMap((p) =>
  p.vantages.flatMap((v) => p.targets.map((t) => ({ probe: p.id, target: t, vantage: v }))),
);
const row = fc.array(fc.integer({ min: 0, max: 5 }), { minLength: series.length, maxLength: series.length });
const OUTCOMES = [undefined, undefined, undefined, 'timeout', 'status', 'latency'] as const;

/** Rounds every 10s; each series' outcome per round (mostly runs, so conditions do complete). */
const eventsArb = fc
  .array(row, {
    minLength: 5,
    maxLength: 60,
  })
  .chain((rounds) =>
    fc.constant(
      rounds.flatMap((row, k) =>
        series.map((s, i): ProbeResult => {
          // Runs of the same outcome: a series keeps its previous round's outcome half the time.
          const pick = (row[i] ?? 0) % 2 === 0 && k > 0 ? (rounds[k - 1]?.[i] ?? 0) : (row[i] ?? 0);
          const error = OUTCOMES[pick];
          return {
            at: new Date(T0 + k * 10_000).toISOString(),
            ...s,
            ok: error === undefined,
            ...(error ? { error, detail: `${error} on ${s.target}` } : {}),
          };
        }),
      ),
    ),
  );

function run(events: readonly ProbeResult[]): Incident[] {
  const replay = new Replay({ plan, rules });
  for (const e of events) replay.feed(e);
  return replay.finish();
}

/** The same events, each timestamp's events in another order. */
function shuffleWithinTimestamps(events: readonly ProbeResult[], keys: readonly number[]): ProbeResult[] {
  return events
    .map((e, i) => ({ e, k: keys[i % keys.length] ?? 0, i }))
    .sort((x, y) => (x.e.at < y.e.at ? -1 : x.e.at > y.e.at ? 1 : x.k - y.k || x.i - y.i))
    .map((x) => x.e);
}

describe('engine properties', () => {
  it('the generated inputs do exercise the engine (incidents, merges, recoveries)', () => {
    const samples = fc.sample(eventsArb, { numRuns: 60, seed: 42 }).map(run);
    expect(samples.filter((s) => s.length > 0).length).toBeGreaterThan(20);
    expect(samples.some((s) => s.some((i) => i.components.length > 1))).toBe(true);
    expect(samples.some((s) => s.some((i) => i.status === 'resolved'))).toBe(true);
  });

  it('replaying twice gives the same incidents, ids included', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        expect(run(events)).toEqual(run(events));
      }),
      { numRuns: 60 },
    );
  });

  it('reordering events within one timestamp never changes the outcome', () => {
    fc.assert(
      fc.property(eventsArb, fc.array(fc.integer(), { minLength: 1, maxLength: 50 }), (events, keys) => {
        expect(run(shuffleWithinTimestamps(events, keys))).toEqual(run(events));
      }),
      { numRuns: 60 },
    );
  });

  it('splitting a replay in two with snapshot/restore between never changes the outcome', () => {
    fc.assert(
      fc.property(eventsArb, fc.double({ min: 0, max: 1, noNaN: true }), (events, where) => {
        const cut = Math.floor(events.length * where);
        const first = new Replay({ plan, rules });
        for (const e of events.slice(0, cut)) first.feed(e);
        // Through JSON, as the daemon persists it.
        const saved: unknown = JSON.parse(JSON.stringify(first.engine.snapshot()));
        const second = new Replay({ plan, rules });
        second.engine.restore(saved);
        for (const e of events.slice(cut)) second.feed(e);
        const merged = new Map<string, Incident>();
        for (const i of [...first.incidents(), ...second.finish()]) merged.set(i.id, i);
        const key = (i: Incident) => `${i.opened_at}|${i.id}`;
        const combined = [...merged.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
        expect(combined).toEqual(run(events));
      }),
      { numRuns: 60 },
    );
  });

  it('never has two open incidents with one fingerprint, a signal or a component twice in one, and timelines only grow', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        const engine = createEngine({ plan, rules });
        const seen = new Map<string, number>();
        for (const e of events) {
          const changes = [...engine.tick(Date.parse(e.at)), ...engine.ingest(e)];
          for (const c of changes) {
            expect(c.incident.timeline.length).toBeGreaterThanOrEqual(seen.get(c.incident.id) ?? 0);
            expect(c.incident.timeline.slice(c.incident.timeline.length - c.appended.length)).toEqual(c.appended);
            seen.set(c.incident.id, c.incident.timeline.length);
          }
          const all = engine.incidents();
          const open = all.filter((i) => i.status === 'open');
          expect(new Set(open.map((i) => i.fingerprint)).size).toBe(open.length);
          // One entry per (rule, probe) and one per component in every document.
          for (const i of all) {
            expect(new Set(i.signals.map((sg) => `${sg.rule}/${sg.probe}`)).size).toBe(i.signals.length);
            expect(new Set(i.components.map((c) => c.id)).size).toBe(i.components.length);
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('every incident starts with `opened`, and a resolved one ends with no active signal', () => {
    fc.assert(
      fc.property(eventsArb, (events) => {
        for (const inc of run(events)) {
          expect(inc.timeline[0]?.kind).toBe('opened');
          expect(inc.components.length).toBeGreaterThan(0);
          if (inc.status === 'resolved') expect(inc.signals.every((s) => s.until !== null)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });
});
