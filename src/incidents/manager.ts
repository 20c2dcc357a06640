import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { IncidentChange, OperatorAction, OperatorActionKind } from '../engine/types.js';
import { TocsinError } from '../errors.js';
import type { IncidentFields, IncidentStore, IncidentWrite } from '../store/port.js';
import type { Incident, TimelineEntry } from './incident.js';
import { applyOperatorAction } from './transitions.js';

/** Attempts of one save before giving up (each conflict re-reads the stored document). */
const MAX_ATTEMPTS = 5;

/** Called after each incident document is stored: metrics, notifiers. */
export type AppliedListener = (change: IncidentChange, stored: Incident) => void;

/** What the writer knows of a stored incident: enough to compute the next write without reading it. */
interface StoredHead {
  readonly revision: number;
  readonly entries: number;
  readonly review: Incident['review'];
  readonly status: Incident['status'];
  readonly resolved_at: Incident['resolved_at'];
}

function headOf(doc: IncidentFields, revision: number, entries: number): StoredHead {
  return { revision, entries, review: doc.review, status: doc.status, resolved_at: doc.resolved_at };
}

const entryKey = (e: TimelineEntry): string => `${e.at}|${e.kind}|${e.author}|${e.text}`;

/**
 * The one way incidents reach the store (docs/design.md, "One source of truth"). The store owns
 * what operators did and every entry written; the engine owns detection. Writes run one at a
 * time (a promise chain: the engine's changes and operators' verbs never race inside the
 * process), each conditional on the revision and entry count it was computed from:
 *
 * - a detector change writes the engine's fields with the review (and a resolution by hand)
 *   as stored, and appends exactly its new entries; on a conflict (another process wrote) it
 *   re-reads, tells the engine what operators changed (`onStoredChange`) and tries again;
 * - a change the store could not take (unreachable) stays in an outbox, merged with later
 *   changes of its incident, and is written by the next `apply` or `retry`;
 * - an operator's verb is applied to the stored document, and only once it is durable does the
 *   engine hear of it: a verb that answers an error has changed nothing, here or in the store.
 */
export class IncidentWriter {
  readonly #store: IncidentStore;
  readonly #heads = new Map<string, StoredHead>();
  /** Detector changes not stored yet, one per incident (merged), oldest first. */
  #outbox = new Map<string, IncidentChange>();
  readonly #listeners: AppliedListener[] = [];
  #onStoredChange: ((stored: Incident) => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** The drain queued in the chain and not started yet: later changes ride on it. */
  #queuedDrain: Promise<Incident[]> | undefined;

  constructor(store: IncidentStore) {
    this.#store = store;
  }

  onApplied(listener: AppliedListener): void {
    this.#listeners.push(listener);
  }

  /** Operators' changes another process stored, found when a write conflicts (the engine follows them). */
  onStoredChange(fn: (stored: Incident) => void): void {
    this.#onStoredChange = fn;
  }

  /** Detector changes not stored yet (the store was unreachable). */
  get unsaved(): number {
    return this.#outbox.size;
  }

