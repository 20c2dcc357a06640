/**
 * Layer 1, series: per (probe, target, vantage) and rule, whether the rule's condition holds at
 * that vantage — consecutive bad/good counts and, for ratio rules, a bounded ring of recent
 * outcomes. This is the only layer that sees every event, so it is the hot path: it keeps
 * memory proportional to series, not events, and reports which targets need re-evaluation
 * instead of evaluating them itself (quorum.ts does, once per batch).
 */
import type { ProbeResult } from '../events/probe-result.js';
import type { DropReason, EngineContext, ProbeInfo, TargetRec } from './context.js';
import { outcomeFor, type Rule } from './rules.js';
import { cmp, type Series, type SeriesRule, seriesKey, targetKey } from './state.js';

/** Ratio rings never hold more outcomes than this per series and rule. */
const RING_CAP = 512;

/** The target's record and its series at the vantage, made on first sight. */
function seriesFor(
  ctx: EngineContext,
  info: ProbeInfo,
  target: string,
  vantage: string,
): { rec: TargetRec; s: Series } {
  const rec = targetRec(ctx, info.plan.id, target);
  const found = rec.byVantage.get(vantage);
  if (found) return { rec, s: found };
  const key = seriesKey(info.plan.id, target, vantage);
  const n = info.rules.length;
  const s: Series = {
    probe: info.plan.id,
    target,
    vantage,
    lastAt: Number.NEGATIVE_INFINITY,
    err: new Array<string | null>(n).fill(null),
    detail: new Array<string | null>(n).fill(null),
    obs: new Array<Record<string, unknown> | null>(n).fill(null),
    rs: info.rules.map(() => ({
      bad: 0,
      good: 0,
      badSince: Number.NaN,
      firing: false,
      firingSince: Number.NaN,
      rt: [],
      rb: [],
    })),
  };
  ctx.state.series[key] = s;
  indexSeries(ctx, s);
  ctx.index.hot.add(rec.key);
  // A new vantage or target can change a component's status ("other probes still answer").
  ctx.version++;
  return { rec, s };
}

function targetRec(ctx: EngineContext, probe: string, target: string): TargetRec {
  let byProbe = ctx.index.targets.get(probe);
  if (!byProbe) {
    byProbe = new Map();
    ctx.index.targets.set(probe, byProbe);
  }
  let rec = byProbe.get(target);
  if (!rec) {
    const key = targetKey(probe, target);
    rec = { key, series: [], byVantage: new Map(), firstAt: Number.POSITIVE_INFINITY };
    byProbe.set(target, rec);
    ctx.index.byTarget.set(key, rec);
  }
  return rec;
}

function indexSeries(ctx: EngineContext, s: Series): void {
  const { targetsOf } = ctx.index;
  const rec = targetRec(ctx, s.probe, s.target);
  rec.series.push(s);
  rec.byVantage.set(s.vantage, s);
  // A restored series: the target was heard of at least that long ago (a new one is heard of at
  // its first event, in applyEvent).
  if (Number.isFinite(s.lastAt) && s.lastAt < rec.firstAt) rec.firstAt = s.lastAt;
  let ts = targetsOf.get(s.probe);
  if (!ts) {
    ts = new Set(ctx.cfg.probes.get(s.probe)?.plan.targets ?? []);
    targetsOf.set(s.probe, ts);
  }
  ts.add(s.target);
}

/**
 * Rebuilds the index from `state.series` (after a restore). Series of probes (or rule sets) that
 * changed since the snapshot start afresh: their rule indexes no longer line up.
 */
export function rebuildSeriesIndex(ctx: EngineContext): void {
  const { state } = ctx;
  for (const key of Object.keys(state.series).sort(cmp)) {
    const s = state.series[key];
    const info = s ? ctx.cfg.probes.get(s.probe) : undefined;
    if (!s || !info || s.rs.length !== info.rules.length) {
      delete state.series[key];
      continue;
    }
    indexSeries(ctx, s);
    if (s.rs.some((r) => r.firing)) ctx.index.hot.add(targetKey(s.probe, s.target));
  }
  for (const tk of ctx.index.hot) armTarget(ctx, tk);
}

