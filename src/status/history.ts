import type { MaintenanceSpec } from '../config/schema.js';
import { compileWindow, type Window } from '../engine/maintenance.js';
import { Topology } from '../engine/topology.js';
import { type ComponentStatus, IMPACT_RANK, type Impact } from '../engine/types.js';
import type { IncidentFields, IncidentStore, UptimeDay, UptimeSpan, UptimeStore } from '../store/port.js';
import { nextOccurrence } from './occurrence.js';

/**
 * Uptime history: each component's availability per UTC day over the last {@link HISTORY_DAYS}
 * days, from what is public only: confirmed incidents' component impacts over their open time,
 * and maintenance windows. The method (docs/status-page.md, "Uptime history"):
 *
 * - at each instant a component is in the worst state of the published incidents open on it;
 * - a day's uptime is 1 − (major + {@link PARTIAL_WEIGHT} × partial) / the day's seconds
 *   (so far, for today); degraded performance and maintenance count as available;
 * - the days before {@link UptimeHistory.since} (before anything was recorded) have no data.
 *
 * The store keeps the spans and the per-day seconds (src/status/history-recorder.ts writes them);
 * this module is the arithmetic, and the read that adds what open spans have accrued since.
 */

/** Days shown (today and the 89 before it) and kept at least. */
export const HISTORY_DAYS = 90;
/** A partial outage's weight in downtime, as Atlassian Statuspage counts it (major counts fully). */
export const PARTIAL_WEIGHT = 0.3;
/** The state key holding when history starts (ms): the first start of a recorder, or earlier. */
export const HISTORY_SINCE_KEY = 'uptime.since';

const DAY_MS = 86_400_000;

/** What history needs of the plan: the components (and their dependencies) and maintenance windows. */
export interface HistoryPlan {
  readonly components: readonly {
    readonly id: string;
    readonly name: string;
    readonly group: string;
    readonly region?: string | undefined;
    readonly depends_on: readonly string[];
  }[];
  readonly maintenance: readonly MaintenanceSpec[];
}

/** `YYYY-MM-DD` (UTC) of a time in ms. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayStartMs(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

export function addDays(day: string, n: number): string {
  return dayOf(dayStartMs(day) + n * DAY_MS);
}

/** The first day of the window ending today, and the oldest time the store must keep. */
export function retention(now: number): { firstDay: string; from: number } {
  const firstDay = addDays(dayOf(now), -HISTORY_DAYS);
  return { firstDay, from: dayStartMs(firstDay) };
}

/** What one incident says of a component's state, from `start` to `end` (null: still open). */
export interface Span {
  readonly impact: Impact;
  readonly start: number;
  readonly end: number | null;
}

/**
 * The spans a stored incident gives its components: none unless an operator confirmed it
 * (pending drafts and dismissed incidents never colour a public bar). An incident counts from
 * its `opened_at` to its `resolved_at` at the impact it records for each component now.
 */
export function incidentSpans(inc: Pick<IncidentFields, 'review' | 'status' | 'opened_at' | 'resolved_at' | 'components'>): Map<string, Span> {
  const out = new Map<string, Span>();
  if (inc.review !== 'confirmed') return out;
  const start = Date.parse(inc.opened_at);
  if (!Number.isFinite(start)) return out;
  const resolved = inc.status === 'resolved' && inc.resolved_at !== null ? Date.parse(inc.resolved_at) : NaN;
  const end = inc.status === 'resolved' ? Math.max(start, Number.isFinite(resolved) ? resolved : start) : null;
  for (const c of inc.components) out.set(c.id, { impact: c.impact, start, end });
  return out;
}

/** Seconds of each impact in a day. */
export interface ImpactSeconds {
  major: number;
  partial: number;
  degraded: number;
}

const SECONDS_KEY: Record<Impact, keyof ImpactSeconds> = {
  major_outage: 'major',
  partial_outage: 'partial',
  degraded_performance: 'degraded',
};

/**
 * One component's seconds per impact for each day from `fromDay` to the day of `now`, from its
 * spans (open ones end at `now`): where spans overlap, the worst impact counts. Every day of the
 * range is in the result, zeros included (a recomputed day may have become clean).
 */
