import { z } from 'zod';
import { type IMPACTS, Incident, type Signal } from './incident.js';

/**
 * Large incidents stay readable (CONTRACT §5.11): a zone failure is one incident with thousands of
 * components and signals, and the stored document keeps them all (replay prints whole documents).
 * Every edge that shows an incident to a person or a client (API, CLI, console, status page,
 * notifications) summarises it here, in one way: counts per impact, counts per rule, and the
 * first components and signals in document order (the detector writes the root first).
 * Pure: the same document gives the same summary.
 */

export type Impact = (typeof IMPACTS)[number];
export type IncidentComponent = Incident['components'][number];

/** How many of the incident's components have each impact; `total` is their number. */
export const ComponentCounts = z.object({
  total: z.number().int(),
  degraded_performance: z.number().int(),
  partial_outage: z.number().int(),
  major_outage: z.number().int(),
});
export type ComponentCounts = z.infer<typeof ComponentCounts>;

/** How many signals the incident has, and how many per rule (in order of first appearance). */
export const SignalCounts = z.object({
  total: z.number().int(),
  by_rule: z.record(z.string(), z.number().int()),
});
export type SignalCounts = z.infer<typeof SignalCounts>;

/**
 * The incident document as the API, the CLI's `--json` and the webhook carry it: the stored
 * document (CONTRACT §4) whose `components` and `signals` hold at most a cap (the first ones in
 * document order), with the counts and whether anything was left out. An incident under the caps
 * is the stored document plus the four added fields.
 */
export const SummarisedIncident = Incident.extend({
  component_counts: ComponentCounts.describe('components per impact, over all of them (not only those listed)'),
  components_truncated: z
    .boolean()
    .describe('`components` lists only the first ones: the rest via `GET /api/v1/incidents/{id}/components` or `?components=all`'),
  signal_counts: SignalCounts.describe('signals in all and per rule, over all of them (not only those listed)'),
  signals_truncated: z
    .boolean()
    .describe('`signals` lists only the first ones: the rest via `GET /api/v1/incidents/{id}/signals` or `?signals=all`'),
});
export type SummarisedIncident = z.infer<typeof SummarisedIncident>;

/** Components and signals the API and the webhook list by default. */
export const API_LIST_LIMIT = 100;
/** The largest cap a client may ask for (`?components=N`); past it, `all` or the paginated routes. */
export const MAX_LIST_LIMIT = 1000;
/** Components and signals a page read by a person lists (console, status page, CLI tables, markdown). */
export const PAGE_LIST_LIMIT = 20;
/** Components a chat message lists (Slack sections are short). */
export const CHAT_LIST_LIMIT = 10;

/** A cap on a list: a number of entries, or `all`. */
export type ListLimit = number | 'all';

export interface SummaryLimits {
  readonly components: ListLimit;
  readonly signals: ListLimit;
}

export const API_LIMITS: SummaryLimits = { components: API_LIST_LIMIT, signals: API_LIST_LIMIT };

/** What a renderer needs: counts, the first entries, and how many were left out. */
export interface IncidentSummary {
  readonly componentCounts: ComponentCounts;
  /** The first components, in document order. */
  readonly components: readonly IncidentComponent[];
  /** Components not in `components`. */
  readonly moreComponents: number;
  readonly signalCounts: SignalCounts;
  /** The first signals, in document order. */
  readonly signals: readonly Signal[];
  /** Signals not in `signals`. */
  readonly moreSignals: number;
}

export function componentCounts(components: readonly IncidentComponent[]): ComponentCounts {
  const counts = { total: components.length, degraded_performance: 0, partial_outage: 0, major_outage: 0 };
  for (const c of components) counts[c.impact]++;
  return counts;
}

export function signalCounts(signals: readonly Signal[]): SignalCounts {
  const byRule = new Map<string, number>();
  for (const s of signals) byRule.set(s.rule, (byRule.get(s.rule) ?? 0) + 1);
  // fromEntries defines own properties: a rule named like an Object.prototype key stays data.
  return { total: signals.length, by_rule: Object.fromEntries(byRule) };
}

function first<T>(items: readonly T[], limit: ListLimit): readonly T[] {
  return limit === 'all' || items.length <= limit ? items : items.slice(0, Math.max(0, limit));
}

