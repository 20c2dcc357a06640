import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../incidents/incident.js';

export interface IncidentFilter {
  readonly status?: Incident['status'];
  readonly review?: Incident['review'];
  /** At most this many, newest first. */
  readonly limit?: number;
  /** Only incidents opened before this one (cursor pagination: pass the last id of a page). */
  readonly before?: string;
}

/**
 * Outcome of a conditional write: `conflict` when the incident changed since `expectedRevision`
 * was read (two operators, or the engine and an operator, raced): the caller re-reads and decides.
 */
export type SaveOutcome =
  | { readonly ok: true; readonly revision: number }
  | { readonly ok: false; readonly conflict: true };

/** An incident's fields without its timeline (what a write replaces; entries are only appended). */
export type IncidentFields = Omit<Incident, 'timeline'>;

/**
 * One conditional write of an incident, computed from the stored document at `expectedRevision`:
 * its fields replace the stored ones and `append` goes right after the `expectedEntries` entries
 * stored at that revision. The store refuses it (conflict) when either has moved on, so an entry
 * is never dropped, rewritten or placed after entries its writer did not see.
 */
export interface IncidentWrite {
  /** The document's fields; a `timeline` on it is ignored (`append` says what is added). */
  readonly incident: IncidentFields;
  readonly append: readonly TimelineEntry[];
  /** The revision the write was computed from; `null`: the incident must not exist yet. */
  readonly expectedRevision: number | null;
  /** How many timeline entries were stored at `expectedRevision` (0 when creating). */
  readonly expectedEntries: number;
}

/**
 * The IncidentStore port: everything Tocsin persists. Adapters: `sqlite` (embedded) and `redis`
 * (fleet); both pass the shared contract suite in test/helpers/store-contract.ts.
 *
 * Contract:
 * - an incident and its timeline are written atomically: a reader sees both or neither;
 * - `saveIncident` succeeds only if the stored revision and the stored entry count still match
 *   the write's (`null` = must not exist yet); revisions start at 1 and grow by one per save;
 * - the timeline is append-only: a save adds the entries it names after those it was computed
 *   from, never drops or rewrites stored ones (its cost is the entries added, not the timeline);
 * - latest results keep one result per (probe, target, vantage): the newest by `at`;
 * - state entries are opaque JSON the engine needs to resume without duplicates after a restart.
 */
export interface IncidentStore {
  /** Resolves when the store answers; rejects with the reason otherwise (for /readyz). */
  ping(): Promise<void>;
  close(): Promise<void>;

  saveLatestResults(results: readonly ProbeResult[]): Promise<void>;
  latestResults(): Promise<ProbeResult[]>;

  getIncident(id: string): Promise<{ incident: Incident; revision: number } | undefined>;
  listIncidents(filter?: IncidentFilter): Promise<Incident[]>;
  saveIncident(write: IncidentWrite): Promise<SaveOutcome>;

  getState(key: string): Promise<unknown>;
  /** Stores a JSON value; a `JsonText` is stored as the JSON text it holds (no second pass). */
  putState(key: string, value: unknown): Promise<void>;
}

/**
 * A value already serialised to JSON: the engine's snapshot of 10,000 series is tens of MB, and
 * copying it to stringify it again would double what a save holds the event loop for.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

/** The JSON text a state value is stored as. */
export function stateText(value: unknown): string {
  return value instanceof JsonText ? value.text : JSON.stringify(value);
}
