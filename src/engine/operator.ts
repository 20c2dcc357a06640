/**
 * Operators' verbs as the engine sees them, and what it takes from the store.
 *
 * The store is the truth for what operators did (the review, a resolution by hand, their
 * timeline entries) and for every entry written; the engine owns detection (series, signals,
 * which incident a signal belongs to) and keeps a copy of each incident it tracks that follows
 * the store (docs/design.md, "One source of truth"). The daemon applies a verb to the stored
 * document first and tells the engine only once it is durable (`recordStoredVerb`): a verb that
 * failed changed nothing here. `followStored` takes operators' changes made elsewhere (another
 * process of the fleet), and `reconcileWithStore` realigns a restored snapshot with the store.
 */
import type { Incident, TimelineEntry } from '../events/incident.js';
import { applyOperatorAction, lastStatusEntry, resolvedByHand } from './transitions.js';
import { TocsinError } from '../errors.js';
import { touch, writeHeld } from './changes.js';
import type { EngineContext } from './context.js';
import { incIndex } from './incident-index.js';
import { adoptStored } from './lifecycle.js';
import type { IncState } from './state.js';
import type { OperatorAction } from './types.js';

/** A verb applied to the engine's own copy (replays, tests): its entry is part of the change. */
export function applyVerb(ctx: EngineContext, action: OperatorAction): void {
  const inc = ctx.state.incidents[action.incidentId];
  if (!inc) throw new TocsinError('NOT_FOUND', `no incident ${action.incidentId}`);
  writeHeld(ctx, inc);
  const result = applyOperatorAction(inc.doc, action);
  if (!result.ok) throw result.error;
  touch(ctx, inc);
  inc.doc.timeline.push(result.entry);
  takeOperatorFields(ctx, inc, result.incident, action.action === 'resolve');
}

/**
 * A verb already stored: `stored` is the document as saved, `entry` the verb's timeline entry.
 * The entry is placed before the detector's entries not collected yet (the store has it before
 * them) and is never part of a detector change: it is written already.
 */
export function recordStoredVerb(
  ctx: EngineContext,
  action: OperatorAction,
  stored: Incident,
  entry: TimelineEntry,
): void {
  const inc = ctx.state.incidents[action.incidentId];
  if (!inc) return;
  const t = ctx.touches.get(inc.doc.id);
  if (t) {
    inc.doc.timeline.splice(t.from, 0, entry);
    t.from++;
  } else {
    inc.doc.timeline.push(entry);
  }
  takeOperatorFields(ctx, inc, stored, action.action === 'resolve');
}

/** Operators' changes found in the store (made by another process): review, edits and resolution by hand. */
export function followStored(ctx: EngineContext, stored: Incident): void {
  const inc = ctx.state.incidents[stored.id];
  if (inc) takeOperatorFields(ctx, inc, stored, resolvedElsewhere(inc, stored));
}

/**
 * After a restore: the snapshot may be older than the store (operators wrote after it was
 * saved) or newer (its last changes never reached the store before a kill -9). For each
 * incident the engine tracks, the stored timeline is kept whole, the operators' fields are
 * taken from it, and what the engine wrote that the store lacks (entries and its detection
 * fields) is touched so the next collection writes it. An incident the store never got is
 * written as new. Stored incidents the engine does not know are adopted when open or
 * resolved within the reopen cool-down.
 */
