/**
 * Per-incident lookups derived from the engine's plain state, so that the work of one event
 * never depends on how big the incident it touches is (CONTRACT §5.11): which components and
 * signals it holds, where each sits in the document, which of its signals are active, its
 * components' impacts counted per impact and region, and the common dependencies of its
 * affected components (folded in one component at a time instead of recomputed over all).
 *
 * Like the series index, none of this is snapshotted: it is rebuilt from the state on first use
 * after a restore or an adoption, and kept up to date by the few functions that change what it
 * mirrors (lifecycle.ts, assessment.ts, signals.ts).
 */
import type { EngineContext, IncIndex } from './context.js';
import { type IncState, type SignalState, signalKey } from './state.js';
import { type Impact, IMPACT_RANK } from './types.js';

/** The incident's index, built from the state when missing. */
export function incIndex(ctx: EngineContext, inc: IncState): IncIndex {
  let x = ctx.incIdx.get(inc.doc.id);
  if (!x) {
    x = buildIndex(ctx, inc);
    ctx.incIdx.set(inc.doc.id, x);
  }
  return x;
}

function buildIndex(ctx: EngineContext, inc: IncState): IncIndex {
  const { state } = ctx;
  const x: IncIndex = {
    affected: new Set(),
    signalsOf: new Map(),
    signalKeys: new Set(),
    sigPos: new Map(inc.doc.signals.map((s, i) => [signalKey(s.rule, s.probe), i])),
    compPos: new Map(inc.doc.components.map((c, i) => [c.id, i])),
    active: new Set(),
    impact: new Map(),
    impactCounts: [0, 0, 0, 0],
    regionCounts: new Map(),
    common: new Map(),
    fixedSeverities: new Map(),
    autoSeverities: 0,
    dirty: new Set(),
    rebuild: false,
    firstActivity: Number.POSITIVE_INFINITY,
    removed: new Set(inc.doc.overrides?.removed ?? []),
    pinned: new Map(Object.entries(inc.doc.overrides?.impacts ?? {})),
  };
  for (const sg of inc.doc.signals) x.firstActivity = Math.min(x.firstActivity, Date.parse(sg.since));
  const docImpacts = new Map(inc.doc.components.map((c) => [c.id, c.impact]));
  for (const c of inc.affected) {
    addAffected(ctx, x, c);
    const impact = docImpacts.get(c);
    if (impact) setAffectedImpact(x, c, impact);
  }
  for (const c of inc.doc.components) countRegion(ctx, x, c.id, 1);
  for (const key of inc.signals) {
    const sig = state.signals[key];
    addSignalKey(ctx, x, key, sig);
    if (sig?.active && sig.incident === inc.doc.id) x.active.add(key);
  }
  return x;
}

/** A component joins the affected set: the common dependencies narrow to those it shares. */
export function addAffected(ctx: EngineContext, x: IncIndex, component: string): void {
  if (x.affected.has(component)) return;
  const anc = ctx.cfg.topology.ancestors(component);
  if (x.affected.size === 0) {
    for (const [c, d] of anc) x.common.set(c, d);
  } else {
    for (const [c, worst] of x.common) {
      const d = anc.get(c);
      if (d === undefined) x.common.delete(c);
      else if (d > worst) x.common.set(c, d);
    }
  }
  x.affected.add(component);
}

/**
 * The nearest common dependency of the affected components plus `extra` (when given): the
 * common ancestor (a component counts as its own) with the smallest greatest distance to any of
 * them, ties by id, so it is deterministic; undefined when they share none (such components are
 * never merged). Found in the folded map, without walking the components again.
 */
export function nearestCommonWith(
  ctx: EngineContext,
  x: IncIndex,
  extra?: string,
): { id: string; distance: number } | undefined {
  const anc = extra === undefined ? undefined : ctx.cfg.topology.ancestors(extra);
  if (x.affected.size === 0) return extra === undefined ? undefined : { id: extra, distance: 0 };
  let best: { id: string; distance: number } | undefined;
  for (const [c, w] of x.common) {
    let worst = w;
    if (anc) {
      const d = anc.get(c);
      if (d === undefined) continue;
      if (d > worst) worst = d;
    }
    if (!best || worst < best.distance || (worst === best.distance && c < best.id)) best = { id: c, distance: worst };
  }
  return best;
}

export function addSignalKey(ctx: EngineContext, x: IncIndex, key: string, sig: SignalState | undefined): void {
  if (x.signalKeys.has(key)) return;
  x.signalKeys.add(key);
  if (sig) {
    const list = x.signalsOf.get(sig.component);
    if (list) list.push(key);
    else x.signalsOf.set(sig.component, [key]);
  }
  const severity = ctx.cfg.rulesById.get(sig?.rule ?? '')?.spec.severity;
  if (severity !== undefined && severity !== 'auto') x.fixedSeverities.set(severity, (x.fixedSeverities.get(severity) ?? 0) + 1);
  else x.autoSeverities++;
}

/** Records an affected component's impact; returns the previous one. */
export function setAffectedImpact(x: IncIndex, component: string, impact: Impact): Impact | undefined {
  const was = x.impact.get(component);
  if (was === impact) return was;
  if (was) x.impactCounts[IMPACT_RANK[was]] = (x.impactCounts[IMPACT_RANK[was]] ?? 1) - 1;
  x.impactCounts[IMPACT_RANK[impact]] = (x.impactCounts[IMPACT_RANK[impact]] ?? 0) + 1;
  x.impact.set(component, impact);
  return was;
}

export function countRegion(ctx: EngineContext, x: IncIndex, component: string, delta: number): boolean {
  const region = ctx.cfg.topology.get(component).region;
  if (region === undefined) return false;
  const n = (x.regionCounts.get(region) ?? 0) + delta;
  if (n <= 0) x.regionCounts.delete(region);
  else x.regionCounts.set(region, n);
  // Whether the set of regions changed.
  return (delta > 0 && n === delta) || n <= 0;
}

/** The worst impact among the affected components. */
export function worstImpact(x: IncIndex): Impact | undefined {
  if ((x.impactCounts[3] ?? 0) > 0) return 'major_outage';
  if ((x.impactCounts[2] ?? 0) > 0) return 'partial_outage';
  if ((x.impactCounts[1] ?? 0) > 0) return 'degraded_performance';
  return undefined;
}

/**
 * Keeps `active` in step with a signal's `active` flag and incident: every change of either
 * goes through here (or through linking), so "is anything still holding the incident open"
 * is a set size, not a scan of its signals.
 */
export function syncActive(ctx: EngineContext, sig: SignalState): void {
  const id = sig.incident;
  const inc = id ? ctx.state.incidents[id] : undefined;
  if (!inc) return;
  const x = incIndex(ctx, inc);
  if (sig.active) x.active.add(sig.key);
  else x.active.delete(sig.key);
}

/** The signal leaves its incident (recovered, or moved to another one). */
export function unlinkActive(ctx: EngineContext, sig: SignalState): void {
  const id = sig.incident;
  const inc = id ? ctx.state.incidents[id] : undefined;
  if (inc) ctx.incIdx.get(inc.doc.id)?.active.delete(sig.key);
}
