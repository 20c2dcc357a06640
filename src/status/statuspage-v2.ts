import { createHash } from 'node:crypto';
import { type PublicComponent, type PublicComponentsView, type PublicMaintenance, utcIso } from './model.js';
import type { PublicWording } from './public-text.js';
import { announcedAt, incidentPhase, maintenanceUpdates, monitoringAt, publicUpdates } from './updates.js';
import { type ComponentStatus, worstStatus } from '../engine/types.js';
import type { Incident, UpdatePhase } from '../events/incident.js';
import { PAGE_LIST_LIMIT, summariseIncident } from '../events/incident-summary.js';

/**
 * The public status page in the shape of Statuspage's public API (`/api/v2/*.json`), field for
 * field, so that the widgets, aggregators and scripts that read hosted status pages read Tocsin's
 * too. Built from the page's own model and public words: nothing here that `/status` does not
 * show. The mapping is documented in docs/status-page.md, "/api/v2".
 */

/** One page per daemon: Statuspage clients key their caches by it, so it never changes. */
export const PAGE_ID = 'tocsin';
/** The name the HTML page shows as its heading. */
export const PAGE_NAME = 'System status';

export interface V2Page {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly time_zone: string;
  readonly updated_at: string;
}

export type V2Indicator = 'none' | 'minor' | 'major' | 'critical';

export interface V2Status {
  readonly indicator: V2Indicator;
  readonly description: string;
}

export interface V2Component {
  readonly id: string;
  readonly name: string;
  readonly status: ComponentStatus;
  readonly created_at: string;
  readonly updated_at: string;
  readonly position: number;
  readonly description: string | null;
  readonly showcase: boolean;
  readonly start_date: string | null;
  readonly group_id: string | null;
  readonly page_id: string;
  readonly group: boolean;
  readonly only_show_if_degraded: boolean;
  /** Groups only: their members' ids. */
  readonly components?: readonly string[];
}

export interface V2IncidentUpdate {
  readonly id: string;
  readonly status: UpdatePhase | 'scheduled' | 'in_progress';
  readonly body: string;
  readonly incident_id: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly display_at: string;
  readonly affected_components: null;
  readonly deliver_notifications: boolean;
  readonly custom_tweet: null;
  readonly tweet_id: null;
}

export type V2Impact = 'none' | 'minor' | 'major' | 'critical' | 'maintenance';

export interface V2Incident {
  readonly id: string;
  readonly name: string;
  readonly status: UpdatePhase;
  readonly created_at: string;
  readonly updated_at: string;
  readonly monitoring_at: string | null;
  readonly resolved_at: string | null;
  readonly impact: V2Impact;
  readonly shortlink: string;
  readonly started_at: string;
  readonly page_id: string;
  /** Newest first, as Statuspage lists them. */
  readonly incident_updates: readonly V2IncidentUpdate[];
  readonly components: readonly V2Component[];
}

export interface V2ScheduledMaintenance extends Omit<V2Incident, 'status'> {
  readonly status: 'scheduled' | 'in_progress';
  readonly scheduled_for: string;
  readonly scheduled_until: string;
}

/** What every document is built from; `incidents` may hold anything, only confirmed ones are used. */
export interface V2Input {
  readonly model: PublicComponentsView;
  readonly incidents: readonly Incident[];
  readonly wording: PublicWording;
  /** The public address of `/status` (links and `page.url` are built on it). */
  readonly pageUrl: string;
}

/**
 * Statuspage's indicator and words for the worst component status. Its documented indicators are
 * `none`, `minor`, `major` and `critical`: maintenance alone is `none`, said in words.
 */
const STATUS_OF: Record<ComponentStatus, V2Status> = {
  operational: { indicator: 'none', description: 'All Systems Operational' },
  under_maintenance: { indicator: 'none', description: 'Service Under Maintenance' },
  degraded_performance: { indicator: 'minor', description: 'Minor Service Outage' },
  partial_outage: { indicator: 'major', description: 'Partial System Outage' },
  major_outage: { indicator: 'critical', description: 'Major Service Outage' },
};

