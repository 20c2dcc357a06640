/**
 * The engine's state as plain data, and its snapshot.
 *
 * Everything the engine remembers between calls lives in one `State` value of plain objects and
 * arrays (no Maps, classes or closures), so a snapshot is a JSON copy and a restore is a parse.
 * Kept apart from the layers that change it because it is also a storage format: the daemon
 * persists snapshots across restarts, so field names and shapes here only change together with
 * `SNAPSHOT_VERSION`. Derived indexes (context.ts) are not part of it: they are rebuilt on restore.
 */
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../events/incident.js';
import type { Impact } from './types.js';

/**
 * Raise it when `State` changes shape: an older snapshot is then ignored, not misread.
 * 2: series as compact tuples (snapshotText); version 1 snapshots are still read.
 */
export const SNAPSHOT_VERSION = 2;

/** Per (probe, target, vantage) and rule: the condition's progress at that vantage. */
export interface SeriesRule {
  bad: number;
  good: number;
  /** First bad check of the current bad streak (NaN without one). */
  badSince: number;
  firing: boolean;
  /** First failed check of the firing episode. */
  firingSince: number;
  /** Ratio rules: times and outcomes (1 bad, 0 good) of recent checks, oldest first. */
  rt: number[];
  rb: number[];
}

/** One (probe, target, vantage): its latest check time and, per rule index, its state. */
export interface Series {
  probe: string;
  target: string;
  vantage: string;
  lastAt: number;
  /** Latest bad result's error, detail and observations, per rule index. */
  err: (string | null)[];
  detail: (string | null)[];
  obs: (Record<string, unknown> | null)[];
  rs: SeriesRule[];
}

/** One failing target of a signal: who sees it fail, since when, and the latest failure. */
export interface TargetEval {
  vantages: string[];
  nonStale: number;
  since: number;
  error: string | null;
  detail: string | null;
  obs: Record<string, unknown> | null;
  /** External signals: this target's impact. */
  impact?: Impact;
}

/** One firing alert inside an external signal, keyed by the sender's identity (the fingerprint). */
export interface ExternalAlertState {
  target: string;
  impact: Impact;
  since: number;
  error: string;
  detail: string | null;
}

/** Per (rule, probe): whether the rule's condition holds, on which targets, in which incident. */
export interface SignalState {
  key: string;
  rule: string;
  probe: string;
  component: string;
  active: boolean;
  since: number;
  failing: Record<string, TargetEval>;
  /** keep_firing_for: when the condition cleared (NaN while it holds). */
  clearingSince: number;
  /** The incident the active signal belongs to. */
  incident: string | null;
  /** Active but held by a maintenance window (attached when the window ends). */
  held: boolean;
  /** External signals only: their firing alerts by key (`failing` derives from them). */
  external?: Record<string, ExternalAlertState>;
}

/** One incident the engine tracks: its document and what the document is derived from. */
export interface IncState {
  doc: Incident;
  /** Components that had a signal in this incident, in joining order. */
  affected: string[];
  /** Keys of the signals attached to it (active or not). */
  signals: string[];
  lastActivity: number;
  resolvedAtMs: number;
  /** Adopted from the store after a restart: resolved if no signal joins within the grace. */
  adoptedAt: number;
  /** Impact rank the title was written for: a milder state later does not rewrite it. */
  titleRank: number;
  /** Timeline entries waiting to be coalesced (changes.ts); absent in older snapshots. */
  held?: HeldEntry[];
}

/** A generated timeline entry about one component, not written yet. */
export interface HeldEntry {
  at: number;
  kind: TimelineEntry['kind'];
  text: string;
  /** The component's name. */
  subject: string;
}

export interface State {
  now: number;
  pendingAt: number;
  pending: ProbeResult[];
  series: Record<string, Series>;
  signals: Record<string, SignalState>;
  incidents: Record<string, IncState>;
  /**
   * The latest dismissed incident per component, until a new draft of it names it (CONTRACT
   * §5.9): kept past the reopen cool-down, when the incident itself is forgotten. Absent in
   * older snapshots.
   */
  dismissed?: Record<string, string>;
  /** Ids of the maintenance windows active at `now`. */
  windows: string[];
  nextMaintCheck: number;
  lastStaleEval: number;
}

export interface EngineSnapshot {
  readonly version: number;
  readonly state: unknown;
}

export function emptyState(): State {
  return {
    now: Number.NEGATIVE_INFINITY,
    pendingAt: Number.NEGATIVE_INFINITY,
    pending: [],
    series: {},
    signals: {},
    incidents: {},
    windows: [],
    nextMaintCheck: Number.NEGATIVE_INFINITY,
    lastStaleEval: Number.NEGATIVE_INFINITY,
  };
}

