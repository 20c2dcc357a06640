import type { Clock } from '../clock.js';
import type { Engine } from '../engine/engine.js';
import type { IncidentChange, OperatorAction, OperatorActionKind } from '../engine/types.js';
import { TocsinError } from '../errors.js';
import type { IncidentFields, IncidentStore, IncidentWrite, SaveOutcome } from '../store/port.js';
import { type ComponentCatalog, type IncidentEdit, type NewIncident, newOperatorIncident } from '../engine/edit.js';
import type { Incident, TimelineEntry, UpdatePhase } from '../events/incident.js';
import { applyOperatorAction, lastStatusEntry, resolvedByHand } from '../engine/transitions.js';

/** Attempts of one save before giving up (each conflict re-reads the stored document). */
const MAX_ATTEMPTS = 5;

/** How long a verb whose write went unanswered waits for the store to say whether it took effect. */
const UNANSWERED_WAIT_MS = 5000;
const UNANSWERED_POLL_MS = 250;

/**
 * How long the caller of a verb waits for it (an API answer within a second while the store is
 * away or hangs: the Redis client's command timeout is 5 s, UNANSWERED_WAIT_MS longer still, and
 * a verb may queue behind others). Past it the caller is answered anyway, never with a success
 * that is not stored: UNAVAILABLE when the verb's write was not sent (it never will be), or
 * OUTCOME_UNKNOWN when it was and its answer has not come (it is settled in the background as
 * before: if it took effect, the engine and the listeners still hear of it).
 */
const VERB_ANSWER_MS = 800;

/** Where a verb is, for its caller's deadline. */
interface VerbProgress {
  /** The caller was answered: send no write from now on. */
  abandoned: boolean;
  /** A write was sent and is not known to have failed: it may take effect. */
  inFlight: boolean;
}

/** Called after each incident document is stored: metrics, notifiers. */
export type AppliedListener = (change: IncidentChange, stored: Incident) => void;

/** What the writer knows of a stored incident: enough to compute the next write without reading it. */
interface StoredHead {
  readonly revision: number;
  readonly entries: number;
  readonly review: Incident['review'];
  readonly status: Incident['status'];
  readonly resolved_at: Incident['resolved_at'];
  /** An operator resolved it and nothing reopened it since (the detector keeps that resolution). */
  readonly byHand: boolean;
  /** What operators' edits set (absent before any): a detector change made before the edit keeps it. */
  readonly edited: EditedFields | undefined;
}

/** The fields an operator's edit writes (src/engine/edit.ts). */
type EditedFields = Pick<Incident, 'title' | 'root_component' | 'components' | 'severity' | 'regions' | 'overrides'>;

function headOf(doc: IncidentFields, revision: number, entries: number, byHand: boolean): StoredHead {
  const { title, root_component, components, severity, regions, overrides } = doc;
  const edited = overrides ? { title, root_component, components, severity, regions, overrides } : undefined;
  return { revision, entries, review: doc.review, status: doc.status, resolved_at: doc.resolved_at, byHand, edited };
}

