import { phasedLabel, publicGeneratedText, type PublicWording, publicWording } from './public-text.js';
import type { Plan } from '../config/plan.js';
import type { MaintenanceSpec } from '../config/schema.js';
import { compileWindow, type Window } from '../engine/maintenance.js';
import { Topology } from '../engine/topology.js';
import { type ComponentStatus, worstStatus } from '../engine/types.js';
import type { Incident, TimelineEntry, UpdatePhase } from '../events/incident.js';
import { type ComponentCounts, PAGE_LIST_LIMIT, summariseIncident } from '../events/incident-summary.js';
import type { IncidentStore } from '../store/port.js';
import { type PublicHistory, publicHistory, type UptimeHistory } from './history.js';
import { nextOccurrence } from './occurrence.js';

/**
 * The public status page's model (CONTRACT §6, `/status` and `/status.json`): what anyone on the
 * internet may read. Built from the plan, the store and the live engine, with one invariant above
 * all: nothing an operator has not confirmed is published — no pending draft, no dismissed false
 * alarm, not even as a red dot next to a component. docs/status-page.md explains the rules.
 */

export const DAY_MS = 86_400_000;
/** Resolved incidents stay on the page this long after their resolution. */
export const RESOLVED_SHOWN_MS = 7 * DAY_MS;
/** Upcoming maintenance is announced this far ahead. */
export const MAINTENANCE_AHEAD_MS = 7 * DAY_MS;
/** At most this many incidents on the page (open ones first). */
export const MAX_INCIDENTS = 50;

/**
 * Timeline kinds a public reader sees. Left out: `signal_added` (per-probe, per-vantage detail
 * that the opening post already summarises), `confirmed` and `dismissed` (the review workflow;
 * a confirmation's note is published as an update, see {@link publicEntry}).
 */
export const PUBLIC_KINDS: ReadonlySet<TimelineEntry['kind']> = new Set([
  'opened',
  'component_added',
  'impact_changed',
  'rerooted',
  'recovered',
  'resolved',
  'reopened',
  'note',
  'maintenance',
  'edited',
]);

export interface PublicComponent {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly region?: string;
  readonly description?: string;
  readonly status: ComponentStatus;
  /** Uptime over the last 90 days (docs/status-page.md, "Uptime history"), when history is kept. */
  readonly history?: PublicHistory;
}

export interface PublicTimelineEntry {
  readonly at: string;
  readonly kind: TimelineEntry['kind'];
  readonly text: string;
  /** `14:02 UTC` for the first entry (the post), `EDIT 14:11 UTC` after; the date is added when the day differs. */
  readonly label: string;
  /** An operator's update phase (investigating, identified, monitoring, resolved); absent otherwise. */
  readonly phase?: UpdatePhase;
}

export interface PublicIncident {
  readonly id: string;
  readonly title: string;
  readonly status: Incident['status'];
  readonly severity: Incident['severity'];
  /** Confirmed after it had already resolved (SCENARIOS S8): published after the fact. */
  readonly retroactive: boolean;
  readonly opened_at: string;
  readonly resolved_at: string | null;
  readonly regions: readonly string[];
  /** The first {@link PAGE_LIST_LIMIT} components (document order: the root first). */
  readonly components: readonly { readonly id: string; readonly name: string; readonly impact: Incident['components'][number]['impact'] }[];
  /** Every affected component, counted per impact (CONTRACT §5.11: a zone failure lists thousands). */
  readonly component_counts: ComponentCounts;
  /** `components` lists only the first ones. */
  readonly components_truncated: boolean;
  readonly timeline: readonly PublicTimelineEntry[];
}

export interface PublicMaintenance {
  readonly id: string;
  readonly title: string;
  readonly components: readonly { readonly id: string; readonly name: string }[];
  readonly start: string;
  readonly end: string;
  readonly active: boolean;
  readonly recurring: boolean;
}

export type OverallStatus = ComponentStatus;

export interface StatusModel {
  readonly generated_at: string;
  /** The worst component status (maintenance ranks below every impact). */
  readonly overall: OverallStatus;
  readonly components: readonly PublicComponent[];
  readonly incidents: readonly PublicIncident[];
  readonly maintenance: readonly PublicMaintenance[];
}

const IMPACT_STATUSES: ReadonlySet<ComponentStatus> = new Set(['degraded_performance', 'partial_outage', 'major_outage']);