/** Counts and the first entries of an incident (for renderers). */
export function summariseIncident(inc: Pick<Incident, 'components' | 'signals'>, limits: SummaryLimits): IncidentSummary {
  const components = first(inc.components, limits.components);
  const signals = first(inc.signals, limits.signals);
  return {
    componentCounts: componentCounts(inc.components),
    components,
    moreComponents: inc.components.length - components.length,
    signalCounts: signalCounts(inc.signals),
    signals,
    moreSignals: inc.signals.length - signals.length,
  };
}

/**
 * The API's form of a stored document: every field in its place, `components` and `signals` cut to
 * the limits, the counts and the `*_truncated` flags added last. Also accepts a document already
 * summarised (its counts are kept: they cover entries a previous cut left out).
 */
export function summariseDocument(
  inc: Incident | SummarisedIncident,
  limits: SummaryLimits = API_LIMITS,
): SummarisedIncident {
  const prior = 'component_counts' in inc ? inc : undefined;
  const components = first(inc.components, limits.components);
  const signals = first(inc.signals, limits.signals);
  return {
    ...inc,
    components: [...components],
    signals: [...signals],
    component_counts: prior?.component_counts ?? componentCounts(inc.components),
    components_truncated: (prior?.components_truncated ?? false) || components.length < inc.components.length,
    signal_counts: prior?.signal_counts ?? signalCounts(inc.signals),
    signals_truncated: (prior?.signals_truncated ?? false) || signals.length < inc.signals.length,
  };
}

/** The counts of a document from the API, or computed when an older daemon sent none. */
export function countsOf(inc: Incident | SummarisedIncident): { components: ComponentCounts; signals: SignalCounts } {
  if ('component_counts' in inc) return { components: inc.component_counts, signals: inc.signal_counts };
  return { components: componentCounts(inc.components), signals: signalCounts(inc.signals) };
}

/** The cursor of a component in the paginated list: its id (unique within an incident). */
export function componentCursor(c: IncidentComponent): string {
  return c.id;
}

/**
 * The cursor of a signal in the paginated list: `<rule>/<probe>` (a document has one signal per
 * rule and probe; rule names have no `/`, so the first one separates them).
 */
export function signalCursor(s: Pick<Signal, 'rule' | 'probe'>): string {
  return `${s.rule}/${s.probe}`;
}

export type Page<T> =
  | { readonly ok: true; readonly items: T[]; readonly next_cursor: string | null }
  | { readonly ok: false; readonly unknownCursor: string };

/**
 * One page of `items` after the entry whose cursor is `cursor` (from the start without one), in
 * the list endpoint's style: `next_cursor` is the cursor of the page's last entry when more
 * follow, null on the last page; an unknown cursor is reported, not guessed at.
 */
export function pageAfter<T>(
  items: readonly T[],
  cursorOf: (item: T) => string,
  cursor: string | undefined,
  limit: number,
): Page<T> {
  let start = 0;
  if (cursor !== undefined) {
    const at = items.findIndex((item) => cursorOf(item) === cursor);
    if (at < 0) return { ok: false, unknownCursor: cursor };
    start = at + 1;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + page.length < items.length;
  return { ok: true, items: page, next_cursor: more && last !== undefined ? cursorOf(last) : null };
}

const IMPACT_ORDER: readonly Impact[] = ['major_outage', 'partial_outage', 'degraded_performance'];

/** The impacts present, worst first, with their counts: for "9,000 major outage, 1,000 partial outage". */
export function impactBreakdown(counts: ComponentCounts): { impact: Impact; count: number }[] {
  return IMPACT_ORDER.filter((impact) => counts[impact] > 0).map((impact) => ({ impact, count: counts[impact] }));
}

/** `12,345`: counts a person reads, grouped by thousands, the same on every machine. */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1 component`, `10,000 components`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/**
 * Bounded listing for boards of many entries (a component group of 10,000 apps): up to `limit`
 * entries, chosen among the `preferred` ones first (those in trouble), then the others, shown in
 * their given order; how many were left out.
 */
export function firstPreferred<T>(
  items: readonly T[],
  preferred: (item: T) => boolean,
  limit: number,
): { shown: T[]; more: number } {
  if (items.length <= limit) return { shown: [...items], more: 0 };
  const chosen = new Set<number>();
  items.forEach((item, i) => {
    if (chosen.size < limit && preferred(item)) chosen.add(i);
  });
  items.forEach((item, i) => {
    if (chosen.size < limit && !preferred(item)) chosen.add(i);
  });
  const shown = items.filter((_, i) => chosen.has(i));
  return { shown, more: items.length - shown.length };
}
