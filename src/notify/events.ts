import { NOTIFIER_EVENTS } from '../config/schema.js';
import type { IncidentChange } from '../engine/types.js';
import type { TimelineEntry } from '../events/incident.js';
import type { SummarisedIncident } from '../events/incident-summary.js';

export type NotifyEvent = (typeof NOTIFIER_EVENTS)[number];

/** What notifiers send for one stored incident change (docs/notifications.md). */
export interface Notification {
  readonly event: NotifyEvent;
  /**
   * The incident as `GET /api/v1/incidents/{id}` answers it: the stored document (CONTRACT §4)
   * with at most the first 100 components and signals, and their counts (CONTRACT §5.11).
   */
  readonly incident: SummarisedIncident;
  /**
   * The timeline entries this event is about, oldest first: those the change appended (for an
   * opening held by `group_wait`, every entry appended while it waited).
   */
  readonly entries: readonly TimelineEntry[];
  /** Stable across retries, so a receiver can drop duplicates. */
  readonly id: string;
  /** `incident.rerooted` only: the root before the change and after it. */
  readonly reroot?: Reroot;
}

/**
 * An incident's root component changing after it was opened (correlation found a common cause
 * as more of a cascade failed). `from` is null when the root before is not known to this process.
 */
export interface Reroot {
  readonly from: string | null;
  readonly to: string;
}

/**
 * The one event a change amounts to, or undefined when it appended nothing a reader would see
 * (a signal's vantages moving, a title rewritten): the timeline is the news.
 *
 * One event per change, the most significant first: a new draft, or one `reopened` (the problem
 * is back: subscribers of `incident.opened` must hear it again after an `incident.resolved`),
 * is `incident.opened`; then `resolved`, `confirmed`, `dismissed`; any other entry
 * (signal_added, component_added, impact_changed, rerooted, recovered, note, maintenance) is
 * `incident.updated`, which `eventFor` makes `incident.rerooted` for the notifiers that take it
 * when the root changed.
 */
export function eventOf(change: Pick<IncidentChange, 'opened' | 'appended'>): NotifyEvent | undefined {
  const kinds = new Set(change.appended.map((e) => e.kind));
  if (change.opened || kinds.has('reopened')) return 'incident.opened';
  if (kinds.has('resolved')) return 'incident.resolved';
  if (kinds.has('confirmed')) return 'incident.confirmed';
  if (kinds.has('dismissed')) return 'incident.dismissed';
  return kinds.size > 0 ? 'incident.updated' : undefined;
}

/**
 * The re-root a change amounts to: a `rerooted` timeline entry (the engine writes one whenever
 * an opened incident's root changes) and a stored root other than the one before. A root that
 * moved and came back within one change is no re-root.
 */
export function rerootOf(
  change: Pick<IncidentChange, 'appended'>,
  before: string | undefined,
  root: string,
): Reroot | undefined {
  if (before === root || !change.appended.some((e) => e.kind === 'rerooted')) return undefined;
  return { from: before ?? null, to: root };
}

/**
 * The event a notifier with this `events` filter gets for a change whose event is `base`: a
 * re-root is `incident.rerooted` for the notifiers that take it, and stays `incident.updated`
 * for those that take only that (a filter written before `incident.rerooted` existed keeps
 * hearing re-roots as it did). A re-root within an opening or a resolution is that event: its
 * document names the new root.
 */
export function eventFor(
  filter: readonly NotifyEvent[] | undefined,
  base: NotifyEvent | undefined,
  reroot: Reroot | undefined,
): NotifyEvent | undefined {
  if (base === 'incident.updated' && reroot && wants(filter, 'incident.rerooted')) return 'incident.rerooted';
  return base !== undefined && wants(filter, base) ? base : undefined;
}

/** Whether a notifier with this `events` filter wants an event (no filter: every event). */
export function wants(filter: readonly NotifyEvent[] | undefined, event: NotifyEvent): boolean {
  return filter === undefined || filter.includes(event);
}

export const ALL_EVENTS: readonly NotifyEvent[] = NOTIFIER_EVENTS;