/** Counts an event that changes nothing (CONTRACT §5.10). */
function drop(ctx: EngineContext, reason: DropReason): void {
  ctx.dropped.set(reason, (ctx.dropped.get(reason) ?? 0) + 1);
  ctx.onDrop?.(reason);
}

/**
 * Applies one event at its own time `at`; adds its target to `touched` when its quorum may have
 * changed. Delivery is at least once and out of order (CONTRACT §5.10), so each series moves
 * forward only: an event at its latest time is a duplicate, an older one would rewrite history
 * (out of order), and one older than the stale horizon behind the engine's clock is a backlog
 * that must not open an incident in the present. All are dropped and counted.
 */
export function applyEvent(ctx: EngineContext, e: ProbeResult, at: number, touched: Set<string>): void {
  const info = ctx.cfg.probes.get(e.probe);
  if (!info) return drop(ctx, 'unknown_probe');
  if (info.rules.length === 0) return;
  if (at < ctx.state.now - info.staleMs) return drop(ctx, 'stale');
  const target = e.target ?? info.plan.targets[0] ?? e.probe;
  const { rec, s } = seriesFor(ctx, info, target, e.vantage);
  if (at === s.lastAt) return drop(ctx, 'duplicate');
  if (at < s.lastAt) return drop(ctx, 'out_of_order');
  const wasFresh = at - s.lastAt <= info.staleMs;
  s.lastAt = at;
  if (at < rec.firstAt) rec.firstAt = at;
  let changed = !wasFresh;
  const rules = info.rules;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    const r = s.rs[i];
    if (!r || !rule) continue;
    const outcome = outcomeFor(rule, e.ok, e.error);
    if (outcome === 'neutral') continue;
    const bad = outcome === 'bad';
    if (bad) {
      if (r.bad === 0) r.badSince = at;
      r.bad++;
      r.good = 0;
      s.err[i] = e.error ?? null;
      s.detail[i] = e.detail ?? null;
      s.obs[i] = e.observations ?? null;
    } else {
      r.good++;
      r.bad = 0;
      r.badSince = Number.NaN;
    }
    if (rule.condition === 'ratio') pushRing(r, at, bad, rule, info.plan.intervalMs);
    const was = r.firing;
    updateFiring(r, rule, at);
    if (r.firing !== was || (r.firing && bad)) changed = true;
  }
  const tk = rec.key;
  if (!ctx.index.armed.has(s) && ctx.index.hot.has(tk)) armStaleness(ctx, s, tk);
  if (changed) touched.add(tk);
}

/**
 * Schedules the series' staleness check (one pending entry per series). Only series of hot
 * targets (some vantage firing) are watched: elsewhere a silent vantage changes no verdict.
 */
function armStaleness(ctx: EngineContext, s: Series, tk: string): void {
  const staleMs = ctx.cfg.probes.get(s.probe)?.staleMs ?? 0;
  ctx.index.armed.add(s);
  const key = seriesKey(s.probe, s.target, s.vantage);
  ctx.index.staleHeap.push({ at: s.lastAt + staleMs, key, series: s, target: tk });
}

/** Watches every series of a target that just turned hot (quorum.ts). */
export function armTarget(ctx: EngineContext, tk: string): void {
  for (const s of ctx.index.byTarget.get(tk)?.series ?? []) if (!ctx.index.armed.has(s)) armStaleness(ctx, s, tk);
}

/**
 * Targets with a firing series that went stale since the last look, in key order: time alone
 * changes their quorum (a silent vantage no longer counts). Entries of series heard from since
 * are re-armed at their new deadline; those of targets no longer hot are let go.
 */
