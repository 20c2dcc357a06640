/**
 * What operators write themselves (docs/incidents.md, "Incidents operators write"): an incident
 * the detector did not draft (a customer's report, a vendor's outage, a post about last night),
 * and edits of a draft's or a published incident's title, components and impacts. Pure: the
 * caller passes the time, the author and a lookup of the config's components.
 *
 * An edit records what the operator set in the document's `overrides`, so the detector, which
 * goes on correlating into the incident, keeps it (src/engine/assessment.ts): an operator's title
 * is not rewritten, an impact they set is not changed, a component they removed is not listed
 * again by the same signals.
 */
import { randomBytes } from 'node:crypto';
import { IMPACT_WORDS, listWords } from './text.js';
import { IMPACTS } from '../events/incident.js';
import { type Impact, IMPACT_RANK, type Severity } from './types.js';
import { TocsinError } from '../errors.js';
import type { ComponentCatalog, ComponentImpact, ComponentInfo, IncidentEdit } from './edit-types.js';
import type { Incident, Overrides, TimelineEntry, UpdatePhase } from '../events/incident.js';

export type { ComponentCatalog, ComponentImpact, ComponentInfo, IncidentEdit } from './edit-types.js';

/** Built once per config: a reload replaces the list, and a config may hold 10,000 components. */
const catalogs = new WeakMap<object, ComponentCatalog>();

/** The lookup of a config's components (`plan.components`). */
export function componentCatalog(
  components: readonly ({ readonly id: string } & ComponentInfo)[],
): ComponentCatalog {
  const cached = catalogs.get(components);
  if (cached) return cached;
  const byId = new Map(components.map((c) => [c.id, c]));
  const catalog: ComponentCatalog = (id) => byId.get(id);
  catalogs.set(components, catalog);
  return catalog;
}

/** A public update: its text and phase (investigating, identified, monitoring, resolved). */
export interface PublicUpdateInput {
  readonly text: string;
  readonly phase?: UpdatePhase | undefined;
}

/** `POST /api/v1/incidents`, parsed: times as ms. */
export interface NewIncident {
  readonly title: string;
  readonly components: readonly ComponentImpact[];
  /** Default: now. */
  readonly openedAt?: number | undefined;
  /** Given: the incident is over (a retroactive post). */
  readonly resolvedAt?: number | undefined;
  readonly update?: PublicUpdateInput | undefined;
}

/** How far ahead of the daemon's clock an operator's time may be (clocks of laptops drift). */
export const FUTURE_SKEW_MS = 60_000;

/** Components named in an edit's entry before "and N more". */
const NAMED = 5;

/** Severity from impacts, as the detector derives it (CONTRACT §5.5). */
export function severityOfImpacts(root: string, components: readonly ComponentImpact[]): Severity {
  let majors = 0;
  let worst = 0;
  for (const c of components) {
    if (c.impact === 'major_outage') {
      majors++;
      if (c.id === root) return 'critical';
    }
    worst = Math.max(worst, IMPACT_RANK[c.impact]);
  }
  if (majors >= 3) return 'critical';
  return worst >= IMPACT_RANK.partial_outage ? 'major' : 'minor';
}

/** The components' regions, sorted, each once. */
function regionsOf(components: readonly ComponentImpact[], catalog: ComponentCatalog): string[] {
  const regions = new Set<string>();
  for (const c of components) {
    const region = catalog(c.id)?.region;
    if (region) regions.add(region);
  }
  return [...regions].sort();
}

/** The list with `root` first, the rest in the operator's order. */
function rootFirst(root: string, components: readonly ComponentImpact[]): ComponentImpact[] {
  const first = components.find((c) => c.id === root);
  return first ? [first, ...components.filter((c) => c.id !== root)] : [...components];
}

/**
 * The first problem with the components (unknown, listed twice), as an INVALID message naming
 * `field` (`components`, or an edit's `set`), if any.
 */
export function componentsProblem(
  components: readonly ComponentImpact[],
  catalog: ComponentCatalog,
  field = 'components',
): string | undefined {
  const seen = new Set<string>();
  for (const [i, c] of components.entries()) {
    if (!catalog(c.id)) return `${field}.${i}.id: no component ${c.id} in the config`;
    if (seen.has(c.id)) return `${field}.${i}.id: ${c.id} is listed twice`;
    seen.add(c.id);
  }
  return undefined;
}