function storedHead(stored: { incident: Incident; revision: number }): StoredHead {
  return headOf(stored.incident, stored.revision, stored.incident.timeline.length, resolvedByHand(stored.incident));
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
  /**
   * Detector changes not stored yet, oldest first. Each is written (and heard by listeners) on
   * its own while the store answers; while it does not, later changes of an incident merge into
   * its last queued one, so an outage holds one change per incident, not one per tick.
   */
  readonly #outbox: { change: IncidentChange }[] = [];
  /** The last queued change of each incident in the outbox. */
  readonly #queued = new Map<string, { change: IncidentChange }>();
  /** The last write failed (the store is away): later changes merge. */
  #failing = false;
  /** The outbox item being written. */
  #writing: { change: IncidentChange } | undefined;
  readonly #listeners: AppliedListener[] = [];
  #onStoredChange: ((stored: Incident) => void) | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** Writes sent and not answered yet, by incident. */
  readonly #unanswered = new Map<string, IncidentWrite>();
  /** Writes whose answer never came (an error): the next write of the incident checks the store. */
  readonly #lost = new Map<string, IncidentWrite[]>();
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
    return this.#queued.size;
  }

  /**
   * Stores the detector's changes in order, with those still in the outbox; resolves with the
   * stored documents once the outbox is empty, rejects when the store fails (the changes stay
   * in the outbox for the next attempt).
   */
  apply(changes: readonly IncidentChange[]): Promise<Incident[]> {
    for (const c of changes) this.#addToOutbox(c);
    if (this.#outbox.length === 0) return this.#chain.then(() => []);
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
    const progress: VerbProgress = { abandoned: false, inFlight: false };
    const work = this.exclusive(() => this.#verb(op, engine, progress));
    return answerWithin(work, VERB_ANSWER_MS, () => lateAnswer(progress));
  }

  /**
   * An incident an operator wrote (src/engine/edit.ts): stored whole as new, in the write
   * queue like a verb and answered within the same deadline. The detector does not track it.
   */
  create(doc: Incident): Promise<Incident> {
    const progress: VerbProgress = { abandoned: false, inFlight: false };
    const work = this.exclusive(async () => {
      if (progress.abandoned) throw new TocsinError('UNAVAILABLE', 'store unavailable: the request timed out');
      const write: IncidentWrite = { incident: doc, append: doc.timeline, expectedRevision: null, expectedEntries: 0 };
      progress.inFlight = true;
      const outcome = await this.#store.saveIncident(write).catch((err: unknown) => this.#settleUnanswered(write, err));
      if (!outcome.ok) throw new TocsinError('CONFLICT', `incident ${doc.id} exists already`);
      if (outcome.revision === 1) this.#heads.set(doc.id, headOf(doc, 1, doc.timeline.length, resolvedByHand(doc)));
      const change = { incident: doc, appended: doc.timeline, opened: true, rule: 'operator', firstFailureMs: Date.parse(doc.opened_at) };
      for (const l of this.#listeners) l(change, doc);
      return doc;
    });
    return answerWithin(work, VERB_ANSWER_MS, () => lateAnswer(progress));
  }

  async #verb(op: OperatorAction, engine: Engine | undefined, progress: VerbProgress): Promise<Incident> {
    const giveUp = (): TocsinError => new TocsinError('UNAVAILABLE', 'store unavailable: the request timed out');
    // Its caller was answered while it queued: it never runs.
    if (progress.abandoned) throw giveUp();
    if (engine) for (const c of engine.beforeVerb(op.incidentId)) this.#addToOutbox(c);
    await this.#drain();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await this.#store.getIncident(op.incidentId);
      if (!found) throw new TocsinError('NOT_FOUND', `no incident ${op.incidentId}`);
      const result = applyOperatorAction(found.incident, op);
      if (!result.ok) throw result.error;
      const entries = found.incident.timeline.length;
      const write: IncidentWrite = {
        incident: result.incident,
        append: [result.entry],
        expectedRevision: found.revision,
        expectedEntries: entries,
      };
      // Answered UNAVAILABLE ("nothing was written") already: it must stay so.
      if (progress.abandoned) throw giveUp();
      progress.inFlight = true;
      const outcome = await this.#store
        .saveIncident(write)
        .catch((err: unknown) => this.#settleUnanswered(write, err));
      if (!outcome.ok) {
        // Refused (a conflict): it did not take effect.
        progress.inFlight = false;
        continue;
      }
      const doc = result.incident;
      // Known exactly only if nothing else was written since (a write settled by reading it back may be older).
      if (outcome.revision === found.revision + 1) {
        this.#heads.set(doc.id, headOf(doc, outcome.revision, entries + 1, resolvedByHand(doc)));
      } else {
        this.#heads.delete(doc.id);
      }
      engine?.verbStored(op, doc, result.entry);
      const change = { incident: doc, appended: [result.entry], opened: false, rule: doc.signals[0]?.rule ?? '', firstFailureMs: Date.parse(doc.opened_at) };
      for (const l of this.#listeners) l(change, doc);
      return doc;
    }
    throw new TocsinError('CONFLICT', `incident ${op.incidentId} keeps changing; try again`);
  }

  /**
   * A verb's write whose answer never came (the connection to Redis dropped with it in flight)
   * may have taken effect. Answering an error then would break "failed means not applied", so
   * the store is read again, for up to UNANSWERED_WAIT_MS: the verb's entry where the write put
   * it means it took effect (the verb succeeded); anything else means it did not (the original
   * error stands). A store still away after that: the error, saying the outcome is unknown.
   * The verb's caller does not wait that long (VERB_ANSWER_MS): it is answered OUTCOME_UNKNOWN
   * and this goes on, so that a write that took effect is still told to the engine.
   */
  async #settleUnanswered(write: IncidentWrite, err: unknown): Promise<SaveOutcome> {
    if (!(err instanceof TocsinError && err.code === 'UNAVAILABLE')) throw err;
    const deadline = Date.now() + UNANSWERED_WAIT_MS;
    for (;;) {
      try {
        const found = await this.#store.getIncident(write.incident.id);
        if (found && tookEffect(write, found.incident.timeline)) return { ok: true, revision: found.revision };
        throw err;
      } catch (readErr) {
        if (readErr === err || !(readErr instanceof TocsinError && readErr.code === 'UNAVAILABLE')) throw err;
      }
      if (Date.now() >= deadline) {
        throw new TocsinError(
          'OUTCOME_UNKNOWN',
          `${err.message}; whether this request took effect is unknown until the store answers: read the incident before retrying`,
        );
      }
      await new Promise((r) => setTimeout(r, UNANSWERED_POLL_MS));
    }
  }

  #addToOutbox(change: IncidentChange): void {
    const id = change.incident.id;
    const last = this.#queued.get(id);
    // Never into the change being written: what it writes was decided when it was sent.
    if (last && this.#failing && last !== this.#writing) {
      last.change = mergeChanges(last.change, change);
      return;
    }
    const item = { change };
    this.#outbox.push(item);
    this.#queued.set(id, item);
  }

  /** Saves the outbox in order; on a failure the failed change stays first and the error is thrown. */
  async #drain(): Promise<Incident[]> {
    const out: Incident[] = [];
    for (let item = this.#outbox[0]; item; item = this.#outbox[0]) {
      const id = item.change.incident.id;
      this.#writing = item;
      try {
        out.push(await this.#save(item.change));
      } catch (err) {
        // Its answer may have been lost after it took effect: the next attempt reads the store
        // and checks.
        this.#heads.delete(id);
        const unanswered = this.#unanswered.get(id);
        this.#unanswered.delete(id);
        if (unanswered) this.#lost.set(id, [...(this.#lost.get(id) ?? []), unanswered]);
        if (err instanceof TocsinError && err.code === 'CONFLICT') {
          // Refused for good (fenced off because another process leads now, or conflicts that
          // never settle): retrying would block every later write and verb behind it. The change
          // is dropped; the incident's next change is written from the stored head.
          this.#outbox.shift();
          if (this.#queued.get(id) === item) this.#queued.delete(id);
        } else {
          // The store is away (or failed otherwise): kept, and retried first.
          this.#failing = true;
        }
        throw err;
      } finally {
        this.#writing = undefined;
      }
      this.#outbox.shift();
      if (this.#queued.get(id) === item) this.#queued.delete(id);
    }
    this.#failing = false;
    return out;
  }

  async #save(change: IncidentChange): Promise<Incident> {
    const id = change.incident.id;
    const cached = this.#heads.get(id);
    let next = cached
      ? { head: cached, append: change.appended }
      : this.#rebase(change, await this.#store.getIncident(id));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { head, append } = next;
      const write: IncidentWrite = head
        ? {
            incident: detectorFields(change, head),
            append,
            expectedRevision: head.revision,
            expectedEntries: head.entries,
          }
        : { incident: change.incident, append, expectedRevision: null, expectedEntries: 0 };
      // Until its answer arrives, the write may or may not take effect (a connection lost).
      this.#unanswered.set(id, write);
      const outcome = await this.#store.saveIncident(write);
      this.#unanswered.delete(id);
      if (outcome.ok) {
        this.#lost.delete(id);
        // Entries of the detector's own that change the status end a resolution by hand.
        const byHand = !!head?.byHand && write.incident.status === 'resolved' && !lastStatusEntry(append);
        this.#heads.set(id, headOf(write.incident, outcome.revision, write.expectedEntries + append.length, byHand));
        const doc: Incident = { ...write.incident, timeline: change.incident.timeline };
        const stored = { ...change, appended: append };
        for (const l of this.#listeners) l(stored, doc);
        return doc;
      }
      // Another writer moved it on: the change's entries go after what it stored.
      next = this.#rebase(change, await this.#store.getIncident(id), next);
    }
    throw new TocsinError('CONFLICT', `incident ${id}: could not be saved after ${MAX_ATTEMPTS} conflicting writes`);
  }

  /**
   * The head to write `change` against, read from the store, and what to append. After a
   * conflict, the prior attempt's entries (all of the change's when it tried to create the
   * incident); after a write whose answer never came, the change's entries less those that
   * write appended if the store shows it took effect (the same entries at the same place).
   * The engine follows what operators changed in the stored document.
   */
  #rebase(
    change: IncidentChange,
    found: { incident: Incident; revision: number } | undefined,
    prior?: { head: StoredHead | undefined; append: readonly TimelineEntry[] },
  ): { head: StoredHead | undefined; append: readonly TimelineEntry[] } {
    const id = change.incident.id;
    // Kept until a write of the incident succeeds: a retry may fail again before then.
    const lost = this.#lost.get(id) ?? [];
    if (!found) {
      this.#heads.delete(id);
      return { head: undefined, append: change.incident.timeline };
    }
    this.#onStoredChange?.(found.incident);
    const head = storedHead(found);
    this.#heads.set(id, head);
    let append = prior ? (prior.head ? prior.append : change.incident.timeline) : change.appended;
    const tookIt = lost.filter((w) => tookEffect(w, found.incident.timeline));
    const written = new Set(tookIt.flatMap((w) => w.append.map(entryKey)));
    if (written.size > 0) append = append.filter((e) => !written.has(entryKey(e)));
    return { head, append };
  }
}

