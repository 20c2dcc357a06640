import { NOTIFIER_EVENTS } from '../config/schema.js';
import type { IncidentChange } from '../engine/types.js';
import type { TimelineEntry } from '../incidents/incident.js';
import type { SummarisedIncident } from '../incidents/summary.js';

export type NotifyEvent = (typeof NOTIFIER_EVENTS)[number];

/** What notifiers send for one stored incident change (docs/notifications.md). */
export interface Notification {
  readonly event: NotifyEvent;
  /**
   * The incident as `GET /api/v1/incidents/{id}` answers it: the stored document (CONTRACT §4)
   * with at most the first 100 components and signals, and their counts (CONTRACT §5.11).
   */
  readonly incident: SummarisedIncident;
  /** The timeline entries this change appended, oldest first: what the event is about. */
  readonly entries: readonly TimelineEntry[];
  /** Stable across retries, so a receiver can drop duplicates. */
  readonly id: string;
}

/**
 * The one event a change amounts to, or undefined when it appended nothing a reader would see
 * (a signal's vantages moving, a title rewritten): the timeline is the news.
 *
 * One event per change, the most significant first: a new draft, or one `reopened` (the problem
 * is back: subscribers of `incident.opened` must hear it again after an `incident.resolved`),
 * is `incident.opened`; then `resolved`, `confirmed`, `dismissed`; any other entry
 * (signal_added, component_added, impact_changed, rerooted, recovered, note, maintenance) is
 * `incident.updated`.
 */
export function eventOf(change: Pick<IncidentChange, 'opened' | 'appended'>): NotifyEvent | undefined {
  const kinds = new Set(change.appended.map((e) => e.kind));
  if (change.opened || kinds.has('reopened')) return 'incident.opened';
  if (kinds.has('resolved')) return 'incident.resolved';
  if (kinds.has('confirmed')) return 'incident.confirmed';
  if (kinds.has('dismissed')) return 'incident.dismissed';
  return kinds.size > 0 ? 'incident.updated' : undefined;
}

/** Whether a notifier with this `events` filter wants an event (no filter: every event). */
export function wants(filter: readonly NotifyEvent[] | undefined, event: NotifyEvent): boolean {
  return filter === undefined || filter.includes(event);
}

export const ALL_EVENTS: readonly NotifyEvent[] = NOTIFIER_EVENTS;
