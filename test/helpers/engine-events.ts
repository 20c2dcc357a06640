import type { Plan, ProbePlan } from '../../src/config/plan.js';
import { createEngine, type Engine, type EngineOptions } from '../../src/engine/engine.js';
import { defaultPackRules } from '../../src/config/pack.js';
import { rulesForPlan } from '../../src/engine/pack.js';
import { Replay } from '../../src/engine/replay.js';
import type { IncidentChange } from '../../src/engine/types.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from './plan.js';

// Small builders shared by the engine tests that feed events by hand (delivery, dismissal,
// topology, storm): components, probes, events, and a driver that keeps every incident's
// latest document as the daemon's store would.

export const T0 = Date.parse('2026-01-01T00:00:00Z');
export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;

export const iso = (ms: number): string => new Date(ms).toISOString();

const src = { file: '/dev/null', line: 1 };

export function comp(id: string, dependsOn: string[] = [], region = 'PAR'): Plan['components'][number] {
  return { id, name: id.toUpperCase(), group: 'G', region, depends_on: dependsOn, source: src };
}

export function probe(
  id: string,
  component: string,
  vantages: string[],
  opts: { targets?: string[]; intervalMs?: number; kind?: string } = {},
): Partial<ProbePlan> {
  return {
    id,
    kind: opts.kind ?? 'http',
    component,
    vantages,
    targets: opts.targets ?? [`${id}-t`],
    intervalMs: opts.intervalMs ?? 10 * SEC,
  };
}

export function planOf(components: Plan['components'], probes: Partial<ProbePlan>[]): Plan {
  return makePlan(probes, { components });
}

export const defaultRules = (): ReturnType<typeof rulesForPlan> => rulesForPlan({ rules: defaultPackRules() });

/** One probe result; `error` undefined means a healthy check. */
export function result(atMs: number, probeId: string, vantage: string, error?: string, target?: string): ProbeResult {
  const e: ProbeResult = { at: iso(atMs), probe: probeId, vantage, ok: error === undefined };
  if (target !== undefined) e.target = target;
  if (error !== undefined) Object.assign(e, { error, detail: `${error} (${probeId})` });
  return e;
}

/** Replays `events` through `Replay` and returns the incidents and the engine. */
export function replay(
  plan: Plan,
  events: readonly ProbeResult[],
  extra: Omit<EngineOptions, 'plan' | 'rules'> = {},
): { incidents: Incident[]; engine: Engine } {
  const r = new Replay({ plan, rules: defaultRules(), ...extra });
  for (const e of events) r.feed(e);
  return { incidents: r.finish(), engine: r.engine };
}

/**
 * Drives an engine like Replay does (tick to each event's time, then ingest), keeping every
 * incident's latest document and every change, with operator actions in between.
 */
export class EngineDriver {
  readonly docs = new Map<string, Incident>();
  readonly changes: IncidentChange[] = [];
  readonly engine: Engine;

  constructor(plan: Plan, extra: Omit<EngineOptions, 'plan' | 'rules'> = {}) {
    this.engine = createEngine({ plan, rules: defaultRules(), ...extra });
  }

  feed(e: ProbeResult): void {
    this.keep(this.engine.tick(Date.parse(e.at)));
    this.keep(this.engine.ingest(e));
  }

  feedAll(events: readonly ProbeResult[]): void {
    for (const e of events) this.feed(e);
  }

  tick(ms: number): void {
    this.keep(this.engine.tick(ms));
  }

  keep(changes: readonly IncidentChange[]): void {
    for (const c of changes) {
      this.changes.push(c);
      this.docs.set(c.incident.id, c.incident);
    }
  }

  /** Every incident seen so far (after applying what is buffered), oldest first. */
  incidents(): Incident[] {
    this.keep(this.engine.flush());
    const key = (i: Incident): string => `${i.opened_at}|${i.id}`;
    return [...this.docs.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  }

  /** The incidents opened as new drafts so far, in order. */
  openedIds(): string[] {
    return this.changes.filter((c) => c.opened).map((c) => c.incident.id);
  }
}

/**
 * Rounds of checks: every `intervalMs` from `fromMs` (inclusive) to `toMs` (exclusive), one
 * result per vantage (and target) with the outcome `error(roundStartMs)`.
 */
export function rounds(
  p: { id: string; vantages: readonly string[]; targets?: readonly string[] },
  fromMs: number,
  toMs: number,
  error: (atMs: number, vantage: string, target: string | undefined) => string | undefined,
  intervalMs = 10 * SEC,
): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let t = fromMs; t < toMs; t += intervalMs) {
    for (const v of p.vantages) {
      for (const target of p.targets ?? [undefined]) out.push(result(t, p.id, v, error(t, v, target), target));
    }
  }
  return out;
}

/** Events of several sources merged in time order (stable: equal times keep their source order). */
export function merge(...streams: ProbeResult[][]): ProbeResult[] {
  return streams
    .flat()
    .map((e, i) => ({ e, i, t: Date.parse(e.at) }))
    .sort((a, b) => a.t - b.t || a.i - b.i)
    .map((x) => x.e);
}