/** The error a caller gets when a write's answer is late: whether it may still take effect. */
function lateAnswer(progress: VerbProgress): TocsinError {
  progress.abandoned = true;
  if (!progress.inFlight) {
    return new TocsinError('UNAVAILABLE', `store unavailable: no answer within ${VERB_ANSWER_MS} ms; nothing was written`);
  }
  return new TocsinError(
    'OUTCOME_UNKNOWN',
    `store unavailable: no answer to the write within ${VERB_ANSWER_MS} ms; whether this request took effect is unknown until the store answers: read the incident before retrying`,
  );
}

/**
 * `work`'s outcome, or `late()`'s error if it has none after `ms`; `work` goes on regardless
 * (its outcome then goes nowhere: it must not need a caller, see VerbProgress).
 */
export function answerWithin<T>(work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Whether the stored timeline holds a write's entries where it put them. */
function tookEffect(write: IncidentWrite, timeline: readonly TimelineEntry[]): boolean {
  if (write.append.length === 0 || timeline.length < write.expectedEntries + write.append.length) return false;
  return write.append.every((e, i) => {
    const stored = timeline[write.expectedEntries + i];
    return stored !== undefined && entryKey(stored) === entryKey(e);
  });
}

/**
 * The detector's fields over what operators own: the review as stored, a resolution by hand
 * unless the change reopens the incident, and an operator's edit the change was computed
 * without (made before the engine heard of the edit).
 */
function detectorFields(change: IncidentChange, head: StoredHead): IncidentFields {
  const { timeline: _timeline, ...fields } = change.incident;
  const keepResolved = head.byHand && fields.status === 'open' && change.appended.every((e) => e.kind !== 'reopened');
  const staleEdit = head.edited && head.edited.overrides?.at !== fields.overrides?.at;
  return {
    ...fields,
    review: head.review,
    ...(keepResolved ? { status: head.status, resolved_at: head.resolved_at } : {}),
    ...(staleEdit ? head.edited : {}),
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
  input: Pick<OperatorAction, 'by' | 'reason' | 'text' | 'phase' | 'edit' | 'catalog'>,
): Promise<Incident> {
  const op: OperatorAction = { incidentId: id, action, at: ctx.clock.now(), ...input };
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

/** A `note` timeline entry; with a phase, a public update in that phase. */
export function addNote(
  ctx: IncidentsContext,
  id: string,
  input: { by: string; text: string; phase?: UpdatePhase | undefined },
): Promise<Incident> {
  const { by, text, phase } = input;
  return operatorVerb(ctx, id, 'note', { by, text, ...(phase ? { phase } : {}) });
}

/** Edits a draft's or a published incident's title, components and impacts (an `edited` entry). */
export function editIncident(
  ctx: IncidentsContext,
  id: string,
  input: { by: string; edit: IncidentEdit; catalog: ComponentCatalog },
): Promise<Incident> {
  return operatorVerb(ctx, id, 'edit', input);
}

/** An incident an operator writes, published at once; past times make a retroactive post. */
export function createIncident(
  ctx: IncidentsContext,
  input: NewIncident & { by: string; catalog: ComponentCatalog },
): Promise<Incident> {
  return ctx.writer.create(newOperatorIncident(input, input.by, ctx.clock.now(), input.catalog));
}