/** A signal not yet active; the key decides whether it is a probe's or an external one. */
export function newSignal(key: string, rule: string, probe: string, component: string): SignalState {
  return {
    key,
    rule,
    probe,
    component,
    active: false,
    since: Number.NaN,
    failing: {},
    clearingSince: Number.NaN,
    incident: null,
    held: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Keys: NUL cannot appear in ids, so joined keys never collide.

const SEP = '\u0000';

export function seriesKey(probe: string, target: string, vantage: string): string {
  return `${probe}${SEP}${target}${SEP}${vantage}`;
}

export function targetKey(probe: string, target: string): string {
  return `${probe}${SEP}${target}`;
}

/** A probe signal's key; external signals have their own (external.ts). */
export function signalKey(rule: string, probe: string): string {
  return `${rule}${SEP}${probe}`;
}

/**
 * Code-unit order, the only order the engine iterates keys in: locale-independent, so the same
 * input gives the same output (ids and timeline included) on every machine.
 */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two lists of ids, equal item by item. */
export function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// ---------------------------------------------------------------------------------------------
// Queries shared by the layers

/** The incident's signals that are active and still belong to it, in joining order. */
export function activeSignalsOf(state: State, inc: IncState): SignalState[] {
  return inc.signals
    .map((k) => state.signals[k])
    .filter((s): s is SignalState => s !== undefined && s.active && s.incident === inc.doc.id);
}

// ---------------------------------------------------------------------------------------------
// Snapshot

/** JSON has no NaN or infinities: they travel as tagged strings. */
function snapshotReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return `#num:${String(value)}`;
  return value;
}

function reviveNumber(_key: string, v: unknown): unknown {
  return typeof v === 'string' && v.startsWith('#num:') ? Number(v.slice(5)) : v;
}

const tag = (n: number): number | string => (Number.isFinite(n) ? n : `#num:${String(n)}`);
const untag = (v: unknown): number => (typeof v === 'number' ? v : Number(String(v).slice(5)));

/**
 * One series as a tuple: most of a snapshot is series (10,000 failing series are tens of MB as
 * objects), so their keys are not repeated and ratio rings are written as time deltas and a
 * string of outcomes. Written without a replacer callback per value, which is what made the
 * plain form slow.
 */
function encodeSeries(s: Series): unknown[] {
  return [
    s.probe,
    s.target,
    s.vantage,
    tag(s.lastAt),
    s.err,
    s.detail,
    s.obs,
    s.rs.map((r) => [r.bad, r.good, tag(r.badSince), r.firing ? 1 : 0, tag(r.firingSince), r.rt.map((t, i) => (i === 0 ? t : t - (r.rt[i - 1] ?? 0))), r.rb.join('')]),
  ];
}

function decodeSeries(t: unknown[]): Series {
  const [probe, target, vantage, lastAt, err, detail, obs, rs] = t as [string, string, string, unknown, Series['err'], Series['detail'], Series['obs'], unknown[][]];
  return {
    probe,
    target,
    vantage,
    lastAt: untag(lastAt),
    err,
    detail,
    obs,
    rs: rs.map(([bad, good, badSince, firing, firingSince, rt, rb]) => {
      let at = 0;
      return {
        bad: Number(bad),
        good: Number(good),
        badSince: untag(badSince),
        firing: firing === 1,
        firingSince: untag(firingSince),
        rt: (rt as number[]).map((d) => (at += d)),
        rb: [...String(rb)].map(Number),
      };
    }),
  };
}

/** The snapshot as JSON text, in one pass (what the daemon stores). */
export function snapshotText(state: State): string {
  const { series, ...rest } = state;
  const head = JSON.stringify({ version: SNAPSHOT_VERSION, state: rest }, snapshotReplacer);
  // A list of tuples (each series' key derives from its first three fields): `{"version":2,
  // "state":{…}}` with the series as the state's last member.
  const tuples: unknown[][] = [];
  for (const key in series) {
    const s = series[key];
    if (s) tuples.push(encodeSeries(s));
  }
  return `${head.slice(0, -2)},"series":${JSON.stringify(tuples)}}}`;
}

export function snapshotOf(state: State): EngineSnapshot {
  return JSON.parse(snapshotText(state)) as EngineSnapshot;
}

/** The state a snapshot holds; undefined for anything else (another version, not a snapshot). */
export function stateOf(raw: unknown): State | undefined {
  const snap = raw as Partial<EngineSnapshot> | undefined;
  if (!snap || typeof snap.state !== 'object' || snap.state === null) return undefined;
  if (snap.version === 1) return JSON.parse(JSON.stringify(snap.state), reviveNumber) as State;
  if (snap.version !== SNAPSHOT_VERSION) return undefined;
  const { series, ...rest } = snap.state as { series?: unknown[][] };
  const state = JSON.parse(JSON.stringify(rest), reviveNumber) as State;
  state.series = {};
  for (const t of series ?? []) {
    const s = decodeSeries(t);
    state.series[seriesKey(s.probe, s.target, s.vantage)] = s;
  }
  return state;
}