/** What the model is built from; `incidents` may hold anything, only confirmed ones are used. */
export interface StatusInput {
  readonly plan: Pick<Plan, 'components' | 'maintenance'> & Partial<Pick<Plan, 'probes'>>;
  readonly incidents: readonly Incident[];
  /** The engine's live statuses (`engine.componentStatuses()`), when a live engine runs. */
  readonly live?: Readonly<Record<string, ComponentStatus>>;
  /** Uptime history as read at `now` (src/status/history.ts); without it, components carry none. */
  readonly history?: UptimeHistory;
  readonly now: number;
}

/** The page without its incidents: what component statuses and maintenance windows need. */
export type PublicComponentsView = Omit<StatusModel, 'incidents'>;

/** Builds the public model; pure (same input, same output). */
export function statusModel(input: StatusInput): StatusModel {
  const { plan, now } = input;
  const nameOf = componentNamer(plan.components);
  const published = input.incidents.filter((i) => i.review === 'confirmed');
  const wording = publicWording({ components: plan.components, probes: plan.probes ?? [] });
  const incidents = selectIncidents(published, now).map((i) => publicIncident(i, nameOf, wording));
  const { generated_at, overall, components, maintenance } = publicComponents(input);
  return { generated_at, overall, components, incidents, maintenance };
}

/** Component names by id (the id itself for one the config does not know). */
function componentNamer(components: StatusInput['plan']['components']): (id: string) => string {
  const names = new Map(components.map((c) => [c.id, c.name]));
  return (id) => names.get(id) ?? id;
}

/**
 * Component statuses, the overall status and maintenance windows, without building any incident's
 * public text: only confirmed open incidents weigh on them (`/api/v2` needs no more).
 */
export function publicComponents(input: StatusInput): PublicComponentsView {
  const { plan, now } = input;
  const nameOf = componentNamer(plan.components);
  const published = input.incidents.filter((i) => i.review === 'confirmed');

  const maintenance = maintenanceWindows(plan.maintenance, now, nameOf);
  const topology = new Topology(
    plan.components.map((c) => ({ id: c.id, name: c.name, group: c.group, region: c.region, dependsOn: c.depends_on })),
  );
  const inMaintenance = (id: string) =>
    input.live?.[id] === 'under_maintenance' ||
    maintenance.some((w) => w.active && w.components.some((m) => topology.dependsOn(id, m.id)));

  // Worst recorded impact per component over confirmed open incidents: the only ones allowed to
  // turn a component non-operational on the public page.
  const confirmedImpact = new Map<string, ComponentStatus>();
  for (const inc of published) {
    if (inc.status !== 'open') continue;
    for (const c of inc.components) {
      confirmedImpact.set(c.id, worstStatus([confirmedImpact.get(c.id) ?? 'operational', c.impact]));
    }
  }

  const components: PublicComponent[] = plan.components.map((c) => {
    let status: ComponentStatus = 'operational';
    if (inMaintenance(c.id)) {
      status = 'under_maintenance';
    } else {
      const recorded = confirmedImpact.get(c.id);
      const live = input.live?.[c.id];
      if (recorded !== undefined) status = live !== undefined && IMPACT_STATUSES.has(live) ? live : recorded;
    }
    return {
      id: c.id,
      name: c.name,
      group: c.group,
      ...(c.region !== undefined ? { region: c.region } : {}),
      ...(c.description !== undefined ? { description: c.description } : {}),
      status,
      ...(input.history ? { history: publicHistory(input.history, c.id) } : {}),
    };
  });
  const overall = worstStatus(components.map((c) => c.status));
  return { generated_at: new Date(now).toISOString(), overall, components, maintenance };
}

/** Open ones first, then those resolved within {@link RESOLVED_SHOWN_MS}; newest first within each. */
function selectIncidents(confirmed: readonly Incident[], now: number): Incident[] {
  const newestFirst = (a: Incident, b: Incident) =>
    b.opened_at.localeCompare(a.opened_at) || b.id.localeCompare(a.id);
  const open = confirmed.filter((i) => i.status === 'open').sort(newestFirst);
  const resolved = confirmed
    .filter((i) => i.status === 'resolved' && now - Date.parse(i.resolved_at ?? i.opened_at) <= RESOLVED_SHOWN_MS)
    .sort(newestFirst);
  return [...open, ...resolved].slice(0, MAX_INCIDENTS);
}

/**
 * Whether the incident was confirmed while it was resolved: replays the timeline's status changes
 * up to the first `confirmed` entry (a later reopening does not make it less retroactive).
 */
