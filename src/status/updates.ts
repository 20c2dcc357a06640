import { windowSpan } from './html.js';
import { MAINTENANCE_AHEAD_MS, type PublicMaintenance, publicEntry, utcIso } from './model.js';
import type { PublicWording } from './public-text.js';
import { listWords } from '../engine/text.js';
import type { Incident, TimelineEntry, UpdatePhase } from '../events/incident.js';
import { PAGE_LIST_LIMIT } from '../events/incident-summary.js';

/**
 * An incident's public updates with the phase readers of status pages expect (investigating,
 * identified, monitoring, resolved), for the feeds and the Statuspage-compatible JSON
 * (docs/status-page.md, "Feeds" and "/api/v2"). The text is the page's own (`publicEntry`): what
 * is not on `/status` is not here either.
 */

export interface PublicUpdate {
  /** The entry's position in the whole timeline: stable, since timelines are append-only. */
  readonly index: number;
  readonly at: string;
  readonly kind: TimelineEntry['kind'];
  readonly text: string;
  /** The phase the operator gave this update, if any. */
  readonly phase: UpdatePhase | undefined;
  /** Where the incident stood after this entry (see {@link phaseAfter}). */
  readonly status: UpdatePhase;
}

/** How many of an incident's latest public updates the feeds and the JSON carry at most. */
export const UPDATES_PER_INCIDENT = 50;

/**
 * The phase after an entry, from the one before: an operator's phase wins; otherwise a
 * resolution is `resolved`, a reopening starts over at `investigating`, anything else keeps it.
 */
export function phaseAfter(before: UpdatePhase, e: Pick<TimelineEntry, 'kind' | 'phase'>): UpdatePhase {
  if (e.phase !== undefined) return e.phase;
  if (e.kind === 'resolved') return 'resolved';
  if (e.kind === 'reopened') return 'investigating';
  return before;
}

/**
 * The incident's own phase. The detector's status decides whether it is over: a resolved
 * incident is `resolved` whatever was written after; an open one is never `resolved` (an
 * operator's "resolved" note on an incident Tocsin still sees open reads as `monitoring`).
 */
export function incidentPhase(inc: Pick<Incident, 'status' | 'timeline'>): UpdatePhase {
  if (inc.status === 'resolved') return 'resolved';
  let phase: UpdatePhase = 'investigating';
  for (const e of inc.timeline) phase = phaseAfter(phase, e);
  return phase === 'resolved' ? 'monitoring' : phase;
}

/**
 * The latest public updates, oldest first: at most `max`, none before `since` (ms). The text of
 * an entry is worked out only for those kept (walking back from the newest); the phases need one
 * cheap pass over kinds.
 */
export function publicUpdates(
  inc: Incident,
  wording: PublicWording,
  opts: { readonly max?: number; readonly since?: number } = {},
): PublicUpdate[] {
  const max = opts.max ?? UPDATES_PER_INCIDENT;
  const kept: { index: number; e: TimelineEntry; pub: { kind: TimelineEntry['kind']; text: string } }[] = [];
  const about = { incident: inc, wording };
  for (let i = inc.timeline.length - 1; i >= 0 && kept.length < max; i--) {
    const e = inc.timeline[i];
    if (e === undefined) continue;
    if (opts.since !== undefined && Date.parse(e.at) < opts.since) break;
    const pub = publicEntry(e, about);
    if (pub) kept.push({ index: i, e, pub });
  }
  if (kept.length === 0) return [];
  kept.reverse();
  const out: PublicUpdate[] = [];
  let phase: UpdatePhase = 'investigating';
  let next = 0;
  for (let i = 0; i < inc.timeline.length && next < kept.length; i++) {
    const e = inc.timeline[i];
    if (e === undefined) continue;
    phase = phaseAfter(phase, e);
    const k = kept[next];
    if (k?.index !== i) continue;
    out.push({ index: i, at: utcIso(k.e.at), kind: k.pub.kind, text: k.pub.text, phase: k.e.phase, status: phase });
    next++;
  }
  return out;
}

/** When the incident first reached `monitoring` (Statuspage's `monitoring_at`), or null. */
export function monitoringAt(inc: Pick<Incident, 'timeline'>): string | null {
  let phase: UpdatePhase = 'investigating';
  for (const e of inc.timeline) {
    const next = phaseAfter(phase, e);
    if (next === 'monitoring' && phase !== 'monitoring') return utcIso(e.at);
    phase = next;
  }
  return null;
}

/** A maintenance window's public updates: its announcement, then its start once it has begun. */
export interface MaintenanceUpdate {
  readonly status: 'scheduled' | 'in_progress';
  readonly at: string;
  readonly text: string;
}

/**
 * When a window reached the page: the page announces windows {@link MAINTENANCE_AHEAD_MS} ahead,
 * so this is a fixed time per occurrence (a feed entry's date must not move between requests).
 */
export function announcedAt(m: Pick<PublicMaintenance, 'start'>): string {
  return new Date(Date.parse(m.start) - MAINTENANCE_AHEAD_MS).toISOString();
}

/** Oldest first; the text names the window, its span in UTC and the components it covers. */
export function maintenanceUpdates(m: PublicMaintenance): MaintenanceUpdate[] {
  const what = `${m.title}, ${windowSpan(m.start, m.end)}${m.recurring ? ' (recurring)' : ''}. Affects: ${listWords(
    m.components.map((c) => c.name),
    PAGE_LIST_LIMIT,
  )}.`;
  const out: MaintenanceUpdate[] = [{ status: 'scheduled', at: announcedAt(m), text: `Scheduled maintenance: ${what}` }];
  if (m.active) out.push({ status: 'in_progress', at: m.start, text: `Maintenance in progress: ${what}` });
  return out;
}
