/**
 * Layer 2, quorum: per (probe, target) and rule, whether enough vantages see the condition for
 * the target to count as failing. One vantage's view is not a fact about the target (its own
 * network may be at fault), so series (series.ts) only vote here; a vantage silent for
 * `staleIntervals` probe intervals counts neither for nor against. A planned vantage that has not
 * reported since the target was first heard of counts as expected (against a majority) until that
 * long has passed: when the fleet starts, the first vantage to report (and re-check) must not
 * make a majority on its own. The verdict lands in the
 * (rule, probe) signal's `failing` targets, and the signal is marked dirty for signals.ts.
 */
import type { EngineContext, ProbeInfo, TargetRec } from './context.js';
import type { Rule } from './rules.js';
import { armTarget } from './series.js';
import { newSignal, sameList, type Series, type SignalState, signalKey, targetKey } from './state.js';

/**
 * Re-evaluates one target (a `targetKey`) for every rule of its probe. Called for every failed
 * check of a failing target, so it allocates only what a verdict needs: in a storm's steady state
 * it runs once per event for every target of the zone.
 */
export function evaluateTarget(ctx: EngineContext, tk: string): void {
  const { state, index } = ctx;
  const rec = index.byTarget.get(tk);
  const list = rec?.series;
  const first = list?.[0];
  if (!rec || !list || !first) return;
  const info = ctx.cfg.probes.get(first.probe);
  if (!info) return;
  const now = state.now;
  let freshCount = 0;
  for (const s of list) if (now - s.lastAt <= info.staleMs) freshCount++;
  if (now - rec.firstAt <= info.staleMs) freshCount += expectedVantages(rec, info);
  let anyFiring = false;
  for (let i = 0; i < info.rules.length; i++) {
    const rule = info.rules[i];
    if (!rule) continue;
    // The firing vantages, and among the fresh ones the latest to report (it tells the error).
    let firingFresh = 0;
    let latest: Series | undefined;
    for (const s of list) {
      if (!s.rs[i]?.firing) continue;
      anyFiring = true;
      if (now - s.lastAt > info.staleMs) continue;
      firingFresh++;
      if (!latest || s.lastAt > latest.lastAt || (s.lastAt === latest.lastAt && s.vantage < latest.vantage)) latest = s;
    }
    // Every vantage silent: no news is not good news; the target keeps its state.
    if (freshCount === 0) continue;
    const met =
      firingFresh > 0 &&
      (rule.quorum === 'majority' ? firingFresh * 2 > freshCount : firingFresh >= rule.quorum.at_least);
    // Signals are created on their first failing target only: memory for failures, not probes.
    const existing = state.signals[info.signalKeys[i] ?? signalKey(rule.id, info.plan.id)];
    if (!met && !existing) continue;
    const sig = existing ?? probeSignal(ctx, rule, info);
    if (met) {
      const vantages: string[] = [];
      let since = Number.POSITIVE_INFINITY;
      for (const s of list) {
        const r = s.rs[i];
        if (!r?.firing || now - s.lastAt > info.staleMs) continue;
        vantages.push(s.vantage);
        if (r.firingSince < since) since = r.firingSince;
      }
      vantages.sort();
      if (!Number.isFinite(since)) since = now;
      const error = latest?.err[i] ?? null;
      const was = sig.failing[first.target];
      // One more failed check of a target already failing the same way changes no verdict: the
      // signal is not settled again (a storm's steady state costs the series and this, nothing
      // more). The latest detail is kept for the sentences written later.
      const same =
        was?.error === error && was.since === since && was.nonStale === freshCount && sameList(was.vantages, vantages);
      if (sig.active && was && same) {
        was.detail = latest?.detail[i] ?? null;
        was.obs = latest?.obs[i] ?? null;
        continue;
      }
      sig.failing[first.target] = {
        vantages,
        nonStale: freshCount,
        since,
        error,
        detail: latest?.detail[i] ?? null,
        obs: latest?.obs[i] ?? null,
      };
    } else {
      if (!(first.target in sig.failing)) continue;
      delete sig.failing[first.target];
    }
    ctx.dirty.add(sig.key);
  }
  if (!anyFiring) index.hot.delete(tk);
  else if (!index.hot.has(tk)) {
    index.hot.add(tk);
    armTarget(ctx, tk);
  }
}

/**
 * When, in the time of the checks (not of their delivery), the signal's condition came to hold:
 * for its earliest failing target, the firing start of the vantage that completed its quorum (the
 * k-th to fire, k the quorum's count among the vantages counted). Equal to the engine's clock for
 * events delivered in order; earlier when a vantage's results arrived late (a worker flushing
 * after a reconnect), which correlation uses to place the signal where it would have gone in order
 * (CONTRACT §5.10). External signals, and anything not found, give the engine's clock.
 */
export function quorumMetAt(ctx: EngineContext, sig: SignalState): number {
  const now = ctx.state.now;
  const info = ctx.cfg.probes.get(sig.probe);
  const ruleIndex = info ? info.rules.findIndex((r) => r.id === sig.rule) : -1;
  const rule = info?.rules[ruleIndex];
  if (!info || !rule || sig.external) return now;
  let met = now;
  for (const [target, t] of Object.entries(sig.failing)) {
    const rec = ctx.index.byTarget.get(targetKey(sig.probe, target));
    if (!rec) continue;
    const starts: number[] = [];
    for (const v of t.vantages) {
      const r = rec.byVantage.get(v)?.rs[ruleIndex];
      if (r?.firing && Number.isFinite(r.firingSince)) starts.push(r.firingSince);
    }
    starts.sort((a, b) => a - b);
    const k = rule.quorum === 'majority' ? Math.floor(t.nonStale / 2) + 1 : rule.quorum.at_least;
    const completed = starts[Math.min(k, starts.length) - 1];
    if (completed !== undefined && completed < met) met = completed;
  }
  return met;
}

/** Planned vantages of the probe with no series at this target yet: not heard from at all. */
function expectedVantages(rec: TargetRec, info: ProbeInfo): number {
  let expected = 0;
  for (const v of info.plan.vantages) if (!rec.byVantage.has(v)) expected++;
  return expected;
}

function probeSignal(ctx: EngineContext, rule: Rule, info: ProbeInfo): SignalState {
  const key = signalKey(rule.id, info.plan.id);
  let sig = ctx.state.signals[key];
  if (!sig) {
    sig = newSignal(key, rule.id, info.plan.id, info.plan.component);
    ctx.state.signals[key] = sig;
  }
  return sig;
}