const invalid = (message: string): TocsinError => new TocsinError('INVALID', message);

/**
 * An operator-written incident, published (review `confirmed`). Its timeline reads as the
 * detector's do: `opened` at `opened_at` carrying the first update (the title when none), a
 * `resolved` at `resolved_at` for a retroactive post, then `confirmed` now, written by `by`.
 * Throws INVALID naming the field for unknown components or impossible times.
 */
export function newOperatorIncident(input: NewIncident, by: string, now: number, catalog: ComponentCatalog): Incident {
  const problem = componentsProblem(input.components, catalog);
  if (problem) throw invalid(problem);
  const opened = input.openedAt ?? now;
  if (opened > now + FUTURE_SKEW_MS) throw invalid('opened_at: must not be in the future');
  if (input.resolvedAt !== undefined) {
    if (input.resolvedAt > now + FUTURE_SKEW_MS) throw invalid('resolved_at: must not be in the future');
    if (input.resolvedAt < opened) throw invalid('resolved_at: must not be before opened_at');
  }
  const id = `inc_${randomBytes(10).toString('hex')}`;
  const root = input.components[0]?.id;
  if (root === undefined) throw invalid('components: must not be empty');
  const openedAt = new Date(opened).toISOString();
  const first: TimelineEntry = {
    at: openedAt,
    kind: 'opened',
    text: input.update?.text ?? input.title,
    author: by,
    ...(input.update?.phase ? { phase: input.update.phase } : {}),
  };
  const resolvedAt = input.resolvedAt === undefined ? null : new Date(input.resolvedAt).toISOString();
  const timeline: TimelineEntry[] = [first];
  if (resolvedAt) timeline.push({ at: resolvedAt, kind: 'resolved', text: `Resolved by ${by}`, author: by });
  const retro = resolvedAt ? ` (retroactive: resolved at ${resolvedAt.slice(11, 16)} UTC)` : '';
  // Never before the entries above: a post written "now" about a time a few seconds ahead.
  const confirmedAt = new Date(Math.max(now, opened, input.resolvedAt ?? opened)).toISOString();
  timeline.push({ at: confirmedAt, kind: 'confirmed', text: `Confirmed by ${by}${retro}`, author: by });
  return {
    id,
    title: input.title,
    status: resolvedAt ? 'resolved' : 'open',
    review: 'confirmed',
    severity: severityOfImpacts(root, input.components),
    opened_at: openedAt,
    resolved_at: resolvedAt,
    root_component: root,
    components: [...input.components],
    regions: regionsOf(input.components, catalog),
    signals: [],
    timeline,
    // Its own: no failure the detector sees is "the same" as an operator's post.
    fingerprint: `operator:${id}`,
    origin: 'operator',
  };
}

/**
 * An edit applied to `doc`: the new document and its `edited` entry, in words a status-page
 * reader understands. INVALID when it changes nothing or names unknown components; CONFLICT on
 * a dismissed incident (not an incident: nothing to publish).
 */
export function applyEdit(
  doc: Incident,
  edit: IncidentEdit,
  by: string,
  at: string,
  catalog: ComponentCatalog,
): { incident: Incident; entry: TimelineEntry } {
  if (doc.review === 'dismissed') throw new TocsinError('CONFLICT', `incident ${doc.id} is dismissed: only drafts and published incidents are edited`);
  const overrides: Overrides = { ...doc.overrides, at };
  const said: string[] = [];
  let next: Incident = { ...doc };
  const title = edit.title?.trim();
  if (title !== undefined && title !== doc.title) {
    next.title = title;
    overrides.title = true;
    said.push(`Title changed to “${title}”.`);
  }
  const edited = editedComponents(doc, edit, catalog);
  if (edited) {
    const listed = new Map(edited.map((c) => [c.id, c.impact]));
    const before = new Map(doc.components.map((c) => [c.id, c.impact]));
    const name = (id: string) => catalog(id)?.name ?? id;
    const impacts = { ...overrides.impacts };
    const set: string[] = [];
    for (const c of edited) {
      if (before.get(c.id) === c.impact) continue;
      impacts[c.id] = c.impact;
      set.push(`${name(c.id)}: ${IMPACT_WORDS[c.impact]}`);
    }
    const removed = doc.components.filter((c) => !listed.has(c.id)).map((c) => c.id);
    for (const id of removed) delete impacts[id];
    const removedSet = new Set([...(overrides.removed ?? []).filter((id) => !listed.has(id)), ...removed]);
    if (set.length > 0 || removed.length > 0) {
      const root = listed.has(doc.root_component) ? doc.root_component : (edited[0]?.id ?? doc.root_component);
      const components = rootFirst(root, edited);
      const severity = severityOfImpacts(root, components);
      next = { ...next, root_component: root, components, severity, regions: regionsOf(components, catalog) };
      overrides.impacts = impacts;
      overrides.removed = [...removedSet];
      if (set.length > 0) said.push(`Impact: ${listWords(set, NAMED)}.`);
      if (removed.length > 0) said.push(`No longer affected: ${listWords(removed.map(name), NAMED)}.`);
    }
  }
  if (said.length === 0) throw invalid('body: nothing to change (the title and components are as given)');
  const entry: TimelineEntry = { at, kind: 'edited', text: said.join(' '), author: by };
  return { incident: { ...next, overrides, timeline: [...doc.timeline, entry] }, entry };
}