export function v2Page(input: V2Input): V2Page {
  return { id: PAGE_ID, name: PAGE_NAME, url: input.pageUrl, time_zone: 'Etc/UTC', updated_at: input.model.generated_at };
}

export function v2Status(input: V2Input): { page: V2Page; status: V2Status } {
  return { page: v2Page(input), status: STATUS_OF[input.model.overall] };
}

/**
 * A group's id: Statuspage groups are components, so the id must never be a component's. `+`
 * is not allowed in config ids; the hash keeps it short and stable whatever the group is called.
 */
export function groupId(group: string): string {
  return `group+${createHash('sha256').update(group).digest('hex').slice(0, 12)}`;
}

/**
 * Every component and every group (as a component with `group: true` and its members' ids),
 * each group followed by its members in config order; `position` numbers that order from 1.
 * Tocsin keeps no creation or change time per component: both are the time of the answer.
 */
export function v2ComponentList(input: V2Input): V2Component[] {
  const groups = new Map<string, PublicComponent[]>();
  for (const c of input.model.components) {
    const members = groups.get(c.group);
    if (members) members.push(c);
    else groups.set(c.group, [c]);
  }
  const out: V2Component[] = [];
  const at = input.model.generated_at;
  for (const [name, members] of groups) {
    const id = groupId(name);
    const status = worstStatus(members.map((m) => m.status));
    const position = out.length + 1;
    out.push({
      ...v2Component({ id, name, status, at, position, description: null, showcase: false, groupId: null }),
      group: true,
      components: members.map((m) => m.id),
    });
    for (const c of members) {
      const description = c.description ?? null;
      out.push(v2Component({ ...c, at, position: out.length + 1, description, showcase: true, groupId: id }));
    }
  }
  return out;
}

/** A component (not a group) in Statuspage's field order. */
function v2Component(c: {
  id: string;
  name: string;
  status: ComponentStatus;
  at: string;
  position: number;
  description: string | null;
  showcase: boolean;
  groupId: string | null;
}): V2Component {
  return {
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: c.at,
    updated_at: c.at,
    position: c.position,
    description: c.description,
    showcase: c.showcase,
    start_date: null,
    group_id: c.groupId,
    page_id: PAGE_ID,
    group: false,
    only_show_if_degraded: false,
  };
}

export function v2Components(input: V2Input): { page: V2Page; components: V2Component[] } {
  return { page: v2Page(input), components: v2ComponentList(input) };
}

/** Looks components up by id for the incidents' and windows' `components`. */
function componentIndex(
  input: V2Input,
  list: readonly V2Component[] = v2ComponentList(input),
): (id: string) => V2Component {
  const byId = new Map(list.filter((c) => !c.group).map((c) => [c.id, c]));
  const at = input.model.generated_at;
  // A component gone from the config since the incident: its id as its name, no group.
  return (id) =>
    byId.get(id) ??
    v2Component({ id, name: id, status: 'operational', at, position: 0, description: null, showcase: false, groupId: null });
}

/** An update; its id is the incident's and the entry's place, stable as timelines only grow. */
function v2Update(incidentId: string, index: number, status: V2IncidentUpdate['status'], body: string, at: string): V2IncidentUpdate {
  return {
    id: `${incidentId}-u${index}`,
    status,
    body,
    incident_id: incidentId,
    created_at: at,
    updated_at: at,
    display_at: at,
    affected_components: null,
    deliver_notifications: true,
    custom_tweet: null,
    tweet_id: null,
  };
}

