import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { IncidentChange, OperatorAction, OperatorActionKind } from '../engine/types.js';
import { TocsinError } from '../errors.js';
import type { IncidentStore } from '../store/port.js';
import type { Incident } from './incident.js';
import { applyOperatorAction } from './transitions.js';

/** Attempts of one save before giving up (each conflict re-reads and merges). */
const MAX_ATTEMPTS = 5;

/** Called after each incident document is stored: metrics, notifiers. */
export type AppliedListener = (change: IncidentChange, stored: Incident) => void;

/**
 * Writes incident changes through the IncidentStore port, one at a time (a promise chain: the
 * engine's changes and operators' verbs never race inside the process). Each save is conditional
 * on the revision last seen; on a conflict (another writer) it re-reads, merges — detector fields
 * from the change, the operator's review and every stored timeline entry from the store, the
 * change's new entries appended — and tries again.
 */
export class IncidentWriter {
  readonly #store: IncidentStore;
  readonly #revisions = new Map<string, number>();
  readonly #listeners: AppliedListener[] = [];
  #chain: Promise<unknown> = Promise.resolve();

  constructor(store: IncidentStore) {
    this.#store = store;
  }

  onApplied(listener: AppliedListener): void {
    this.#listeners.push(listener);
  }

  /** Stores the changes in order; resolves with the stored documents. */
  apply(changes: readonly IncidentChange[]): Promise<Incident[]> {
    const run = this.#chain.then(async () => {
      const out: Incident[] = [];
      for (const change of changes) out.push(await this.#save(change));
      return out;
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` in the write queue (operator verbs that read-modify-write the store). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued write. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  async #save(change: IncidentChange): Promise<Incident> {
    const id = change.incident.id;
    let expected: number | null | undefined = this.#revisions.get(id);
    if (expected === undefined) {
      expected = change.opened ? null : ((await this.#store.getIncident(id))?.revision ?? null);
    }
    let doc = change.incident;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const outcome = await this.#store.saveIncident(doc, expected);
      if (outcome.ok) {
        this.#revisions.set(id, outcome.revision);
        for (const l of this.#listeners) l(change, doc);
        return doc;
      }
      const stored = await this.#store.getIncident(id);
      expected = stored?.revision ?? null;
      doc = stored ? mergeDetectorChange(stored.incident, change) : change.incident;
    }
    throw new TocsinError('CONFLICT', `incident ${id}: could not be saved after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** Tells listeners about a document stored outside `apply` (operator verbs on stored incidents). */
  emit(change: IncidentChange, stored: Incident): void {
    for (const l of this.#listeners) l(change, stored);
  }

  /** Remembers a revision read elsewhere (operator verbs on stored incidents). */
  noteRevision(id: string, revision: number): void {
    this.#revisions.set(id, revision);
  }
}

/**
 * The detector's view merged onto the stored document: its fields from the change, the review
 * and the timeline as stored, then the change's new entries (those not stored yet).
 */
export function mergeDetectorChange(stored: Incident, change: IncidentChange): Incident {
  const key = (e: Incident['timeline'][number]) => `${e.at}|${e.kind}|${e.author}|${e.text}`;
  const have = new Set(stored.timeline.map(key));
  const fresh = change.appended.filter((e) => !have.has(key(e)));
  const resolvedByHand = stored.status === 'resolved' && change.incident.status === 'open' && fresh.every((e) => e.kind !== 'reopened');
  return {
    ...change.incident,
    review: stored.review,
    ...(resolvedByHand ? { status: stored.status, resolved_at: stored.resolved_at } : {}),
    timeline: [...stored.timeline, ...fresh],
  };
}

/** What the operator verbs need: the store, a clock, the write queue and the live engine if any. */
export interface IncidentsContext {
  readonly store: IncidentStore;
  readonly clock: Clock;
  readonly writer: IncidentWriter;
  /** The daemon's engine: verbs go through it so the detector knows (a dismissed draft stays dismissed). */
  readonly engine?: Engine;
}

async function operatorVerb(
  ctx: IncidentsContext,
  id: string,
  action: OperatorActionKind,
  input: { by: string; reason?: string; text?: string },
): Promise<Incident> {
  const { by, reason, text } = input;
  const op: OperatorAction = { incidentId: id, action, by, at: ctx.clock.now(), reason, text };
  if (ctx.engine) {
    let changes: IncidentChange[] | undefined;
    try {
      changes = ctx.engine.operatorAction(op);
    } catch (err) {
      // The engine forgets incidents past the reopen cool-down; the store still has them.
      if (!(err instanceof TocsinError && err.code === 'NOT_FOUND')) throw err;
    }
    if (changes) {
      const stored = await ctx.writer.apply(changes);
      const mine = stored.find((d) => d.id === id);
      if (mine) return mine;
    }
  }
  return ctx.writer.exclusive(async () => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await ctx.store.getIncident(id);
      if (!found) throw new TocsinError('NOT_FOUND', `no incident ${id}`);
      const result = applyOperatorAction(found.incident, op);
      if (!result.ok) throw result.error;
      const outcome = await ctx.store.saveIncident(result.incident, found.revision);
      if (outcome.ok) {
        ctx.writer.noteRevision(id, outcome.revision);
        const doc = result.incident;
        ctx.writer.emit(
          { incident: doc, appended: [result.entry], opened: false, rule: doc.signals[0]?.rule ?? '', firstFailureMs: Date.parse(doc.opened_at) },
          doc,
        );
        return doc;
      }
    }
    throw new TocsinError('CONFLICT', `incident ${id} keeps changing; try again`);
  });
}

/** review pending → confirmed (also after it resolved: a retroactive post). */
export function confirmIncident(
  ctx: IncidentsContext,
  id: string,
  input: { by: string; note?: string },
): Promise<Incident> {
  return operatorVerb(ctx, id, 'confirm', { by: input.by, text: input.note });
}

/** review pending → dismissed; the reason is required and kept in the timeline. */
export function dismissIncident(
  ctx: IncidentsContext,
  id: string,
  input: { by: string; reason: string },
): Promise<Incident> {
  return operatorVerb(ctx, id, 'dismiss', input);
}

/** status open → resolved by hand. */
export function resolveIncident(
  ctx: IncidentsContext,
  id: string,
  input: { by: string; note?: string },
): Promise<Incident> {
  return operatorVerb(ctx, id, 'resolve', { by: input.by, text: input.note });
}

/** A `note` timeline entry. */
export function addNote(ctx: IncidentsContext, id: string, input: { by: string; text: string }): Promise<Incident> {
  return operatorVerb(ctx, id, 'note', input);
}