export function daySeconds(spans: readonly Span[], fromDay: string, now: number): Map<string, ImpactSeconds> {
  const out = new Map<string, ImpactSeconds>();
  const from = dayStartMs(fromDay);
  const today = dayOf(now);
  for (let day = fromDay; day <= today; day = addDays(day, 1)) out.set(day, { major: 0, partial: 0, degraded: 0 });
  const clipped = spans
    .map((s) => ({ impact: s.impact, start: Math.max(s.start, from), end: Math.min(s.end ?? now, now) }))
    .filter((s) => s.end > s.start);
  if (clipped.length === 0) return out;
  // Segment boundaries: every span edge and every midnight in between; within a segment the set
  // of spans covering it does not change. A component has few spans, so the product stays small.
  const points = new Set<number>();
  for (const s of clipped) {
    points.add(s.start);
    points.add(s.end);
    for (let t = dayStartMs(dayOf(s.start)) + DAY_MS; t < s.end; t += DAY_MS) points.add(t);
  }
  const sorted = [...points].sort((a, b) => a - b);
  const ms = new Map<string, ImpactSeconds>();
  for (let i = 0; i + 1 < sorted.length; i++) {
    const a = sorted[i] as number;
    const b = sorted[i + 1] as number;
    let worst: Impact | undefined;
    for (const s of clipped) {
      if (s.start <= a && s.end >= b && (!worst || IMPACT_RANK[s.impact] > IMPACT_RANK[worst])) worst = s.impact;
    }
    if (!worst) continue;
    const day = dayOf(a);
    const acc = ms.get(day) ?? { major: 0, partial: 0, degraded: 0 };
    acc[SECONDS_KEY[worst]] += b - a;
    ms.set(day, acc);
  }
  for (const [day, acc] of ms) {
    const s = (ms: number) => Math.round(ms / 1000);
    out.set(day, { major: s(acc.major), partial: s(acc.partial), degraded: s(acc.degraded) });
  }
  return out;
}

/**
 * {@link daySeconds} of one span open from `start` to `now`, day by day without its segment
 * machinery: an incident open for weeks over 10,000 components is read on every page.
 */
export function openSpanSeconds(impact: Impact, start: number, now: number): Map<string, ImpactSeconds> {
  const out = new Map<string, ImpactSeconds>();
  const today = dayOf(now);
  for (let day = dayOf(start); day <= today; day = addDays(day, 1)) {
    const dayStart = dayStartMs(day);
    const ms = Math.max(0, Math.min(dayStart + DAY_MS, now) - Math.max(dayStart, start));
    const secs: ImpactSeconds = { major: 0, partial: 0, degraded: 0 };
    secs[SECONDS_KEY[impact]] = Math.round(ms / 1000);
    out.set(day, secs);
  }
  return out;
}

/** A day's seconds per state, maintenance included (raw window time, overlapping incidents or not). */
export interface DaySeconds extends ImpactSeconds {
  maintenance: number;
}

/**
 * History as read at `now`: per component, the days that were not fully operational (sparse: a
 * day absent here was operational, or has no data before `since`).
 */
export interface UptimeHistory {
  /** The first day shown (`HISTORY_DAYS - 1` days before `to`). */
  readonly from: string;
  /** Today. */
  readonly to: string;
  /** The first day with data: history started recording then (null: it never did). */
  readonly since: string | null;
  readonly now: number;
  readonly components: ReadonlyMap<string, ReadonlyMap<string, DaySeconds>>;
}

/** One day of one component, as the page, `/status.json` and the API show it. */
export interface HistoryDay {
  readonly day: string;
  /** Percent, 4 decimals; null when the day has no data. */
  readonly uptime: number | null;
  readonly worst: ComponentStatus | 'no_data';
  readonly seconds: {
    readonly major_outage: number;
    readonly partial_outage: number;
    readonly degraded_performance: number;
    readonly under_maintenance: number;
  };
}

/** A component's whole window in a few numbers. */
export interface HistorySummary {
  /** Percent over the days with data, 4 decimals; null when none has. */
  readonly uptime: number | null;
  /** Days with any published incident on the component (maintenance alone does not count). */
  readonly days_with_incidents: number;
}

const EMPTY: ReadonlyMap<string, DaySeconds> = new Map();

