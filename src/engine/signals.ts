/**
 * Layer 3, signals: per (rule, probe), whether the signal is active — it fires on its first
 * failing target (unless a rule inhibiting it is active on the probe), is held for
 * `keep_firing_for` once its targets clear, then recovers. Quorum (quorum.ts) and external
 * alerts only mark signals dirty; this module settles them in one fixed order per call, so the
 * outcome never depends on the order targets were evaluated in, and hands fired, updated and
 * recovered signals to the incident layers.
 */
import { recompute } from './assessment.js';
import type { EngineContext } from './context.js';
import { maybeResolve, recover, refresh } from './lifecycle.js';
import { syncActive, unlinkActive } from './incident-index.js';
import { fire } from './maintenance-holds.js';
import { evaluateTarget } from './quorum.js';
import type { Rule } from './rules.js';
import { resetSeriesRule } from './series.js';
import { cmp, type SignalState, signalKey, targetKey } from './state.js';

/**
 * Turns dirty signals into fired / updated / recovered, in a fixed order (determinism): rules
 * that inhibit others first, so an outage completing at the same check as an intermittency
 * ratio is seen as the outage. Resetting inhibited rules can dirty signals again: loop.
 */
export function settleSignals(ctx: EngineContext): void {
  for (let round = 0; round < 4 && ctx.dirty.size > 0; round++) settleOnce(ctx);
}

function settleOnce(ctx: EngineContext): void {
  const { state, dirty } = ctx;
  const { rulesById } = ctx.cfg;
  const rank = (key: string) => (rulesById.get(state.signals[key]?.rule ?? '')?.inhibitedBy.length ? 1 : 0);
  const keys = [...dirty].sort((a, b) => rank(a) - rank(b) || cmp(a, b));
  dirty.clear();
  const fired: SignalState[] = [];
  const updated: SignalState[] = [];
  const recovered: SignalState[] = [];
  // An inhibitor recovering in this round still inhibits: its reset of the inhibited rule follows.
  const ending = new Set<string>();
  for (const key of keys) {
    const sig = state.signals[key];
    if (!sig) continue;
    const rule = rulesById.get(sig.rule);
    if (!rule) continue;
    const failing = Object.keys(sig.failing).length > 0;
    if (failing) {
      sig.clearingSince = Number.NaN;
      ctx.index.clearing.delete(key);
      if (!sig.active) {
        if (inhibited(ctx, rule, sig.probe, ending)) continue;
        sig.active = true;
        syncActive(ctx, sig);
        sig.since = Math.min(...Object.values(sig.failing).map((t) => t.since));
        fired.push(sig);
      } else {
        // A vantage reporting late may have seen the failure first: `since` only moves back.
        for (const t of Object.values(sig.failing)) if (t.since < sig.since) sig.since = t.since;
        updated.push(sig);
      }
    } else if (sig.active) {
      if (rule.keepFiringForMs > 0) {
        if (Number.isNaN(sig.clearingSince)) sig.clearingSince = state.now;
        ctx.index.clearing.add(key);
        if (state.now - sig.clearingSince < rule.keepFiringForMs) continue;
      }
      sig.active = false;
      sig.clearingSince = Number.NaN;
      ctx.index.clearing.delete(key);
      syncActive(ctx, sig);
      recovered.push(sig);
      ending.add(key);
    }
  }
  if (fired.length > 0 || recovered.length > 0) ctx.version++;
  // Fire before recovering: a signal taking over from another keeps the incident open.
  for (const sig of fired) fire(ctx, sig);
  for (const sig of updated) refresh(ctx, sig);
  for (const sig of recovered) recover(ctx, sig);
  // Once per incident: each recompute derives only the components its signals changed.
  const incidents = new Set<string>();
  for (const sig of [...fired, ...updated, ...recovered]) if (sig.incident) incidents.add(sig.incident);
  for (const id of incidents) recompute(ctx, id);
  for (const sig of recovered) {
    const id = sig.incident;
    unlinkActive(ctx, sig);
    sig.incident = null;
    sig.held = false;
    if (id) maybeResolve(ctx, id);
    resetInhibited(ctx, sig);
  }
}

/**
 * When an inhibiting signal (outage) recovers, the episode is over: the rules it inhibits
 * (intermittency) start counting afresh, or their window, full of the outage's failures, would
 * hold the incident open long after the service came back. A flap-detecting rule (ratio with
 * `min_changes`) is the exception: a solid outage cannot meet it, and when it holds the service
 * is flapping, so it takes over from the outage instead (see `inhibited`).
 */
function resetInhibited(ctx: EngineContext, sig: SignalState): void {
  const info = ctx.cfg.probes.get(sig.probe);
  if (!info) return;
  info.rules.forEach((rule, i) => {
    if (!rule.inhibitedBy.includes(sig.rule) || takesOver(rule)) return;
    for (const t of ctx.index.targetsOf.get(sig.probe) ?? []) {
      if (resetSeriesRule(ctx, sig.probe, t, i)) evaluateTarget(ctx, targetKey(sig.probe, t));
    }
  });
}

/**
 * Whether an inhibitor blocks `rule` now. An inhibitor ending in this round still blocks rules it
 * resets; a flap-detecting rule fires in that same round instead, before the ending signal's
 * recovery is applied, so a flapping service keeps one open incident rather than resolving and
 * reopening at every short outage.
 */
function inhibited(ctx: EngineContext, rule: Rule, probe: string, ending: ReadonlySet<string>): boolean {
  return rule.inhibitedBy.some((id) => {
    const key = signalKey(id, probe);
    if (ending.has(key)) return !takesOver(rule);
    return ctx.state.signals[key]?.active === true;
  });
}

/** A flap-detecting rule: kept, not reset, when its inhibitor ends, and fires in its place. */
function takesOver(rule: Rule): boolean {
  return rule.condition === 'ratio' && rule.ratio.minChanges > 0;
}
