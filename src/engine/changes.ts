/**
 * What one engine call changed. Every layer that edits an incident document first `touch`es it,
 * recording the timeline length before the call, so the call can return each changed incident
 * once, whole, with exactly the timeline entries it appended (the store appends those: the
 * timeline is append-only). Kept apart so the layers that write incidents (lifecycle,
 * assessment, maintenance holds) share one way of doing it without depending on each other.
 *
 * Documents are edited in place (arrays pushed to, elements replaced, never mutated), so a
 * change costs what it changes; a returned document is a copy of the arrays, not of their
 * elements. Entries about single components written within one coalescing window are one
 * entry when there are many of them ("312 more components affected: …"): a zone failure is a
 * few entries, not one per app (CONTRACT §5.11).
 */
import type { Incident, TimelineEntry } from '../events/incident.js';
import type { EngineContext } from './context.js';
import { cmp, type HeldEntry, type IncState } from './state.js';
import { iso, listWords, plural } from './text.js';
import type { IncidentChange } from './types.js';

/** More entries of one kind about single components than this, in one window, become one. */
export const COALESCE_OVER = 3;
/**
 * How long entries about single components wait to be coalesced: one evaluation period of a
 * storm (checks of a 30 s interval complete spread over it), so a zone failing is a few entries,
 * not one per app. The document's components change at once; only their sentences wait.
 */
export const COALESCE_MS = 10_000;
/** Components a coalesced entry names before "and N more". */
const NAMED = 3;

type Kind = TimelineEntry['kind'];

/** Kinds that say something about one component, and how many of them read as one sentence. */
const COALESCED: Partial<Record<Kind, (n: number, names: string) => string>> = {
  component_added: (n, names) => `${plural(n, 'more component')} affected: ${names}.`,
  signal_added: (n, names) => `More failures on ${plural(n, 'component')}: ${names}.`,
  impact_changed: (n, names) => `Impact changed on ${plural(n, 'component')}: ${names}.`,
  recovered: (n, names) => `${plural(n, 'component')} available again: ${names}.`,
};

export function touch(ctx: EngineContext, inc: IncState): void {
  ctx.version++;
  if (!ctx.touches.has(inc.doc.id)) ctx.touches.set(inc.doc.id, { from: inc.doc.timeline.length, opened: false });
}

/**
 * Appends a timeline entry by Tocsin, stamped with the virtual clock. An entry about one
 * component (`subject` names it) of a kind that coalesces is held for up to COALESCE_MS with the
 * others of its window; any other entry first writes out what is held, so the order holds.
 */
export function entry(ctx: EngineContext, inc: IncState, kind: Kind, text: string, subject?: string): void {
  const at = ctx.state.now;
  if (subject !== undefined && COALESCED[kind]) {
    (inc.held ??= []).push({ at, kind, text, subject });
    return;
  }
  writeHeld(ctx, inc);
  touch(ctx, inc);
  inc.doc.timeline.push({ at: iso(at), kind, text, author: 'tocsin' });
}

/** The incident's document as a value the caller may keep: the engine goes on editing its own. */
export function docCopy(doc: Incident): Incident {
  return {
    ...doc,
    components: doc.components.slice(),
    regions: doc.regions.slice(),
    signals: doc.signals.slice(),
    timeline: doc.timeline.slice(),
  };
}

/**
 * Writes the incident's held entries: per kind, more than COALESCE_OVER become one entry at the
 * place and time of the first ("312 more components affected: …"); fewer are written as they are.
 */
export function writeHeld(ctx: EngineContext, inc: IncState): void {
  const held = inc.held;
  if (!held || held.length === 0) return;
  inc.held = [];
  touch(ctx, inc);
  const byKind = new Map<Kind, HeldEntry[]>();
  for (const h of held) {
    const g = byKind.get(h.kind);
    if (g) g.push(h);
    else byKind.set(h.kind, [h]);
  }
  for (const h of held) {
    const group = byKind.get(h.kind) ?? [];
    const words = COALESCED[h.kind];
    if (group.length <= COALESCE_OVER || !words) {
      inc.doc.timeline.push({ at: iso(h.at), kind: h.kind, text: h.text, author: 'tocsin' });
    } else if (group[0] === h) {
      const names = [...new Set(group.map((g) => g.subject))];
      inc.doc.timeline.push({ at: iso(h.at), kind: h.kind, text: words(names.length, listWords(names, NAMED)), author: 'tocsin' });
    }
  }
}

/** Writes held entries older than the coalescing window (all of them with `all`). */
export function writeDueHeld(ctx: EngineContext, all: boolean): void {
  for (const inc of Object.values(ctx.state.incidents)) {
    const first = inc.held?.[0];
    if (first && (all || ctx.state.now - first.at >= COALESCE_MS)) writeHeld(ctx, inc);
  }
}

/** The changes since the last call, oldest incident first, and forgets them. */
export function collectChanges(ctx: EngineContext): IncidentChange[] {
  if (ctx.touches.size === 0) return [];
  const { state } = ctx;
  const out: IncidentChange[] = [];
  const ids = [...ctx.touches.keys()].sort((a, b) => {
    const da = state.incidents[a]?.doc.opened_at ?? '';
    const db = state.incidents[b]?.doc.opened_at ?? '';
    return cmp(da, db) || cmp(a, b);
  });
  for (const id of ids) {
    const inc = state.incidents[id];
    const t = ctx.touches.get(id);
    if (!inc || !t) continue;
    const doc = docCopy(inc.doc);
    // Only a new draft's detection delay is measured: no scan of a large incident's signals.
    let first = Number.POSITIVE_INFINITY;
    if (t.opened) for (const s of doc.signals) first = Math.min(first, Date.parse(s.since));
    out.push({
      incident: doc,
      appended: doc.timeline.slice(t.from),
      opened: t.opened,
      rule: doc.signals[0]?.rule ?? '',
      firstFailureMs: Number.isFinite(first) ? first : Date.parse(doc.opened_at),
    });
  }
  ctx.touches = new Map();
  return out;
}