/** Every day of the window for one component, oldest first. */
export function componentDays(history: UptimeHistory, component: string, days = HISTORY_DAYS): HistoryDay[] {
  const rows = history.components.get(component) ?? EMPTY;
  const out: HistoryDay[] = [];
  for (let day = addDays(history.to, -(days - 1)); day <= history.to; day = addDays(day, 1)) {
    out.push(historyDay(history, day, rows.get(day)));
  }
  return out;
}

/** The days of one component that were not fully operational (what `/status.json` lists). */
export function notableDays(history: UptimeHistory, component: string): HistoryDay[] {
  const rows = history.components.get(component) ?? EMPTY;
  return [...rows.entries()]
    .filter(([day]) => day >= history.from && dataOn(history, day))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, s]) => historyDay(history, day, s));
}

export function componentSummary(history: UptimeHistory, component: string, days = HISTORY_DAYS): HistorySummary {
  const rows = history.components.get(component) ?? EMPTY;
  const from = addDays(history.to, -(days - 1));
  let down = 0;
  let incidentDays = 0;
  for (const [day, s] of rows) {
    if (day < from || !dataOn(history, day)) continue;
    down += s.major + PARTIAL_WEIGHT * s.partial;
    if (s.major + s.partial + s.degraded > 0) incidentDays++;
  }
  const elapsed = elapsedWithData(history, from);
  return { uptime: elapsed > 0 ? percent(1 - down / elapsed) : null, days_with_incidents: incidentDays };
}

const elapsedCache = new WeakMap<UptimeHistory, Map<string, number>>();

/**
 * Seconds of every day with data from `from` to now (clean days included: they have no row); the
 * same for every component, so computed once per read.
 */
function elapsedWithData(history: UptimeHistory, from: string): number {
  let known = elapsedCache.get(history);
  if (!known) elapsedCache.set(history, (known = new Map()));
  const cached = known.get(from);
  if (cached !== undefined) return cached;
  let elapsed = 0;
  const first = history.since === null ? undefined : history.since > from ? history.since : from;
  if (first !== undefined) {
    for (let day = first; day <= history.to; day = addDays(day, 1)) elapsed += elapsedSeconds(history, day);
  }
  known.set(from, elapsed);
  return elapsed;
}

/**
 * A component's history as `/status.json` publishes it: the window, its uptime, and the days that
 * were not fully operational (every other day from `since` was operational, at 100 %).
 */
export interface PublicHistory {
  readonly from: string;
  readonly to: string;
  readonly since: string | null;
  readonly uptime: number | null;
  readonly days_with_incidents: number;
  readonly days: readonly { readonly day: string; readonly uptime: number | null; readonly worst: HistoryDay['worst'] }[];
}

const published = new WeakMap<UptimeHistory, Map<string, PublicHistory>>();

/** Kept per history read: a read reused for several pages (src/api/routes/status.ts) is published once. */
export function publicHistory(history: UptimeHistory, component: string): PublicHistory {
  let known = published.get(history);
  if (!known) published.set(history, (known = new Map()));
  const cached = known.get(component);
  if (cached) return cached;
  const out = buildPublicHistory(history, component);
  known.set(component, out);
  return out;
}

function buildPublicHistory(history: UptimeHistory, component: string): PublicHistory {
  return {
    from: history.from,
    to: history.to,
    since: history.since,
    ...componentSummary(history, component),
    days: notableDays(history, component).map((d) => ({ day: d.day, uptime: d.uptime, worst: d.worst })),
  };
}

/** Every day of a published history, oldest first (what the page draws as bars). */
export function everyDay(h: PublicHistory): PublicHistory['days'] {
  const listed = new Map(h.days.map((d) => [d.day, d]));
  const out: PublicHistory['days'][number][] = [];
  for (let day = h.from; day <= h.to; day = addDays(day, 1)) {
    const noData = h.since === null || day < h.since;
    out.push(listed.get(day) ?? (noData ? { day, uptime: null, worst: 'no_data' } : { day, uptime: 100, worst: 'operational' }));
  }
  return out;
}

function dataOn(history: UptimeHistory, day: string): boolean {
  return history.since !== null && day >= history.since;
}

function elapsedSeconds(history: UptimeHistory, day: string): number {
  return day === history.to ? Math.max(1, Math.round((history.now - dayStartMs(day)) / 1000)) : DAY_MS / 1000;
}

