import type { ProbeResult } from '../events/probe-result.js';
import type { Incident } from '../incidents/incident.js';

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

/**
 * The IncidentStore port: everything Tocsin persists. Adapters: `sqlite` (embedded) and `redis`
 * (fleet); both pass the shared contract suite in test/helpers/store-contract.ts.
 *
 * Contract:
 * - an incident and its timeline are written atomically: a reader sees both or neither;
 * - `saveIncident` with `expectedRevision` succeeds only if the stored revision still matches
 *   (`null` = must not exist yet); revisions start at 1 and grow by one per save;
 * - the timeline is append-only: a save may add entries, never drop or rewrite stored ones;
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
  saveIncident(incident: Incident, expectedRevision: number | null): Promise<SaveOutcome>;

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
