/**
 * The engine's working set, passed as one value to every layer's functions.
 *
 * The layers (series, quorum, signals, correlation, lifecycle, ...) are plain functions over this
 * value rather than closures over shared variables, so each lives in its own module and any of
 * them can be read without the others. It holds four kinds of data with different lifetimes,
 * which is why they are kept apart here:
 *  - `cfg`: compiled once from the options (the plan, the rules, the topology);
 *  - `state`: the plain data that is snapshotted (state.ts);
 *  - `index`: lookups derived from `state.series`, rebuilt on restore, never persisted;
 *  - `dirty` / `touches`: bookkeeping of the call in progress.
 * Nothing here is module-level: each engine has its own context.
 */
import type { ProbePlan } from '../config/plan.js';
import type { MaintenanceSpec } from '../config/schema.js';
import { MinHeap } from '../heap.js';
import type { Window } from './maintenance.js';
import type { Rule } from './rules.js';
import type { Series, State } from './state.js';
import type { Topology } from './topology.js';
import type { Impact, Severity } from './types.js';

export interface ProbeInfo {
  readonly plan: ProbePlan;
  /** The rules watching this probe; series keep their state by index into this list. */
  readonly rules: readonly Rule[];
  /** The signal key of each of those rules on this probe (built once, not per event). */
  readonly signalKeys: readonly string[];
  readonly staleMs: number;
}

export interface EngineConfig {
  readonly windowMs: number;
  readonly cooldownMs: number;
  /** Grows at run time: external signals get a rule of their own on first use. */
  readonly rulesById: Map<string, Rule>;
  readonly topology: Topology;
  readonly probes: ReadonlyMap<string, ProbeInfo>;
  readonly probesOfComponent: ReadonlyMap<string, readonly string[]>;
  readonly maintenance: readonly MaintenanceSpec[];
  readonly windows: readonly Window[];
  /** Components each window covers: its own and every component depending on them. */
  readonly covered: ReadonlyMap<string, ReadonlySet<string>>;
  /** Recurring windows may start on any minute: maintenance is then checked every minute. */
  readonly hasCron: boolean;
}

/** One (probe, target): its key and its series per vantage, found without building a key. */
export interface TargetRec {
  readonly key: string;
  readonly series: Series[];
  readonly byVantage: Map<string, Series>;
  /**
   * When the target was first heard of, at any vantage (the earliest event's `at`; after a restore
   * the earliest series' last event). Until the stale horizon has passed since then, a planned
   * vantage that has not reported yet is still expected (quorum.ts), not silent.
   */
  firstAt: number;
}

export interface SeriesIndex {
  /** Per (probe, target) key: its record, for quorum. */
  readonly byTarget: Map<string, TargetRec>;
  /** Per probe, per target: the hot path's lookup (no string built per event). */
  readonly targets: Map<string, Map<string, TargetRec>>;
  /** Targets seen per probe (the plan's plus any an event named). */
  readonly targetsOf: Map<string, Set<string>>;
  /** Targets with a firing series: re-evaluated when one of their series goes stale. */
  readonly hot: Set<string>;
  /**
   * When each series goes stale if it hears nothing more (lastAt + staleMs), as a min-heap with
   * at most one entry per series (re-armed lazily when popped early): time alone re-evaluates
   * only the targets whose vantages actually fell silent, not every failing target every second.
   */
  readonly staleHeap: MinHeap<StaleEntry>;
  readonly armed: WeakSet<Series>;
  /** Keys of active signals inside their keep_firing_for hold: checked as time passes. */
  readonly clearing: Set<string>;
}

export interface StaleEntry {
  readonly at: number;
  /** The series' key, for a deterministic order among equal deadlines. */
  readonly key: string;
  readonly series: Series;
  readonly target: string;
}

/** Per-call bookkeeping: an incident changed in this call, from which timeline length. */
export interface Touch {
  /** Timeline length before the call: entries from here are the change's (a stored verb's entry moves it on). */
  from: number;
  opened: boolean;
}

/** Per-incident lookups derived from the state (incident-index.ts). */
export interface IncIndex {
  /** `inc.affected` as a set. */
  readonly affected: Set<string>;
  /** `inc.signals` grouped by component (joining order). */
  readonly signalsOf: Map<string, string[]>;
  readonly signalKeys: Set<string>;
  /** Position in `doc.signals` per (rule, probe), by `signalKey(rule, probe)`. */
  readonly sigPos: Map<string, number>;
  /** Position in `doc.components` per component. */
  readonly compPos: Map<string, number>;
  /** Keys of the active signals that belong to the incident. */
  readonly active: Set<string>;
  /** Last known impact of each affected component (recovered ones keep theirs). */
  readonly impact: Map<string, Impact>;
  /** Affected components per impact rank (index 1..3). */
  readonly impactCounts: number[];
  /** Components of the document per region. */
  readonly regionCounts: Map<string, number>;
  /** Common dependencies of every affected component, with the greatest distance to any of them. */
  readonly common: Map<string, number>;
  /** Signals of the incident with a fixed severity, per severity; and how many have none. */
  readonly fixedSeverities: Map<Severity, number>;
  autoSeverities: number;
  /** Components whose impact must be derived again at the next `recompute`. */
  readonly dirty: Set<string>;
  /** The component list must be written afresh at the next `recompute` (after a merge). */
  rebuild: boolean;
  /** Earliest `since` of its signals, ms (the other end of `IncState.lastActivity`). */
  firstActivity: number;
  /** Components an operator removed (`doc.overrides.removed`): their signals do not list them again. */
  readonly removed: ReadonlySet<string>;
  /** Impacts an operator set (`doc.overrides.impacts`): the detector keeps them. */
  readonly pinned: ReadonlyMap<string, Impact>;
}

export interface EngineContext {
  /** Replaced as a whole on reconfigure (a reload), never changed in place. */
  cfg: EngineConfig;
  state: State;
  index: SeriesIndex;
  /** Keys of the signals whose failing targets may have changed: settled by signals.ts. */
  readonly dirty: Set<string>;
  /** Incidents changed since the last call returned (changes.ts). */
  touches: Map<string, Touch>;
  /** Per-incident lookups derived from the state (incident-index.ts); rebuilt on first use. */
  incIdx: Map<string, IncIndex>;
  /** What the engine dropped, per reason (CONTRACT §5.10), cumulative. */
  readonly dropped: Map<DropReason, number>;
  /**
   * Bumped whenever an incident, a signal's activity or the maintenance windows change: what
   * component statuses derive from (engine.componentStatuses caches on it).
   */
  version: number;
  /** Called for each dropped event (the daemon counts them in a metric). */
  readonly onDrop: ((reason: DropReason) => void) | undefined;
}

/**
 * Why an event changed nothing: the same (probe, target, vantage, at) was seen already; it is
 * older than its series' newest event; older than the stale horizon; or of a probe the plan
 * does not have.
 */
export type DropReason = 'duplicate' | 'out_of_order' | 'stale' | 'unknown_probe';

export function emptyIndex(): SeriesIndex {
  return {
    byTarget: new Map(),
    targets: new Map(),
    targetsOf: new Map(),
    hot: new Set(),
    staleHeap: new MinHeap<StaleEntry>((a, b) => a.at < b.at || (a.at === b.at && a.key < b.key)),
    armed: new WeakSet(),
    clearing: new Set(),
  };
}