  /**
   * Stores the detector's changes in order, with those still in the outbox; resolves with the
   * stored documents once the outbox is empty, rejects when the store fails (the changes stay
   * in the outbox for the next attempt).
   */
  apply(changes: readonly IncidentChange[]): Promise<Incident[]> {
    for (const c of changes) this.#addToOutbox(c);
    if (this.#outbox.size === 0) return this.#chain.then(() => []);
    if (this.#queuedDrain) return this.#queuedDrain;
    const run = this.#chain.then(() => {
      this.#queuedDrain = undefined;
      return this.#drain();
    });
    this.#queuedDrain = run;
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Writes what the outbox holds (the daemon calls it every tick while the store is away). */
  retry(): Promise<Incident[]> {
    return this.apply([]);
  }

  /** Runs `fn` in the write queue (the engine's snapshot is saved after the changes before it). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Waits for every queued write. */
  async idle(): Promise<void> {
    await this.#chain;
  }

  /**
   * An operator's verb: the engine's held entries and the outbox are written first (so the
   * order holds), then the verb is applied to the stored document and saved conditionally;
   * the engine hears of it only once it is durable.
   */
  verb(op: OperatorAction, engine?: Engine): Promise<Incident> {
    return this.exclusive(async () => {
      if (engine) for (const c of engine.beforeVerb(op.incidentId)) this.#addToOutbox(c);
      await this.#drain();
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const found = await this.#store.getIncident(op.incidentId);
        if (!found) throw new TocsinError('NOT_FOUND', `no incident ${op.incidentId}`);
        const result = applyOperatorAction(found.incident, op);
        if (!result.ok) throw result.error;
        const entries = found.incident.timeline.length;
        const outcome = await this.#store.saveIncident({
          incident: result.incident,
          append: [result.entry],
          expectedRevision: found.revision,
          expectedEntries: entries,
        });
        if (!outcome.ok) continue;
        const doc = result.incident;
        this.#heads.set(doc.id, headOf(doc, outcome.revision, entries + 1));
        engine?.verbStored(op, doc, result.entry);
        const change = { incident: doc, appended: [result.entry], opened: false, rule: doc.signals[0]?.rule ?? '', firstFailureMs: Date.parse(doc.opened_at) };
        for (const l of this.#listeners) l(change, doc);
        return doc;
      }
      throw new TocsinError('CONFLICT', `incident ${op.incidentId} keeps changing; try again`);
    });
  }

  #addToOutbox(change: IncidentChange): void {
    const id = change.incident.id;
    const earlier = this.#outbox.get(id);
    this.#outbox.set(id, earlier ? mergeChanges(earlier, change) : change);
  }

  /** Saves the outbox in order; on a failure the failed change goes back first and the error is thrown. */
  async #drain(): Promise<Incident[]> {
    const out: Incident[] = [];
    for (const [id, change] of this.#outbox) {
      this.#outbox.delete(id);
      try {
        out.push(await this.#save(change));
      } catch (err) {
        const newer = this.#outbox.get(id);
        this.#outbox.delete(id);
        this.#outbox = new Map([[id, newer ? mergeChanges(change, newer) : change], ...this.#outbox]);
        throw err;
      }
    }
    return out;
  }

  async #save(change: IncidentChange): Promise<Incident> {
    const id = change.incident.id;
    let head = this.#heads.get(id) ?? (await this.#read(id));
    // New to the store: its whole timeline; else the change's entries.
    let append = head ? change.appended : change.incident.timeline;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const write: IncidentWrite = head
        ? {
            incident: detectorFields(change, head),
            append,
            expectedRevision: head.revision,
            expectedEntries: head.entries,
          }
        : { incident: change.incident, append, expectedRevision: null, expectedEntries: 0 };
      const outcome = await this.#store.saveIncident(write);
      if (outcome.ok) {
        this.#heads.set(id, headOf(write.incident, outcome.revision, write.expectedEntries + append.length));
        const doc: Incident = { ...write.incident, timeline: change.incident.timeline };
        const stored = { ...change, appended: append };
        for (const l of this.#listeners) l(stored, doc);
        return doc;
      }
      // Another writer moved it on (or a write of ours whose answer was lost took effect):
      // entries already stored are not appended twice.
      const found = await this.#store.getIncident(id);
      if (found) {
        const since = new Set(found.incident.timeline.slice(head?.entries ?? 0).map(entryKey));
        append = (head ? append : change.incident.timeline).filter((e) => !since.has(entryKey(e)));
        this.#onStoredChange?.(found.incident);
      } else {
        append = change.incident.timeline;
      }
      head = await this.#read(id, found ?? null);
    }
    throw new TocsinError('CONFLICT', `incident ${id}: could not be saved after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /** The stored head of `id` (read unless `found` is given); the engine follows what operators did. */
  async #read(id: string, found?: { incident: Incident; revision: number } | null): Promise<StoredHead | undefined> {
    const stored = found === undefined ? await this.#store.getIncident(id) : found;
    if (!stored) {
      this.#heads.delete(id);
      return undefined;
    }
    if (found === undefined) this.#onStoredChange?.(stored.incident);
    const head = headOf(stored.incident, stored.revision, stored.incident.timeline.length);
    this.#heads.set(id, head);
    return head;
  }
}

/**
 * The detector's fields over what operators own: the review as stored, and a resolution by
 * hand unless the change reopens the incident.
 */
function detectorFields(change: IncidentChange, head: StoredHead): IncidentFields {
  const { timeline: _timeline, ...fields } = change.incident;
  const resolvedByHand =
    head.status === 'resolved' && fields.status === 'open' && change.appended.every((e) => e.kind !== 'reopened');
  return {
    ...fields,
    review: head.review,
    ...(resolvedByHand ? { status: head.status, resolved_at: head.resolved_at } : {}),
  };
}

/** Two changes of one incident as one: the later document, every entry, opened if either opened it. */
function mergeChanges(earlier: IncidentChange, later: IncidentChange): IncidentChange {
  const opener = earlier.opened ? earlier : later;
  return {
    incident: later.incident,
    appended: [...earlier.appended, ...later.appended],
    opened: earlier.opened || later.opened,
    rule: opener.rule,
    firstFailureMs: opener.firstFailureMs,
  };
}

/** What the operator verbs need: the store, a clock, the write queue and the live engine if any. */
export interface IncidentsContext {
  readonly store: IncidentStore;
  readonly clock: Clock;
  readonly writer: IncidentWriter;
  /** The daemon's engine: told of each verb once it is stored (a dismissed draft stays dismissed). */
  readonly engine?: Engine;
  /** Why the incidents side is not ready (recovery after a restart or a new lease), if it is not. */
  readonly notReady?: string;
}

function operatorVerb(
  ctx: IncidentsContext,
  id: string,
  action: OperatorActionKind,
  input: { by: string; reason?: string; text?: string },
): Promise<Incident> {
  const { by, reason, text } = input;
  const op: OperatorAction = { incidentId: id, action, by, at: ctx.clock.now(), reason, text };
  return ctx.writer.verb(op, ctx.engine);
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