function percent(ratio: number): number {
  return Math.round(Math.min(1, Math.max(0, ratio)) * 1_000_000) / 10_000;
}

function historyDay(history: UptimeHistory, day: string, s: DaySeconds | undefined): HistoryDay {
  const seconds = {
    major_outage: s?.major ?? 0,
    partial_outage: s?.partial ?? 0,
    degraded_performance: s?.degraded ?? 0,
    under_maintenance: s?.maintenance ?? 0,
  };
  if (!dataOn(history, day) && !(s && s.major + s.partial + s.degraded > 0)) {
    return { day, uptime: null, worst: 'no_data', seconds };
  }
  const down = seconds.major_outage + PARTIAL_WEIGHT * seconds.partial_outage;
  const worst: ComponentStatus =
    seconds.major_outage > 0
      ? 'major_outage'
      : seconds.partial_outage > 0
        ? 'partial_outage'
        : seconds.degraded_performance > 0
          ? 'degraded_performance'
          : seconds.under_maintenance > 0
            ? 'under_maintenance'
            : 'operational';
  return { day, uptime: percent(1 - down / elapsedSeconds(history, day)), worst, seconds };
}

/**
 * Reads history at `now` (of one component, or of every one): the stored day rows, plus what
 * open spans accrued since they were last counted, plus maintenance windows of the plan. Its
 * cost is the rows with something in them and the open spans, not components × days.
 */
export async function readHistory(
  store: Pick<UptimeStore, 'uptimeDays' | 'openUptimeSpans'> & Pick<IncidentStore, 'getState'>,
  plan: HistoryPlan,
  now: number,
  component?: string,
): Promise<UptimeHistory> {
  const to = dayOf(now);
  const from = addDays(to, -(HISTORY_DAYS - 1));
  const [rows, open, sinceMs] = await Promise.all([
    store.uptimeDays(from, to, component),
    store.openUptimeSpans(component),
    store.getState(HISTORY_SINCE_KEY),
  ]);
  const since = typeof sinceMs === 'number' && Number.isFinite(sinceMs) ? dayOf(sinceMs) : null;
  return assembleHistory({ rows, open, plan, now, since, component });
}

/** {@link readHistory} once the store has answered (pure). */
export function assembleHistory(input: {
  readonly rows: readonly UptimeDay[];
  readonly open: readonly UptimeSpan[];
  readonly plan: HistoryPlan;
  readonly now: number;
  readonly since: string | null;
  readonly component?: string | undefined;
}): UptimeHistory {
  const { rows, open, plan, now, since, component } = input;
  const to = dayOf(now);
  const from = addDays(to, -(HISTORY_DAYS - 1));
  const components = new Map<string, Map<string, DaySeconds>>();
  const at = (c: string, day: string): DaySeconds => {
    let days = components.get(c);
    if (!days) components.set(c, (days = new Map()));
    let s = days.get(day);
    if (!s) days.set(day, (s = { major: 0, partial: 0, degraded: 0, maintenance: 0 }));
    return s;
  };
  for (const r of rows) {
    const s = at(r.component, r.day);
    s.major += r.major;
    s.partial += r.partial;
    s.degraded += r.degraded;
  }
  // Open spans: the rows count them up to `counted`; from there to now, the worst open impact.
  const tails = new Map<string, { impact: Impact; from: number }>();
  for (const span of open) {
    const t = tails.get(span.component);
    if (!t) tails.set(span.component, { impact: span.impact, from: span.counted });
    else {
      if (IMPACT_RANK[span.impact] > IMPACT_RANK[t.impact]) t.impact = span.impact;
      t.from = Math.max(t.from, span.counted);
    }
  }
  const windowStart = dayStartMs(from);
  // The components of one large incident share their tail (same impact, counted at one write).
  const shared = new Map<string, Map<string, ImpactSeconds>>();
  for (const [c, tail] of tails) {
    const start = Math.max(tail.from, windowStart);
    if (start >= now) continue;
    const key = `${tail.impact}|${start}`;
    let secondsByDay = shared.get(key);
    if (!secondsByDay) {
      secondsByDay = openSpanSeconds(tail.impact, start, now);
      shared.set(key, secondsByDay);
    }
    for (const [day, secs] of secondsByDay) {
      const s = at(c, day);
      s.major += secs.major;
      s.partial += secs.partial;
      s.degraded += secs.degraded;
    }
  }
  for (const [c, days] of maintenanceSeconds(plan, from, now, component)) {
    for (const [day, seconds] of days) at(c, day).maintenance += seconds;
  }
  return { from, to, since, now, components };
}

