/**
 * Layer 2, quorum: per (probe, target) and rule, whether enough vantages see the condition for
 * the target to count as failing. One vantage's view is not a fact about the target (its own
 * network may be at fault), so series (series.ts) only vote here; a vantage silent for
 * `staleIntervals` probe intervals counts neither for nor against. The verdict lands in the
 * (rule, probe) signal's `failing` targets, and the signal is marked dirty for signals.ts.
 */
import type { EngineContext, ProbeInfo } from './context.js';
import type { Rule } from './rules.js';
import { armTarget } from './series.js';
import { cmp, newSignal, sameList, type SignalState, signalKey, type TargetEval } from './state.js';

/** Re-evaluates one target (a `targetKey`) for every rule of its probe. */
export function evaluateTarget(ctx: EngineContext, tk: string): void {
  const { state, index } = ctx;
  const list = index.byTarget.get(tk);
  const first = list?.[0];
  if (!list || !first) return;
  const info = ctx.cfg.probes.get(first.probe);
  if (!info) return;
  let anyFiring = false;
  const fresh = list.filter((s) => state.now - s.lastAt <= info.staleMs);
  info.rules.forEach((rule, i) => {
    if (list.some((s) => s.rs[i]?.firing)) anyFiring = true;
    // Every vantage silent: no news is not good news; the target keeps its state.
    if (fresh.length === 0) return;
    const firing = fresh.filter((s) => s.rs[i]?.firing);
    const met =
      firing.length > 0 &&
      (rule.quorum === 'majority' ? firing.length * 2 > fresh.length : firing.length >= rule.quorum.at_least);
    // Signals are created on their first failing target only: memory for failures, not probes.
    const existing = state.signals[signalKey(rule.id, info.plan.id)];
    if (!met && !existing) return;
    const sig = existing ?? probeSignal(ctx, rule, info);
    if (met) {
      const latest = [...firing].sort((a, b) => b.lastAt - a.lastAt || cmp(a.vantage, b.vantage))[0];
      const next: TargetEval = {
        vantages: firing.map((s) => s.vantage).sort(),
        nonStale: fresh.length,
        since: Math.min(...firing.map((s) => s.rs[i]?.firingSince ?? state.now)),
        error: latest?.err[i] ?? null,
        detail: latest?.detail[i] ?? null,
        obs: latest?.obs[i] ?? null,
      };
      const was = sig.failing[first.target];
      sig.failing[first.target] = next;
      // One more failed check of a target already failing the same way changes no verdict: the
      // signal is not settled again (a storm's steady state costs the series and this, nothing
      // more). The latest detail is kept for the sentences written later.
      if (sig.active && was && sameVerdict(was, next)) return;
    } else {
      if (!(first.target in sig.failing)) return;
      delete sig.failing[first.target];
    }
    ctx.dirty.add(sig.key);
  });
  if (!anyFiring) index.hot.delete(tk);
  else if (!index.hot.has(tk)) {
    index.hot.add(tk);
    armTarget(ctx, tk);
  }
}

function sameVerdict(a: TargetEval, b: TargetEval): boolean {
  return a.error === b.error && a.since === b.since && a.nonStale === b.nonStale && sameList(a.vantages, b.vantages);
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
