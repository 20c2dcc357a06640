import { createHash } from 'node:crypto';
import type { ExternalSignal, Impact } from '../engine/types.js';
import { IMPACTS } from '../events/incident.js';
import type { AlertmanagerAlert } from './payload.js';

/** How alerts read as signals (docs/alertmanager.md); the config's `alertmanager:` block. */
export interface AlertMapping {
  /** The label naming the component. */
  readonly componentLabel: string;
  /** The rule signals are reported under. */
  readonly rule: string;
  readonly components: ReadonlySet<string>;
}

export interface IgnoredAlert {
  readonly fingerprint: string;
  readonly reason: string;
}

/** `severity` label values and the impact they give; anything else is a partial outage. */
export const SEVERITY_IMPACT: Readonly<Record<string, Impact>> = {
  critical: 'major_outage',
  page: 'major_outage',
  error: 'partial_outage',
  warning: 'partial_outage',
  info: 'degraded_performance',
};
export const DEFAULT_IMPACT: Impact = 'partial_outage';

/** An `impact` label naming a contract impact wins; else the `severity` label's mapping. */
export function impactOf(labels: Readonly<Record<string, string>>): Impact {
  const explicit = labels.impact;
  if (explicit && (IMPACTS as readonly string[]).includes(explicit)) return explicit as Impact;
  return SEVERITY_IMPACT[labels.severity?.toLowerCase() ?? ''] ?? DEFAULT_IMPACT;
}

/** Alertmanager's fingerprint, or a stable hash of the labels when the sender gave none. */
export function fingerprintOf(alert: AlertmanagerAlert): string {
  if (alert.fingerprint) return alert.fingerprint;
  const labels = Object.entries(alert.labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(labels)).digest('hex').slice(0, 16);
}

/**
 * One alert as an external signal, or why it is ignored. The signal is named
 * `alertmanager:<alertname>@<component>` (unique per component, as a probe is), its target is the
 * alert's `instance` label or else its fingerprint, its error `alert`, its detail the alert's
 * summary; `since` is startsAt (now when it is unset or in the future).
 */
export function alertToSignal(
  alert: AlertmanagerAlert,
  mapping: AlertMapping,
  nowMs: number,
): { ok: true; signal: ExternalSignal } | { ok: false; ignored: IgnoredAlert } {
  const fingerprint = fingerprintOf(alert);
  const component = alert.labels[mapping.componentLabel];
  if (!component) {
    return { ok: false, ignored: { fingerprint, reason: `no "${mapping.componentLabel}" label` } };
  }
  if (!mapping.components.has(component)) {
    return { ok: false, ignored: { fingerprint, reason: `unknown component "${component}"` } };
  }
  const alertname = alert.labels.alertname || 'alert';
  const summary = alert.annotations.summary || alert.annotations.description;
  const started = Date.parse(alert.startsAt);
  const since = started > 0 && started <= nowMs ? started : nowMs;
  return {
    ok: true,
    signal: {
      key: fingerprint,
      component,
      rule: mapping.rule,
      probe: `alertmanager:${alertname}@${component}`,
      target: alert.labels.instance || fingerprint,
      error: 'alert',
      detail: summary ? `${alertname}: ${summary}` : alertname,
      impact: impactOf(alert.labels),
      active: alert.status === 'firing',
      since,
      at: nowMs,
    },
  };
}