export function isRetroactive(incident: Pick<Incident, 'timeline'>): boolean {
  let resolved = false;
  for (const e of incident.timeline) {
    if (e.kind === 'resolved') resolved = true;
    else if (e.kind === 'reopened') resolved = false;
    else if (e.kind === 'confirmed') return resolved;
  }
  return false;
}

/**
 * An entry as the public reads it, or undefined when it is not for them. Operator verbs record
 * "Confirmed by NAME ...: note" and "Resolved by NAME: note": the token's name is internal, the
 * note is what the operator meant to say, so only the note is published. Entries Tocsin wrote
 * are published in public words (public-text.ts), never as written.
 */
export function publicEntry(
  e: TimelineEntry,
  about: { readonly incident: Incident; readonly wording: PublicWording },
): { kind: TimelineEntry['kind']; text: string } | undefined {
  if (e.kind === 'confirmed') {
    const note = operatorNote(e.text, 'Confirmed', e.author);
    return note ? { kind: 'note', text: note } : undefined;
  }
  if (!PUBLIC_KINDS.has(e.kind)) return undefined;
  // Tocsin's own words are for operators (targets, raw errors, alert text): said again for readers.
  if (e.author === 'tocsin') {
    const text = publicGeneratedText(e, about.incident, about.wording);
    return text === '' ? undefined : { kind: e.kind, text };
  }
  if (e.kind === 'resolved') {
    const note = operatorNote(e.text, 'Resolved', e.author);
    return { kind: 'resolved', text: note ? `Resolved: ${note}` : 'Resolved.' };
  }
  const text = e.text.trim();
  return text === '' ? undefined : { kind: e.kind, text };
}

/** The free text after `VERB by AUTHOR (…): `, or undefined when there is none. */
function operatorNote(text: string, verb: string, author: string): string | undefined {
  const prefix = `${verb} by ${author}`;
  if (!text.startsWith(prefix)) return undefined;
  let rest = text.slice(prefix.length);
  // The retroactive remark: " (retroactive: resolved at 14:05 UTC)".
  if (rest.startsWith(' (')) {
    const close = rest.indexOf(')');
    rest = close === -1 ? '' : rest.slice(close + 1);
  }
  if (!rest.startsWith(': ')) return undefined;
  const note = rest.slice(2).trim();
  return note === '' ? undefined : note;
}

function publicIncident(inc: Incident, nameOf: (id: string) => string, wording: PublicWording): PublicIncident {
  const about = { incident: inc, wording };
  const entries = inc.timeline
    .map((e) => ({ e, pub: publicEntry(e, about) }))
    .filter((x): x is { e: TimelineEntry; pub: { kind: TimelineEntry['kind']; text: string } } => x.pub !== undefined);
  const postDay = utcIso(entries[0]?.e.at ?? inc.opened_at).slice(0, 10);
  const timeline = entries.map(({ e, pub }, i) => {
    const at = utcIso(e.at);
    const day = at.slice(0, 10);
    const time = `${day === postDay ? '' : `${day} `}${at.slice(11, 16)} UTC`;
    const label = phasedLabel(i === 0 ? time : `EDIT ${time}`, e.phase);
    return { at: e.at, kind: pub.kind, text: pub.text, label, ...(e.phase ? { phase: e.phase } : {}) };
  });
  // Signals are not published; components past the first ones are counted, not listed.
  const summary = summariseIncident(inc, { components: PAGE_LIST_LIMIT, signals: 0 });
  return {
    id: inc.id,
    title: inc.title,
    status: inc.status,
    severity: inc.severity,
    retroactive: isRetroactive(inc),
    opened_at: inc.opened_at,
    resolved_at: inc.resolved_at,
    regions: inc.regions,
    components: summary.components.map((c) => ({ id: c.id, name: nameOf(c.id), impact: c.impact })),
    component_counts: summary.componentCounts,
    components_truncated: summary.moreComponents > 0,
    timeline,
  };
}

/** An RFC 3339 time as UTC ISO (entries may carry an offset); unparsable text is kept as is. */
export function utcIso(at: string): string {
  const ms = Date.parse(at);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : at;
}

/**
 * Active windows and those starting within {@link MAINTENANCE_AHEAD_MS}, soonest first. A
 * recurring window shows its current occurrence when active, else its next one.
 */