/**
 * The component list an edit leaves, or undefined when it leaves the list alone: the whole list
 * it gives, or the stored one with its changes applied. Changes are applied here, to the
 * document the writer read, never to a list the operator read earlier: a component the detector
 * added since stays. INVALID when the list would be empty, for unknown components, or for both
 * forms at once.
 */
function editedComponents(
  doc: Incident,
  edit: IncidentEdit,
  catalog: ComponentCatalog,
): readonly ComponentImpact[] | undefined {
  const changes = edit.set !== undefined || edit.remove !== undefined;
  if (edit.components) {
    if (changes) throw invalid('components: the whole list, or changes (set, remove), not both');
    const problem = componentsProblem(edit.components, catalog);
    if (problem) throw invalid(problem);
    if (edit.components.length === 0) throw invalid('components: must list at least one component');
    return edit.components;
  }
  if (!changes) return undefined;
  const problem = componentsProblem(edit.set ?? [], catalog, 'set');
  if (problem) throw invalid(problem);
  const list = editedList(doc.components, edit.set ?? [], edit.remove ?? []);
  if (!list.ok) throw invalid(`remove: ${list.message}`);
  if (list.value.length === 0) throw invalid('remove: an incident keeps at least one component');
  return list.value;
}

/** `major`, `partial`, `degraded` (the list views' words) as well as the impacts' own names. */
const IMPACT_NAMES: ReadonlyMap<string, Impact> = new Map<string, Impact>([
  ...IMPACTS.map((i): [string, Impact] => [i, i]),
  ['major', 'major_outage'],
  ['partial', 'partial_outage'],
  ['degraded', 'degraded_performance'],
]);

/** `api=major` (the CLI's `--component`, a console line): the component and its impact, or why not. */
export function parseComponentImpact(
  text: string,
): { ok: true; value: ComponentImpact } | { ok: false; message: string } {
  const eq = text.lastIndexOf('=');
  const id = eq > 0 ? text.slice(0, eq).trim() : '';
  const impact = IMPACT_NAMES.get(text.slice(eq + 1).trim());
  if (id === '' || !impact) {
    return { ok: false, message: `expected ID=IMPACT, IMPACT one of ${IMPACTS.join(', ')} (or major, partial, degraded), got "${text}"` };
  }
  return { ok: true, value: { id, impact } };
}

/**
 * The current list with impacts set (a component not listed is added, last) and components
 * removed. Unknown removals are named: a typo must not pass for "nothing to remove"; so is a
 * component both set and removed.
 */
export function editedList(
  current: readonly ComponentImpact[],
  set: readonly ComponentImpact[],
  remove: Iterable<string>,
): { ok: true; value: ComponentImpact[] } | { ok: false; message: string } {
  const known = new Set(current.map((c) => c.id));
  const removed = new Set(remove);
  const impacts = new Map(set.map((c) => [c.id, c.impact]));
  for (const r of removed) {
    if (!known.has(r)) return { ok: false, message: `${r} is not a component of this incident` };
    if (impacts.has(r)) return { ok: false, message: `${r} is also in set` };
  }
  const value = current
    .filter((c) => !removed.has(c.id))
    .map((c) => ({ id: c.id, impact: impacts.get(c.id) ?? c.impact }))
    .concat(set.filter((c) => !known.has(c.id)));
  return { ok: true, value };
}
