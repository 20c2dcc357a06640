/**
 * What one engine call changed. Every layer that edits an incident document first `touch`es it,
 * recording the timeline length before the call, so the call can return each changed incident
 * once, whole, with exactly the timeline entries it appended (the store appends those: the
 * timeline is append-only). Kept apart so the layers that write incidents (lifecycle,
 * assessment, maintenance holds) share one way of doing it without depending on each other.
 */
import type { TimelineEntry } from '../incidents/incident.js';
import type { EngineContext } from './context.js';
import { cmp, type IncState } from './state.js';
import { iso } from './text.js';
import type { IncidentChange } from './types.js';

export function touch(ctx: EngineContext, inc: IncState): void {
  if (!ctx.touches.has(inc.doc.id)) ctx.touches.set(inc.doc.id, { from: inc.doc.timeline.length, opened: false });
}

/** Appends a timeline entry by Tocsin, stamped with the virtual clock. */
export function entry(ctx: EngineContext, inc: IncState, kind: TimelineEntry['kind'], text: string): void {
  touch(ctx, inc);
  inc.doc = { ...inc.doc, timeline: [...inc.doc.timeline, { at: iso(ctx.state.now), kind, text, author: 'tocsin' }] };
}

/** The changes since the last call, oldest incident first, and forgets them. */
export function collectChanges(ctx: EngineContext): IncidentChange[] {
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
    const doc = structuredClone(inc.doc);
    const first = doc.signals.reduce((m, s) => Math.min(m, Date.parse(s.since)), Number.POSITIVE_INFINITY);
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