export function reconcileWithStore(
  ctx: EngineContext,
  stored: ReadonlyMap<string, Incident>,
  recentInStore: readonly Incident[],
): void {
  ctx.version++;
  for (const inc of Object.values(ctx.state.incidents)) {
    const doc = stored.get(inc.doc.id);
    if (!doc) {
      // Never stored: the whole document is new to the store.
      ctx.touches.set(inc.doc.id, { from: 0, opened: true });
      continue;
    }
    const key = (e: TimelineEntry) => `${e.at}|${e.kind}|${e.author}|${e.text}`;
    const have = new Set(doc.timeline.map(key));
    const missing = inc.doc.timeline.filter((e) => !have.has(key(e)));
    const byHand = resolvedElsewhere(inc, doc);
    inc.doc.timeline = [...doc.timeline, ...missing];
    if (doc.status === 'open' && inc.doc.status === 'resolved' && !missing.some((e) => e.kind === 'resolved')) {
      // Reopened after the snapshot: open again, as adopted (it resolves, with its entry, if
      // no signal joins within the grace) rather than resolved without a word.
      inc.doc.status = 'open';
      inc.doc.resolved_at = null;
      inc.resolvedAtMs = Number.NaN;
      inc.adoptedAt = ctx.state.now;
    }
    takeOperatorFields(ctx, inc, doc, byHand);
    if (missing.length > 0 || fieldsText(inc.doc) !== fieldsText(doc)) {
      ctx.touches.set(inc.doc.id, { from: doc.timeline.length, opened: false });
    }
  }
  adoptStored(ctx, recentInStore);
}

/**
 * Whether `stored` was resolved by an operator in a way the engine has not seen: a store that
 * is merely behind the engine (resolved by Tocsin before the engine reopened it) is not.
 */
function resolvedElsewhere(inc: IncState, stored: Incident): boolean {
  if (!resolvedByHand(stored)) return false;
  const last = lastStatusEntry(stored.timeline);
  const seen = last && inc.doc.timeline.some((e) => e.at === last.at && e.author === last.author && e.kind === 'resolved');
  return !seen;
}

/**
 * The review, an edit, a resolution by hand (when `byHand`) and dismissal's memory (CONTRACT
 * §5.9), from `doc`.
 */
function takeOperatorFields(ctx: EngineContext, inc: IncState, doc: Incident, byHand: boolean): void {
  ctx.version++;
  // Only on the change: a component's memory of a dismissal ends when a new draft names it, and
  // following the same dismissed document again must not bring it back.
  if (doc.review === 'dismissed' && inc.doc.review !== 'dismissed') {
    const dismissed = (ctx.state.dismissed ??= {});
    for (const c of inc.affected) dismissed[c] = inc.doc.id;
  }
  inc.doc.review = doc.review;
  if (doc.overrides && doc.overrides.at !== inc.doc.overrides?.at) takeEdit(ctx, inc, doc);
  if (byHand && doc.status === 'resolved' && inc.doc.status === 'open') {
    inc.doc.status = 'resolved';
    inc.doc.resolved_at = doc.resolved_at;
    const at = Date.parse(doc.resolved_at ?? '');
    inc.resolvedAtMs = Math.max(Number.isFinite(at) ? at : ctx.state.now, ctx.state.now);
  }
}

/**
 * An operator's edit (src/engine/edit.ts) found in the stored document: its title, components
 * and impacts replace the engine's, and its `overrides` tell recompute what to keep. Components
 * an operator added become affected (their failures join this incident); the incident's lookups
 * are rebuilt from the edited document. Runs once per edit, not per event.
 */
function takeEdit(ctx: EngineContext, inc: IncState, doc: Incident): void {
  const x = incIndex(ctx, inc);
  const pinned = doc.overrides?.impacts ?? {};
  for (const c of doc.components) {
    if (c.id in pinned && c.id !== doc.root_component && !x.affected.has(c.id)) inc.affected.push(c.id);
  }
  Object.assign(inc.doc, {
    title: doc.title,
    root_component: doc.root_component,
    components: doc.components.slice(),
    severity: doc.severity,
    regions: doc.regions.slice(),
    overrides: doc.overrides,
  });
  ctx.incIdx.delete(inc.doc.id);
}

/** A document's fields without its timeline, as text (compared once per incident after a restore). */
function fieldsText(doc: Incident): string {
  const { timeline: _timeline, ...fields } = doc;
  return JSON.stringify(fields);
}
