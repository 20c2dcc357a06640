import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../events/incident.js';

type Impact = Incident['components'][number]['impact'];

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

/**
 * What one published incident says of one component, for uptime history (docs/status-page.md,
 * "Uptime history"): the impact from `start` to `end` (ms; `null` while the incident is open).
 * `counted`: the time up to which this span is counted in the component's day rows; the rest
 * of an open span (from `counted` to now) is added when history is read.
 */
export interface UptimeSpan {
  readonly incident: string;
  readonly component: string;
  readonly impact: Impact;
  readonly start: number;
  readonly end: number | null;
  readonly counted: number;
}

/**
 * One component's day (UTC, `YYYY-MM-DD`) in seconds per state of its published incidents. Only
 * days with some are stored: a day without a row was operational.
 */
export interface UptimeDay {
  readonly day: string;
  readonly component: string;
  readonly major: number;
  readonly partial: number;
  readonly degraded: number;
}

/** One change of uptime history: spans put and removed, and day rows (all zero: the row goes). */
export interface UptimeWrite {
  readonly put: readonly UptimeSpan[];
  readonly remove: readonly { readonly incident: string; readonly component: string }[];
  readonly days: readonly UptimeDay[];
}

/**
 * Called after each incident write a store took (the uptime recorder listens). It must not throw
 * or wait: the write is done, and its caller is waiting for the answer.
 */
export type SavedListener = (incident: IncidentFields) => void;

/**
 * Uptime history kept beside the incidents (both adapters implement it; the shared contract
 * suite tests it). Sizes are bounded: spans of the last 90 days (one per published incident and
 * component) and at most one day row per component and day; `pruneUptime` drops older ones.
 */
export interface UptimeStore {
  /** `listener` hears of every incident write this store (and its fenced views) took. */
  onIncidentSaved(listener: SavedListener): void;
  /** The spans of one incident. */
  uptimeFootprint(incident: string): Promise<UptimeSpan[]>;
  /** The spans of these components still open or ending at or after `from` (ms). */
  uptimeSpans(components: readonly string[], from: number): Promise<UptimeSpan[]>;
  /** Every open span, or those of one component. */
  openUptimeSpans(component?: string): Promise<UptimeSpan[]>;
  saveUptime(write: UptimeWrite): Promise<void>;
  /** Day rows from `from` to `to` (days, inclusive), of every component or of one. */
  uptimeDays(from: string, to: string, component?: string): Promise<UptimeDay[]>;
  /** Drops day rows before `beforeDay` and spans that ended before `before` (ms). */
  pruneUptime(beforeDay: string, before: number): Promise<void>;
}
