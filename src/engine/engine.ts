/**
 * The rules engine: a pure function of probe-result events and time (docs/rules.md).
 *
 * This module is the facade: it compiles the options once, owns the virtual clock and the
 * canonical order of same-timestamp events, and wires the layers, each in a module of its own
 * and each feeding the next:
 *  1. series.ts — per (probe, target, vantage) and rule: consecutive bad/good counts and, for
 *     ratio rules, a bounded ring of recent outcomes (memory grows with series, not with events);
 *  2. quorum.ts — per (probe, target) and rule: the quorum of non-stale vantages whose series
 *     fire (a vantage silent for 3 intervals counts neither for nor against);
 *  3. signals.ts — per (rule, probe): the failing targets, since the first failed check;
 *     keep_firing_for and inhibition;
 *  4. incidents — signals correlated over the component graph (correlation.ts): joined when their
 *     component is already in an open incident, merged under the nearest common dependency when
 *     they start within the correlation window, reopened within the cool-down, held during
 *     maintenance (maintenance-holds.ts); documents written by lifecycle.ts and assessment.ts,
 *     in the words of wording.ts, changes tracked by changes.ts.
 * The state they share is plain data (state.ts), passed around in one context (context.ts).
 *
 * Time only comes from event `at` and `tick(now)`; nothing reads the wall clock, the network or
 * the store. Events of one timestamp are buffered and applied in a canonical order when time
 * moves on, so their arrival order never changes the outcome. Ids derive from the fingerprint
 * (root component) and `opened_at`, so the same input gives the same output, ids included.
 */
