import type { OperatorAction } from './types.js';
import { TocsinError } from '../errors.js';
import { applyEdit } from './edit.js';
import type { Incident, TimelineEntry } from '../events/incident.js';

/**
 * The operator side of the lifecycle, as one pure function shared by the engine (incidents it
 * tracks) and the incident manager (older incidents only the store knows).
 *
 * review: pending → confirmed | dismissed (both final: confirming a dismissed incident, or
 * dismissing a confirmed one, is a CONFLICT). status: open → resolved by hand (CONFLICT when
 * already resolved). Notes are always allowed; a note may carry a public update phase. Edits
 * (edit.ts) apply to drafts and published incidents, not to dismissed ones. Confirming a
 * resolved draft is allowed: that is how a short outage is published after the fact (SCENARIOS
 * S8, "retroactive").
 */
export type TransitionResult =
  | { readonly ok: true; readonly incident: Incident; readonly entry: TimelineEntry }
  | { readonly ok: false; readonly error: TocsinError };

export function applyOperatorAction(doc: Incident, action: OperatorAction): TransitionResult {
  const at = new Date(action.at).toISOString();
  const fail = (code: 'CONFLICT' | 'INVALID', message: string): TransitionResult => ({
    ok: false,
    error: new TocsinError(code, message),
  });
  const comment = action.text?.trim() ? `: ${action.text.trim()}` : '';
  switch (action.action) {
    case 'confirm': {
      if (doc.review !== 'pending') return fail('CONFLICT', `incident ${doc.id} is already ${doc.review}`);
      const retro = doc.status === 'resolved' && doc.resolved_at ? ` (retroactive: resolved at ${doc.resolved_at.slice(11, 16)} UTC)` : '';
      const entry = { at, kind: 'confirmed' as const, text: `Confirmed by ${action.by}${retro}${comment}`, author: action.by };
      return { ok: true, incident: { ...doc, review: 'confirmed', timeline: [...doc.timeline, entry] }, entry };
    }
    case 'dismiss': {
      const reason = action.reason?.trim() ?? '';
      if (reason === '') return fail('INVALID', 'reason: required to dismiss an incident');
      if (doc.review !== 'pending') return fail('CONFLICT', `incident ${doc.id} is already ${doc.review}`);
      const entry = { at, kind: 'dismissed' as const, text: `Dismissed by ${action.by}: ${reason}`, author: action.by };
      return { ok: true, incident: { ...doc, review: 'dismissed', timeline: [...doc.timeline, entry] }, entry };
    }
    case 'resolve': {
      if (doc.status === 'resolved') return fail('CONFLICT', `incident ${doc.id} is already resolved`);
      const entry = { at, kind: 'resolved' as const, text: `Resolved by ${action.by}${comment}`, author: action.by };
      return {
        ok: true,
        incident: { ...doc, status: 'resolved', resolved_at: at, timeline: [...doc.timeline, entry] },
        entry,
      };
    }
    case 'note': {
      const text = action.text?.trim() ?? '';
      if (text === '') return fail('INVALID', 'text: required for a note');
      const entry = { at, kind: 'note' as const, text, author: action.by, ...(action.phase ? { phase: action.phase } : {}) };
      return { ok: true, incident: { ...doc, timeline: [...doc.timeline, entry] }, entry };
    }
    case 'edit': {
      if (!action.edit || !action.catalog) return fail('INVALID', 'body: nothing to change');
      try {
        return { ok: true, ...applyEdit(doc, action.edit, action.by, at, action.catalog) };
      } catch (err) {
        if (err instanceof TocsinError) return { ok: false, error: err };
        throw err;
      }
    }
  }
}

/**
 * Whether an operator resolved the incident by hand and nothing reopened it since: its last
 * status entry (opened, reopened, resolved) is a `resolved` written by someone other than
 * Tocsin. Scans back from the end: the status entry is usually among the last few.
 */
export function resolvedByHand(doc: Pick<Incident, 'status' | 'timeline'>): boolean {
  if (doc.status !== 'resolved') return false;
  const last = lastStatusEntry(doc.timeline);
  return last?.kind === 'resolved' && last.author !== 'tocsin';
}

/** The last opened, reopened or resolved entry of a timeline. */
export function lastStatusEntry(timeline: readonly TimelineEntry[]): TimelineEntry | undefined {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const e = timeline[i];
    if (e && (e.kind === 'opened' || e.kind === 'reopened' || e.kind === 'resolved')) return e;
  }
  return undefined;
}
