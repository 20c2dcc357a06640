/**
 * External signals: failures Tocsin did not probe itself (Alertmanager alerts), fed to the engine
 * with `engine.external()`. They skip the series and quorum layers — the sender already decided
 * that something fails — and enter at the signal layer, so correlation, maintenance, recovery and
 * resolution treat them exactly like probe signals (docs/alertmanager.md).
 *
 * Kept apart from the engine's layers: the engine only stores the per-alert state this module
 * maintains (state.ts) and asks it for the signal's failing targets and impact.
 */
import { compileRule, type Rule, RuleSpec } from './rules.js';
import type { ExternalAlertState, TargetEval } from './state.js';
import { type ExternalSignal, type Impact, IMPACT_RANK } from './types.js';

/** The engine's key of an external signal: one per (rule, probe, component). */
export function externalKey(input: Pick<ExternalSignal, 'rule' | 'probe' | 'component'>): string {
  return `ext\u0000${input.rule}\u0000${input.probe}\u0000${input.component}`;
}

/**
 * The rule external signals are evaluated under (no conditions: the sender decided). Its
 * timeline texts name the alert (`detail` is the alert's summary), for operators; its title,
 * public once an operator confirms, does not.
 */
export function externalRule(id: string): Rule {
  return compileRule(
    RuleSpec.parse({
      id,
      description: 'signals from an external alert source (Alertmanager)',
      condition: { consecutive: 1 },
      recover_after: 1,
      // The title reaches the public page once confirmed: the alert's own text stays out of it.
      title: '{group}{region_tag}: {component_name} — alerts firing',
      text: '{component_name}: {probe} firing since {since} — {detail}',
      recovered_text: '{component_name}: {probe} resolved',
    }),
  );
}

/**
 * Adds (active) or removes (not active) one alert; returns whether anything changed. An alert
 * already firing keeps its `since`: Alertmanager re-sends firing alerts on every group interval.
 * `since`: when the alert started as the engine counts it (the caller clamps a future one).
 */
export function updateExternalAlerts(
  alerts: Record<string, ExternalAlertState>,
  input: ExternalSignal,
  since = input.since,
): boolean {
  const existing = alerts[input.key];
  if (!input.active) {
    if (!existing) return false;
    delete alerts[input.key];
    return true;
  }
  const detail = input.detail ?? null;
  const start = existing ? Math.min(existing.since, since) : since;
  // Compared field by field: a re-sent webhook of 10,000 alerts changes none of them.
  if (
    existing &&
    existing.target === input.target &&
    existing.impact === input.impact &&
    existing.since === start &&
    existing.error === input.error &&
    existing.detail === detail
  ) {
    return false;
  }
  alerts[input.key] = { target: input.target, impact: input.impact, since: start, error: input.error, detail };
  return true;
}

/** The signal's failing targets, as the engine's signal layer keeps them for probes. */
export function externalFailing(alerts: Record<string, ExternalAlertState>): Record<string, TargetEval> {
  const out: Record<string, TargetEval> = {};
  const keys = Object.keys(alerts).sort();
  for (const key of keys) {
    const a = alerts[key];
    if (!a) continue;
    const t = out[a.target];
    if (!t) {
      out[a.target] = {
        vantages: [],
        nonStale: 0,
        since: a.since,
        error: a.error,
        detail: a.detail,
        obs: null,
        impact: a.impact,
      };
      continue;
    }
    // Several alerts on one target (warning and critical of the same instance): the worst speaks.
    t.since = Math.min(t.since, a.since);
    if (IMPACT_RANK[a.impact] > IMPACT_RANK[t.impact ?? 'degraded_performance']) {
      t.impact = a.impact;
      t.detail = a.detail;
      t.error = a.error;
    }
  }
  return out;
}

/** The worst impact of an external signal's failing targets (undefined: not an external signal). */
export function externalImpact(failing: Record<string, { impact?: Impact }>): Impact | undefined {
  let best: Impact | undefined;
  for (const t of Object.values(failing)) {
    if (t.impact && (!best || IMPACT_RANK[t.impact] > IMPACT_RANK[best])) best = t.impact;
  }
  return best;
}