export function dueForStaleness(ctx: EngineContext): string[] {
  const { staleHeap, armed, hot } = ctx.index;
  const now = ctx.state.now;
  const due = new Set<string>();
  for (let top = staleHeap.peek(); top && top.at < now; top = staleHeap.peek()) {
    staleHeap.pop();
    const s = top.series;
    if (!hot.has(top.target) || ctx.state.series[top.key] !== s) {
      armed.delete(s);
      continue;
    }
    const deadline = s.lastAt + (ctx.cfg.probes.get(s.probe)?.staleMs ?? 0);
    if (deadline >= now) {
      staleHeap.push({ ...top, at: deadline });
      continue;
    }
    // Stale now: armed again by its next event.
    armed.delete(s);
    due.add(top.target);
  }
  return [...due].sort(cmp);
}

function pushRing(r: SeriesRule, at: number, bad: boolean, rule: Rule, intervalMs: number): void {
  r.rt.push(at);
  r.rb.push(bad ? 1 : 0);
  // Bounded even when a vantage reports far more often than planned: twice the window's checks, plus slack.
  const cap = Math.min(RING_CAP, Math.ceil(rule.ratio.windowMs / Math.max(1, intervalMs)) * 2 + 4);
  let drop = 0;
  while (drop < r.rt.length && ((r.rt[drop] ?? 0) <= at - rule.ratio.windowMs || r.rt.length - drop > cap)) drop++;
  if (drop > 0) {
    r.rt.splice(0, drop);
    r.rb.splice(0, drop);
  }
}

function updateFiring(r: SeriesRule, rule: Rule, at: number): void {
  if (rule.condition === 'ratio') {
    let bad = 0;
    let changes = 0;
    let firstBad = Number.NaN;
    for (let k = 0; k < r.rt.length; k++) {
      if (r.rb[k] === 1) {
        bad++;
        if (Number.isNaN(firstBad)) firstBad = r.rt[k] ?? at;
      }
      if (k > 0 && r.rb[k] !== r.rb[k - 1]) changes++;
    }
    const checks = r.rt.length;
    const starts = checks >= rule.ratio.minChecks && bad / checks >= rule.ratio.min && changes >= rule.ratio.minChanges;
    // Hysteresis: once firing, it holds down to the lower `recover_below` share.
    const holds = checks > 0 && bad / checks >= rule.ratio.recoverBelow;
    if (!r.firing && starts) {
      r.firing = true;
      r.firingSince = firstBad;
    } else if (r.firing && !holds && r.good >= rule.recoverAfter) {
      r.firing = false;
      r.firingSince = Number.NaN;
    }
    return;
  }
  if (!r.firing && r.bad >= rule.consecutive) {
    r.firing = true;
    r.firingSince = r.badSince;
  } else if (r.firing && r.good >= rule.recoverAfter) {
    r.firing = false;
    r.firingSince = Number.NaN;
  }
}

/**
 * Forgets a rule's progress at one series (its episode is over), keeping the healthy count.
 * Returns whether the target had any series, i.e. whether its quorum needs re-evaluation.
 */
export function resetSeriesRule(ctx: EngineContext, probe: string, target: string, ruleIndex: number): boolean {
  const list = ctx.index.byTarget.get(targetKey(probe, target))?.series ?? [];
  for (const s of list) {
    const r = s.rs[ruleIndex];
    if (!r) continue;
    r.bad = 0;
    r.badSince = Number.NaN;
    r.firing = false;
    r.firingSince = Number.NaN;
    r.rt = [];
    r.rb = [];
  }
  return list.length > 0;
}

/** A rule's recent ratio-ring outcomes over the given targets of a probe: failed and total checks. */
export function ringCounts(
  ctx: EngineContext,
  probe: string,
  targets: readonly string[],
  ruleIndex: number,
): { bad: number; checks: number } {
  let bad = 0;
  let checks = 0;
  for (const t of targets) {
    for (const s of ctx.index.byTarget.get(targetKey(probe, t))?.series ?? []) {
      const r = s.rs[ruleIndex];
      if (!r) continue;
      bad += r.rb.reduce((a, b) => a + b, 0);
      checks += r.rb.length;
    }
  }
  return { bad, checks };
}