/** Plans are frozen: each window compiled once, and a past day's occurrences found once. */
const compiledWindows = new WeakMap<MaintenanceSpec, Window>();
const pastDays = new WeakMap<MaintenanceSpec, Map<string, number>>();
const affected = new WeakMap<HistoryPlan, Map<string, readonly string[]>>();

/**
 * Seconds of maintenance per component and day from `from` to now (today so far): windows of the
 * plan on the component or on one it depends on. Overlapping windows are not merged (rare, and
 * maintenance changes no uptime figure: only the bar's colour on a day without incidents).
 */
export function maintenanceSeconds(
  plan: HistoryPlan,
  from: string,
  now: number,
  component?: string,
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  if (plan.maintenance.length === 0) return out;
  const today = dayOf(now);
  const members = affectedComponents(plan);
  for (const spec of plan.maintenance) {
    const who = members.get(spec.id) ?? [];
    const targets = component === undefined ? who : who.includes(component) ? [component] : [];
    if (targets.length === 0) continue;
    for (let day = from; day <= today; day = addDays(day, 1)) {
      const seconds = windowSecondsOn(spec, day, now);
      if (seconds <= 0) continue;
      for (const c of targets) {
        let days = out.get(c);
        if (!days) out.set(c, (days = new Map()));
        days.set(day, Math.min(DAY_MS / 1000, (days.get(day) ?? 0) + seconds));
      }
    }
  }
  return out;
}

/** Per window, the components it puts under maintenance (its own and their dependents). */
function affectedComponents(plan: HistoryPlan): Map<string, readonly string[]> {
  let map = affected.get(plan);
  if (map) return map;
  const topology = new Topology(
    plan.components.map((c) => ({ id: c.id, name: c.name, group: c.group, region: c.region, dependsOn: c.depends_on })),
  );
  map = new Map();
  for (const spec of plan.maintenance) {
    const under = plan.components.filter((c) => spec.components.some((m) => topology.dependsOn(c.id, m)));
    map.set(spec.id, under.map((c) => c.id));
  }
  affected.set(plan, map);
  return map;
}

/** Seconds of `spec`'s occurrences within `day` (up to `now`); past days are computed once. */
function windowSecondsOn(spec: MaintenanceSpec, day: string, now: number): number {
  const start = dayStartMs(day);
  const end = Math.min(start + DAY_MS, now);
  if (end <= start) return 0;
  const complete = start + DAY_MS <= now;
  const cached = complete ? pastDays.get(spec)?.get(day) : undefined;
  if (cached !== undefined) return cached;
  let ms = 0;
  for (const occ of occurrences(spec, start, end)) ms += Math.min(occ.end, end) - Math.max(occ.start, start);
  const seconds = Math.round(ms / 1000);
  if (complete) {
    let days = pastDays.get(spec);
    if (!days) pastDays.set(spec, (days = new Map()));
    days.set(day, seconds);
  }
  return seconds;
}

/** Occurrences of a window overlapping `[from, to)`. */
function occurrences(spec: MaintenanceSpec, from: number, to: number): { start: number; end: number }[] {
  if (spec.start !== undefined && spec.end !== undefined) {
    const start = Date.parse(spec.start);
    const end = Date.parse(spec.end);
    return start < to && end > from ? [{ start, end }] : [];
  }
  let window = compiledWindows.get(spec);
  if (!window) compiledWindows.set(spec, (window = compileWindow(spec)));
  const duration = spec.duration ?? 0;
  const out: { start: number; end: number }[] = [];
  const current = window.activeAt(from);
  if (current) out.push(current);
  // Starts after the one in progress at `from` (or from `from` on), each found after the last.
  const after = (t: number) => nextOccurrence(window, duration, t, to - 1);
  let next = after(current ? Math.max(current.start, from - 1) : from - 1);
  while (next && next.start < to) {
    out.push(next);
    next = after(next.start);
  }
  return out;
}