function v2Incident(inc: Incident, input: V2Input, component: (id: string) => V2Component): V2Incident {
  const updates = publicUpdates(inc, input.wording);
  const opened = utcIso(inc.opened_at);
  const resolved = inc.status === 'resolved' && inc.resolved_at ? utcIso(inc.resolved_at) : null;
  const latest = [opened, resolved ?? '', ...updates.map((u) => u.at)].reduce((a, b) => (b > a ? b : a));
  // The first components only, as on the page: a zone failure lists thousands (CONTRACT §5.11).
  const { components } = summariseIncident(inc, { components: PAGE_LIST_LIMIT, signals: 0 });
  return {
    id: inc.id,
    name: inc.title,
    status: incidentPhase(inc),
    created_at: opened,
    updated_at: latest,
    monitoring_at: monitoringAt(inc),
    resolved_at: resolved,
    impact: inc.severity,
    shortlink: `${input.pageUrl}#${encodeURIComponent(inc.id)}`,
    started_at: opened,
    page_id: PAGE_ID,
    incident_updates: updates.map((u) => v2Update(inc.id, u.index, u.status, u.text, u.at)).reverse(),
    components: components.map((c) => component(c.id)),
  };
}

/** Published incidents (only confirmed ones, whatever `input.incidents` holds), newest first. */
function published(
  input: V2Input,
  keep: (i: Incident) => boolean,
  limit = Number.POSITIVE_INFINITY,
  component = componentIndex(input),
): V2Incident[] {
  return input.incidents
    .filter((i) => i.review === 'confirmed' && keep(i))
    .sort((a, b) => b.opened_at.localeCompare(a.opened_at) || b.id.localeCompare(a.id))
    .slice(0, limit) // before the mapping: only what is returned is built
    .map((i) => v2Incident(i, input, component));
}

/** `incidents.json`: the newest published incidents, open or resolved. */
export function v2Incidents(input: V2Input, limit: number): { page: V2Page; incidents: V2Incident[] } {
  return { page: v2Page(input), incidents: published(input, () => true, limit) };
}

/** `incidents/unresolved.json`: published incidents still open. */
export function v2Unresolved(input: V2Input): { page: V2Page; incidents: V2Incident[] } {
  return { page: v2Page(input), incidents: published(input, (i) => i.status === 'open') };
}

function v2Maintenance(
  m: PublicMaintenance,
  input: V2Input,
  component: (id: string) => V2Component,
): V2ScheduledMaintenance {
  // One event per occurrence: a recurring window's next one is another event.
  const id = `${m.id}@${m.start}`;
  const updates = maintenanceUpdates(m);
  return {
    id,
    name: m.title,
    status: m.active ? 'in_progress' : 'scheduled',
    created_at: announcedAt(m),
    updated_at: updates[updates.length - 1]?.at ?? announcedAt(m),
    monitoring_at: null,
    resolved_at: null,
    impact: 'maintenance',
    shortlink: `${input.pageUrl}#maintenance`,
    started_at: m.start,
    page_id: PAGE_ID,
    incident_updates: updates.map((u, i) => v2Update(id, i, u.status, u.text, u.at)).reverse(),
    components: m.components.slice(0, PAGE_LIST_LIMIT).map((c) => component(c.id)),
    scheduled_for: m.start,
    scheduled_until: m.end,
  };
}

function maintenances(
  input: V2Input,
  keep: (m: PublicMaintenance) => boolean,
  component = componentIndex(input),
): V2ScheduledMaintenance[] {
  return input.model.maintenance.filter(keep).map((m) => v2Maintenance(m, input, component));
}

/** `scheduled-maintenances/upcoming.json`: windows not begun yet, soonest first. */
export function v2Upcoming(input: V2Input): { page: V2Page; scheduled_maintenances: V2ScheduledMaintenance[] } {
  return { page: v2Page(input), scheduled_maintenances: maintenances(input, (m) => !m.active) };
}

/** `summary.json`: everything a widget shows in one document. */
export function v2Summary(input: V2Input): {
  page: V2Page;
  components: V2Component[];
  incidents: V2Incident[];
  scheduled_maintenances: V2ScheduledMaintenance[];
  status: V2Status;
} {
  const components = v2ComponentList(input);
  const component = componentIndex(input, components);
  return {
    page: v2Page(input),
    components,
    incidents: published(input, (i) => i.status === 'open', Number.POSITIVE_INFINITY, component),
    // In progress and upcoming, as Statuspage's summary lists them.
    scheduled_maintenances: maintenances(input, () => true, component),
    status: STATUS_OF[input.model.overall],
  };
}
