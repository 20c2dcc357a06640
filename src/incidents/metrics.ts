import type { ComponentStatus } from '../engine/types.js';
import type { Metrics } from '../metrics/registry.js';
import type { Incident } from '../events/incident.js';
import type { AppliedListener } from './manager.js';

const STATUSES = ['open', 'resolved'] as const;
const REVIEWS = ['pending', 'confirmed', 'dismissed'] as const;
const COMPONENT_STATUSES: readonly ComponentStatus[] = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
];

/**
 * Incident metrics (CONTRACT §7) from stored changes: opened drafts per rule, detection delay,
 * operator reviews per rule, and the incidents gauge by status and review (seeded from the store).
 */
export function incidentMetricsRecorder(metrics: Metrics, known: readonly Incident[]): AppliedListener {
  const state = new Map<string, string>();
  for (const i of known) state.set(i.id, `${i.status}|${i.review}`);
  const publish = () => {
    const counts = new Map<string, number>();
    for (const v of state.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const status of STATUSES) {
      for (const review of REVIEWS) metrics.incidents.set({ status, review }, counts.get(`${status}|${review}`) ?? 0);
    }
  };
  publish();
  return (change, stored) => {
    const rule = change.rule || 'unknown';
    // An operator's own post is neither a draft nor a review of one: only the gauge counts it.
    const drafted = stored.origin !== 'operator';
    if (change.opened && drafted) {
      metrics.incidentsOpened.inc({ rule });
      metrics.detectionDelay.observe(Math.max(0, Date.parse(stored.opened_at) - change.firstFailureMs) / 1000);
    }
    for (const e of change.appended) {
      if (drafted && (e.kind === 'confirmed' || e.kind === 'dismissed')) metrics.incidentReviews.inc({ rule, review: e.kind });
    }
    state.set(stored.id, `${stored.status}|${stored.review}`);
    publish();
  };
}

/**
 * `tocsin_component_status{component,status}`: 1 for each component's current status, 0 for the
 * others. Only components whose status moved are written: the daemon calls it every tick, and
 * 10,000 components are 50,000 series.
 */
export function componentStatusRecorder(
  metrics: Metrics,
): (statuses: Readonly<Record<string, ComponentStatus>>) => void {
  const last = new Map<string, ComponentStatus>();
  let seen: Readonly<Record<string, ComponentStatus>> | undefined;
  return (statuses) => {
    // The engine hands out the same object while nothing changed: nothing to look at.
    if (statuses === seen) return;
    seen = statuses;
    for (const [component, current] of Object.entries(statuses)) {
      if (last.get(component) === current) continue;
      last.set(component, current);
      for (const status of COMPONENT_STATUSES) {
        metrics.componentStatus.set({ component, status }, status === current ? 1 : 0);
      }
    }
  };
}