import type { Plan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../events/incident.js';
import { TocsinError } from '../errors.js';
import { collectChanges, writeDueHeld, writeHeld } from './changes.js';
import { componentStatusesOf } from './component-status.js';
import { type DropReason, emptyIndex, type EngineConfig, type EngineContext, type ProbeInfo } from './context.js';
import { externalFailing, externalKey, externalRule, updateExternalAlerts } from './external.js';
import { adoptOrphans, adoptStored, evictOld, expireAdopted } from './lifecycle.js';
import { compileWindow } from './maintenance.js';
import { applyVerb, followStored, reconcileWithStore, recordStoredVerb } from './operator.js';
import { coveredComponents, evaluateMaintenance } from './maintenance-holds.js';
import { evaluateTarget } from './quorum.js';
import { type Rule, ruleWatches } from './rules.js';
import { applyEvent, dueForStaleness, rebuildSeriesIndex } from './series.js';
import { settleSignals } from './signals.js';
import { cmp, emptyState, type EngineSnapshot, newSignal, type SignalState, signalKey, snapshotOf, snapshotText, stateOf } from './state.js';
import { type ComponentInfo, Topology } from './topology.js';
import type { ComponentStatus, ExternalSignal, IncidentChange, OperatorAction } from './types.js';

export type { EngineSnapshot } from './state.js';

export type { DropReason } from './context.js';

export interface EngineOptions {
  readonly plan: Pick<Plan, 'components' | 'probes' | 'maintenance'>;
  readonly rules: readonly Rule[];
  /** Signals starting within this span of an incident's latest one may merge into it. Default 2 min. */
  readonly correlationWindowMs?: number;
  /** A failure of a resolved incident's components within this span reopens it. Default 30 min. */
  readonly reopenCooldownMs?: number;
  /** A vantage silent for this many probe intervals is stale. Default 3. */
  readonly staleIntervals?: number;
  /** Called for each event the engine drops (duplicate, out of order, stale, unknown probe). */
  readonly onDrop?: (reason: DropReason) => void;
}

export interface Engine {
  /** Buffers one event; returns the changes of the previous timestamp when time moved on. */
  ingest(event: ProbeResult, atMs?: number): IncidentChange[];
  /**
   * Buffers one event like `ingest` but keeps the changes for the next `tick`/`flush`: the
   * daemon collects once per tick, so one evaluation's changes (a zone failing) are one write
   * with coalesced entries, not one per event. `atMs`: `Date.parse(event.at)`, when the caller
   * has it already.
   */
  enqueue(event: ProbeResult, atMs?: number): void;
  /** Events dropped so far, per reason (CONTRACT §5.10). */
  dropped(): Record<DropReason, number>;
  /** Advances the virtual clock: flushes buffered events up to `nowMs`, staleness, holds, maintenance. */
  tick(nowMs: number): IncidentChange[];
  /** Applies every buffered event now (end of a replay). */
  flush(): IncidentChange[];
  /**
   * An external alert firing or resolved (src/engine/external.ts): a signal on its component,
   * correlated like probe signals. Throws TocsinError INVALID for an unknown component.
   */
  external(signal: ExternalSignal): IncidentChange[];
  /** Several alerts at once (one webhook): applied together, settled once, changes collected once. */
  externalBatch(signals: readonly ExternalSignal[]): IncidentChange[];
  /**
   * An operator's verb on the engine's own copy (replays, tests; its entry is in the change);
   * throws TocsinError (NOT_FOUND, CONFLICT, INVALID). The daemon stores verbs first instead:
   * `beforeVerb`, then `verbStored` once the store has it.
   */
  operatorAction(action: OperatorAction): IncidentChange[];
  /** Entries about the incident still held for coalescing, written out before an operator's entry. */
  beforeVerb(incidentId: string): IncidentChange[];
  /** A verb durable in the store: `stored` is the saved document, `entry` the verb's entry. */
  verbStored(action: OperatorAction, stored: Incident, entry: TimelineEntry): void;
  /** Operators' changes found in the store (another process's verbs): review, resolution by hand. */
  followStored(stored: Incident): void;
  /**
   * After `restore`: the store's documents of the incidents the engine tracks (by id), and the
   * open and recently resolved ones it may not know (adopted). The engine takes what operators
   * did from them and marks what the store lacks for the next collection (engine/operator.ts).
   */
  reconcile(stored: ReadonlyMap<string, Incident>, recentInStore: readonly Incident[]): void;
  /** Stored open incidents this engine does not know (after a restart without state): tracked again. */
  adopt(incidents: readonly Incident[]): void;
  /** The incidents the engine tracks now (open ones and those within the reopen cool-down). */
  incidents(): Incident[];
  /** Each component's status; the same (frozen) object until something it derives from changes. */
  componentStatuses(): Readonly<Record<string, ComponentStatus>>;
  snapshot(): EngineSnapshot;
  /** The snapshot as JSON text (what `restore` takes once parsed), without an intermediate copy. */
  snapshotText(): string;
  restore(state: unknown): void;
  /**
   * A new configuration (a reload): what is buffered is applied under the old one, then the
   * state carries over as it does across a restart with the new config (`restore`): series,
   * signals and incidents of the probes and rules that remain are kept, open incidents stay open
   * and are not opened again, signals of rules or probes gone go with them. The next events are
   * evaluated under the new rules.
   */
  reconfigure(opts: Omit<EngineOptions, 'onDrop'>): IncidentChange[];
  /** The virtual clock, ms. */
  now(): number;
}

/** Compiles the options once: everything here is fixed for the engine's life (but external rules). */
function compileConfig(opts: EngineOptions): EngineConfig {
  const staleIntervals = opts.staleIntervals ?? 3;
  const topology = new Topology(
    opts.plan.components.map(
      (c): ComponentInfo => ({ id: c.id, name: c.name, group: c.group, region: c.region, dependsOn: c.depends_on }),
    ),
  );
  const probes = new Map<string, ProbeInfo>();
  const probesOfComponent = new Map<string, string[]>();
  for (const p of opts.plan.probes) {
    const rules = opts.rules.filter((r) => ruleWatches(r, p));
    probes.set(p.id, {
      plan: p,
      rules,
      signalKeys: rules.map((r) => signalKey(r.id, p.id)),
      staleMs: p.intervalMs * staleIntervals,
    });
    probesOfComponent.set(p.component, [...(probesOfComponent.get(p.component) ?? []), p.id]);
  }
  const windows = opts.plan.maintenance.map(compileWindow);
  return {
    windowMs: opts.correlationWindowMs ?? 120_000,
    cooldownMs: opts.reopenCooldownMs ?? 1_800_000,
    rulesById: new Map(opts.rules.map((r) => [r.id, r])),
    topology,
    probes,
    probesOfComponent,
    maintenance: opts.plan.maintenance,
    windows,
    covered: coveredComponents(windows, topology),
    hasCron: opts.plan.maintenance.some((m) => m.cron !== undefined),
  };
}

export function createEngine(opts: EngineOptions): Engine {
  // Replaced only by `reconfigure`, together with ctx.cfg.
  let cfg = compileConfig(opts);
  const ctx: EngineContext = {
    cfg,
    state: emptyState(),
    index: emptyIndex(),
    dirty: new Set(),
    touches: new Map(),
    incIdx: new Map(),
    dropped: new Map(),
    onDrop: opts.onDrop,
    version: 0,
  };

  /** Moves the virtual clock to `t` (never back) and applies what time alone changes. */
  function advance(t: number): void {
    const { state } = ctx;
    if (t < state.now) return;
    state.now = t;
    if (t >= state.nextMaintCheck) evaluateMaintenance(ctx);
    // Staleness and keep_firing_for holds change with time alone; once per virtual second is enough.
    if (t - state.lastStaleEval >= 1000) {
      state.lastStaleEval = t;
      for (const tk of dueForStaleness(ctx)) evaluateTarget(ctx, tk);
      for (const key of [...ctx.index.clearing].sort(cmp)) {
        const sig = state.signals[key];
        if (sig?.active && !Number.isNaN(sig.clearingSince)) ctx.dirty.add(key);
        else ctx.index.clearing.delete(key);
      }
      expireAdopted(ctx);
      settleSignals(ctx);
      writeDueHeld(ctx, false);
      evictOld(ctx);
    }
    settleSignals(ctx);
  }

  /** Applies the buffered batch of one timestamp, in canonical order: arrival order never matters. */
  let statuses: { version: number; value: Readonly<Record<string, ComponentStatus>> } | undefined;

  /** The buffered events' times, parsed once (not snapshotted: derived again after a restore). */
  let pendingMs: number[] = [];

  /** Targets a batch touched; reused, since most batches hold one event. */
  const touched = new Set<string>();

  function flushPending(): void {
    const { state } = ctx;
    if (state.pending.length === 0) return;
    const at = state.pendingAt;
    const events = state.pending;
    const ats = pendingMs.length === events.length ? pendingMs : events.map((e) => Date.parse(e.at));
    state.pending = [];
    pendingMs = [];
    advance(at);
    touched.clear();
    // Each event counts at its own time: a late one is never re-stamped with "now".
    if (events.length === 1 && events[0]) applyEvent(ctx, events[0], at, touched);
    else for (const [e, t] of canonicalOrder(events, ats)) applyEvent(ctx, e, t, touched);
    if (touched.size === 1) for (const tk of touched) evaluateTarget(ctx, tk);
    else if (touched.size > 1) for (const tk of [...touched].sort(cmp)) evaluateTarget(ctx, tk);
    if (ctx.dirty.size > 0) settleSignals(ctx);
  }

  /**
   * Events of one timestamp wait until time moves on (so their arrival order never matters);
   * a late event (older than the batch) joins the batch and is applied at its own time.
   */
  function buffer(event: ProbeResult, at: number): void {
    const { state } = ctx;
    if (state.pending.length > 0 && at > state.pendingAt) flushPending();
    state.pendingAt = state.pending.length === 0 ? at : Math.max(state.pendingAt, at);
    state.pending.push(event);
    pendingMs.push(at);
  }

  /**
   * A batch of alerts (one webhook): each alert updates its signal's alert set, then each signal
   * touched derives its failing targets once and everything settles once, so a webhook of
   * 10,000 alerts on one component costs its alerts, not alerts × the alerts already firing.
   */
  function externalBatch(inputs: readonly ExternalSignal[]): IncidentChange[] {
    for (const input of inputs) {
      if (!cfg.topology.has(input.component)) throw new TocsinError('INVALID', `unknown component "${input.component}"`);
    }
    const at = inputs.reduce((m, i) => Math.max(m, i.at), ctx.state.now);
    if (ctx.state.pending.length > 0 && ctx.state.pendingAt < at) flushPending();
    advance(at);
    const { state } = ctx;
    const changed = new Set<SignalState>();
    for (const input of inputs) {
      externalRuleFor(input.rule);
      const key = externalKey(input);
      let sig = state.signals[key];
      if (!sig) {
        if (!input.active) continue;
        sig = newSignal(key, input.rule, input.probe, input.component);
        sig.external = {};
        state.signals[key] = sig;
      }
      const alerts = sig.external ?? {};
      sig.external = alerts;
      // An alert starting "later" than now (clock skew at the sender) starts now.
      if (updateExternalAlerts(alerts, input, Math.min(input.since, state.now))) changed.add(sig);
    }
    for (const sig of changed) {
      sig.failing = externalFailing(sig.external ?? {});
      ctx.dirty.add(sig.key);
    }
    if (ctx.dirty.size > 0) settleSignals(ctx);
    return collectChanges(ctx);
  }

  /** External signals are evaluated under a rule of their own, made on first use. */
  function externalRuleFor(id: string): void {
    if (!cfg.rulesById.has(id)) cfg.rulesById.set(id, externalRule(id));
  }

  return {
    ingest(event, atMs = Date.parse(event.at)) {
      buffer(event, atMs);
      return collectChanges(ctx);
    },
    enqueue(event, atMs = Date.parse(event.at)) {
      buffer(event, atMs);
    },
    dropped() {
      const out: Record<DropReason, number> = { duplicate: 0, out_of_order: 0, stale: 0, unknown_probe: 0 };
      for (const [reason, n] of ctx.dropped) out[reason] = n;
      return out;
    },
    tick(nowMs) {
      // Events stamped `nowMs` may still arrive: only a strictly later time closes their batch.
      if (ctx.state.pending.length > 0 && ctx.state.pendingAt < nowMs) flushPending();
      advance(nowMs);
      return collectChanges(ctx);
    },
    flush() {
      flushPending();
      writeDueHeld(ctx, true);
      return collectChanges(ctx);
    },
    external(input) {
      return externalBatch([input]);
    },
    externalBatch(inputs) {
      return externalBatch(inputs);
    },
    operatorAction(action) {
      applyVerb(ctx, action);
      return collectChanges(ctx);
    },
    beforeVerb(incidentId) {
      const inc = ctx.state.incidents[incidentId];
      if (inc) writeHeld(ctx, inc);
      return collectChanges(ctx);
    },
    verbStored(action, stored, entry) {
      recordStoredVerb(ctx, action, stored, entry);
    },
    followStored(stored) {
      followStored(ctx, stored);
    },
    reconcile(stored, recentInStore) {
      reconcileWithStore(ctx, stored, recentInStore);
    },
    adopt(incidents) {
      ctx.version++;
      adoptStored(ctx, incidents);
    },
    incidents() {
      return Object.values(ctx.state.incidents)
        .map((i) => structuredClone(i.doc))
        .sort((a, b) => cmp(a.opened_at, b.opened_at) || cmp(a.id, b.id));
    },
    componentStatuses() {
      // Derived on demand but kept while nothing it depends on changed: the daemon asks every
      // tick, and 10,000 components take tens of milliseconds to derive.
      if (statuses?.version !== ctx.version) {
        statuses = { version: ctx.version, value: Object.freeze(componentStatusesOf(ctx)) };
      }
      return statuses.value;
    },
    snapshot() {
      return snapshotOf(ctx.state);
    },
    snapshotText() {
      return snapshotText(ctx.state);
    },
    restore(raw) {
      restore(raw);
    },
    reconfigure(next) {
      // Buffered events were sent under the old config: they are applied under it, and what they
      // changed is handed out before the state moves over (held entries travel in the state).
      flushPending();
      const changes = collectChanges(ctx);
      const snapshot = snapshotOf(ctx.state);
      cfg = compileConfig({ ...next, onDrop: opts.onDrop });
      ctx.cfg = cfg;
      restore(snapshot);
      return changes;
    },
    now: () => ctx.state.now,
  };

  /** A snapshot's state under the current config (restart, reload). */
  function restore(raw: unknown): void {
    const state = stateOf(raw);
    if (!state) return;
    ctx.state = state;
    pendingMs = state.pending.map((e) => Date.parse(e.at));
    ctx.version++;
    ctx.index = emptyIndex();
    ctx.incIdx = new Map();
    rebuildSeriesIndex(ctx);
    for (const sig of Object.values(state.signals)) {
      if (sig.active && !Number.isNaN(sig.clearingSince)) ctx.index.clearing.add(sig.key);
    }
    // Signals of rules (or probes) gone from the config go with them; external rules are remade.
    for (const [key, sig] of Object.entries(state.signals)) {
      if (sig.external) externalRuleFor(sig.rule);
      else if (!cfg.rulesById.has(sig.rule) || !cfg.probes.has(sig.probe)) delete state.signals[key];
    }
    adoptOrphans(ctx);
  }
}

/**
 * A batch in time order, and within a timestamp in canonical order (arrival order never
 * matters): by probe, target and vantage, and only for events equal in those by every field.
 */
function canonicalOrder(events: readonly ProbeResult[], ats: readonly number[]): (readonly [ProbeResult, number])[] {
  const keyed = events.map((e, i) => ({ e, at: ats[i] ?? Date.parse(e.at), full: '' }));
  const full = (k: (typeof keyed)[number]) => (k.full ||= canonical(k.e));
  keyed.sort(
    (a, b) =>
      a.at - b.at ||
      cmp(a.e.probe, b.e.probe) ||
      cmp(a.e.target ?? '', b.e.target ?? '') ||
      cmp(a.e.vantage, b.e.vantage) ||
      cmp(full(a), full(b)),
  );
  return keyed.map((k) => [k.e, k.at] as const);
}

/** The canonical order key of an event within its timestamp: every field that can differ. */
function canonical(e: ProbeResult): string {
  return JSON.stringify([e.probe, e.target ?? '', e.vantage, e.ok, e.error ?? '', e.detail ?? '', e.duration_ms ?? 0, e.observations ?? null]);
}