export function maintenanceWindows(
  specs: readonly MaintenanceSpec[],
  now: number,
  nameOf: (id: string) => string = (id) => id,
): PublicMaintenance[] {
  const out: PublicMaintenance[] = [];
  for (const spec of specs) {
    const window = compiled(spec);
    const recurring = spec.cron !== undefined;
    const active = window.activeAt(now);
    let span: { start: number; end: number } | undefined = active;
    if (!span) span = recurring ? cachedNext(spec, window, now) : oneOffUpcoming(spec, now);
    if (!span) continue;
    out.push({
      id: spec.id,
      title: window.title,
      components: spec.components.map((id) => ({ id, name: nameOf(id) })),
      start: new Date(span.start).toISOString(),
      end: new Date(span.end).toISOString(),
      active: active !== undefined,
      recurring,
    });
  }
  return out.sort(
    (a, b) => Number(b.active) - Number(a.active) || a.start.localeCompare(b.start) || a.id.localeCompare(b.id),
  );
}

/** Plans are frozen and live as long as the daemon: compile each window once. */
const windows = new WeakMap<MaintenanceSpec, Window>();
type Span = { start: number; end: number };
/**
 * What a scan for a recurring window's next occurrence found at `from`: `hit`, the first start in
 * `(from, scanned]` (nothing starts between `from` and it, so it stays the answer for any later
 * `now` before its start), or none up to `scanned`, so a later call only scans the part of the
 * horizon past `scanned`. Spares a minute-by-minute scan of the week ahead on every anonymous request.
 */
const nextCache = new WeakMap<MaintenanceSpec, { from: number; scanned: number; hit: Span | undefined }>();

function compiled(spec: MaintenanceSpec): Window {
  let w = windows.get(spec);
  if (!w) {
    w = compileWindow(spec);
    windows.set(spec, w);
  }
  return w;
}

function cachedNext(spec: MaintenanceSpec, window: Window, now: number): Span | undefined {
  const until = now + MAINTENANCE_AHEAD_MS;
  const cached = nextCache.get(spec);
  if (cached && now >= cached.from) {
    if (cached.hit && now < cached.hit.start) return cached.hit;
    if (!cached.hit && now <= cached.scanned) {
      const hit = nextOccurrence(window, spec.duration ?? 0, cached.scanned, until);
      nextCache.set(spec, { from: cached.from, scanned: until, hit });
      return hit;
    }
  }
  const hit = nextOccurrence(window, spec.duration ?? 0, now, until);
  nextCache.set(spec, { from: now, scanned: until, hit });
  return hit;
}

function oneOffUpcoming(spec: MaintenanceSpec, now: number): { start: number; end: number } | undefined {
  if (spec.start === undefined || spec.end === undefined) return undefined;
  const start = Date.parse(spec.start);
  const end = Date.parse(spec.end);
  return start > now && start <= now + MAINTENANCE_AHEAD_MS ? { start, end } : undefined;
}

/**
 * Reads what the model needs from the store: every confirmed open incident, and confirmed resolved
 * ones, newest first, until {@link MAX_INCIDENTS} resolved within the shown span are found or the
 * pages reach incidents opened long before it (an incident open for over 30 days and resolved this
 * week is the one case left out, a deliberate bound on the work an anonymous request causes).
 */
export async function loadPublishedIncidents(
  store: Pick<IncidentStore, 'listIncidents'>,
  now: number,
): Promise<Incident[]> {
  const open = await store.listIncidents({ review: 'confirmed', status: 'open', limit: MAX_INCIDENTS });
  const resolved: Incident[] = [];
  const oldestOpening = now - RESOLVED_SHOWN_MS - 30 * DAY_MS;
  const PAGE = 100;
  let before: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await store.listIncidents({ review: 'confirmed', status: 'resolved', limit: PAGE, ...(before ? { before } : {}) });
    for (const inc of page) {
      if (now - Date.parse(inc.resolved_at ?? inc.opened_at) <= RESOLVED_SHOWN_MS) resolved.push(inc);
    }
    const last = page[page.length - 1];
    const done = !last || page.length < PAGE || resolved.length >= MAX_INCIDENTS;
    if (done || Date.parse(last.opened_at) < oldestOpening) break;
    before = last.id;
  }
  return [...open, ...resolved];
}

/** What the routes hand over: the store, a live engine when the daemon runs one, and the time. */
export interface StatusSources {
  readonly plan: Pick<Plan, 'components' | 'maintenance'>;
  readonly store: Pick<IncidentStore, 'listIncidents'>;
  readonly engine?: { componentStatuses(): Record<string, ComponentStatus> };
  readonly now: number;
}

export async function buildStatusModel(src: StatusSources): Promise<StatusModel> {
  const incidents = await loadPublishedIncidents(src.store, src.now);
  return statusModel({ plan: src.plan, incidents, live: src.engine?.componentStatuses(), now: src.now });
}
