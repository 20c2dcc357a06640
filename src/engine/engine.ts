/**
 * The rules engine: a pure function of probe-result events and time (docs/rules.md).
 *
 * Layers, each feeding the next:
 *  1. series — per (probe, target, vantage) and rule: consecutive bad/good counts and, for ratio
 *     rules, a bounded ring of recent outcomes (memory grows with series, not with events);
 *  2. targets — per (probe, target) and rule: the quorum of non-stale vantages whose series fire
 *     (a vantage silent for 3 intervals counts neither for nor against);
 *  3. signals — per (rule, probe): the failing targets, since the first failed check;
 *  4. incidents — signals correlated over the component graph: joined when their component is
 *     already in an open incident, merged under the nearest common dependency when they start
 *     within the correlation window, reopened within the cool-down, held during maintenance.
 *
 * Time only comes from event `at` and `tick(now)`; nothing reads the wall clock, the network or
 * the store. Events of one timestamp are buffered and applied in a canonical order when time
 * moves on, so their arrival order never changes the outcome. Ids derive from the fingerprint
 * (root component) and `opened_at`, so the same input gives the same output, ids included.
 */
import { createHash } from 'node:crypto';
import type { Plan, ProbePlan } from '../config/plan.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, Signal, TimelineEntry } from '../incidents/incident.js';
import { applyOperatorAction } from '../incidents/transitions.js';
import { TocsinError } from '../errors.js';
import {
  type ExternalAlertState,
  externalFailing,
  externalImpact,
  externalKey,
  externalRule,
  updateExternalAlerts,
} from './external.js';
import { compileWindow, type Window } from './maintenance.js';
import { outcomeFor, type Rule, ruleWatches } from './rules.js';
import { hhmm, humanDuration, IMPACT_WORDS, listWords, plural, render } from './text.js';
import { type ComponentInfo, Topology } from './topology.js';
import type {
  ComponentStatus,
  ExternalSignal,
  Impact,
  IncidentChange,
  OperatorAction,
  Severity,
} from './types.js';

export interface EngineOptions {
  readonly plan: Pick<Plan, 'components' | 'probes' | 'maintenance'>;
  readonly rules: readonly Rule[];
  /** Signals starting within this span of an incident's latest one may merge into it. Default 2 min. */
  readonly correlationWindowMs?: number;
  /** A failure of a resolved incident's components within this span reopens it. Default 30 min. */
  readonly reopenCooldownMs?: number;
  /** A vantage silent for this many probe intervals is stale. Default 3. */
  readonly staleIntervals?: number;
}

export interface Engine {
  /** Buffers one event; returns the changes of the previous timestamp when time moved on. */
  ingest(event: ProbeResult): IncidentChange[];
  /** Advances the virtual clock: flushes buffered events up to `nowMs`, staleness, holds, maintenance. */
  tick(nowMs: number): IncidentChange[];
  /** Applies every buffered event now (end of a replay). */
  flush(): IncidentChange[];
  /**
   * An external alert firing or resolved (src/engine/external.ts): a signal on its component,
   * correlated like probe signals. Throws TocsinError INVALID for an unknown component.
   */
  external(signal: ExternalSignal): IncidentChange[];
  /** An operator's verb; throws TocsinError (NOT_FOUND, CONFLICT, INVALID). */
  operatorAction(action: OperatorAction): IncidentChange[];
  /** Stored open incidents this engine does not know (after a restart without state): tracked again. */
  adopt(incidents: readonly Incident[]): void;
  /** The incidents the engine tracks now (open ones and those within the reopen cool-down). */
  incidents(): Incident[];
  componentStatuses(): Record<string, ComponentStatus>;
  snapshot(): EngineSnapshot;
  restore(state: unknown): void;
  /** The virtual clock, ms. */
  now(): number;
}

const IMPACT_RANK: Record<Impact, number> = { degraded_performance: 1, partial_outage: 2, major_outage: 3 };
const SEVERITY_RANK: Record<Severity, number> = { minor: 1, major: 2, critical: 3 };
const SEP = '\u0000';
const SNAPSHOT_VERSION = 1;
/** Ratio rings never hold more outcomes than this per series and rule. */
const RING_CAP = 512;

// ---------------------------------------------------------------------------------------------
// State (plain data, so a snapshot is a JSON copy)

interface SeriesRule {
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

interface Series {
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

interface TargetEval {
  vantages: string[];
  nonStale: number;
  since: number;
  error: string | null;
  detail: string | null;
  obs: Record<string, unknown> | null;
  /** External signals: this target's impact. */
  impact?: Impact;
}

interface SignalState {
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

interface IncState {
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
}

interface State {
  now: number;
  pendingAt: number;
  pending: ProbeResult[];
  series: Record<string, Series>;
  signals: Record<string, SignalState>;
  incidents: Record<string, IncState>;
  /** Ids of the maintenance windows active at `now`. */
  windows: string[];
  nextMaintCheck: number;
  lastStaleEval: number;
}

export interface EngineSnapshot {
  readonly version: number;
  readonly state: unknown;
}

interface ProbeInfo {
  readonly plan: ProbePlan;
  readonly rules: readonly Rule[];
  readonly staleMs: number;
}

/** Per-call bookkeeping: which incidents changed, from which timeline length. */
interface Touch {
  readonly from: number;
  opened: boolean;
}

export function createEngine(opts: EngineOptions): Engine {
  const windowMs = opts.correlationWindowMs ?? 120_000;
  const cooldownMs = opts.reopenCooldownMs ?? 1_800_000;
  const staleIntervals = opts.staleIntervals ?? 3;
  const rulesById = new Map(opts.rules.map((r) => [r.id, r]));
  const topology = new Topology(
    opts.plan.components.map(
      (c): ComponentInfo => ({ id: c.id, name: c.name, group: c.group, region: c.region, dependsOn: c.depends_on }),
    ),
  );
  const probes = new Map<string, ProbeInfo>();
  const probesOfComponent = new Map<string, string[]>();
  for (const p of opts.plan.probes) {
    probes.set(p.id, {
      plan: p,
      rules: opts.rules.filter((r) => ruleWatches(r, p)),
      staleMs: p.intervalMs * staleIntervals,
    });
    probesOfComponent.set(p.component, [...(probesOfComponent.get(p.component) ?? []), p.id]);
  }
  const windows: Window[] = opts.plan.maintenance.map(compileWindow);
  /** Components each window covers: its own and every component depending on them. */
  const covered = new Map<string, ReadonlySet<string>>(
    windows.map((w) => [
      w.id,
      new Set(topology.ids().filter((c) => w.components.some((m) => topology.dependsOn(c, m)))),
    ]),
  );
  const hasCron = opts.plan.maintenance.some((m) => m.cron !== undefined);
  /** Per (probe, target): its series, for quorum. Rebuilt from `state.series` on restore. */
  let byTarget = new Map<string, Series[]>();
  /** Targets seen per probe (the plan's plus any an event named). */
  let targetsOf = new Map<string, Set<string>>();
  /** Targets with a firing series: re-evaluated on ticks (staleness changes their quorum). */
  let hot = new Set<string>();
  let state: State = emptyState();
  let touches = new Map<string, Touch>();
  const dirty = new Set<string>();

  function emptyState(): State {
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

  // -------------------------------------------------------------------------------------------
  // Layer 1: series

  function seriesFor(info: ProbeInfo, target: string, vantage: string): Series {
    const key = `${info.plan.id}${SEP}${target}${SEP}${vantage}`;
    let s = state.series[key];
    if (!s) {
      const n = info.rules.length;
      s = {
        probe: info.plan.id,
        target,
        vantage,
        lastAt: Number.NEGATIVE_INFINITY,
        err: new Array<string | null>(n).fill(null),
        detail: new Array<string | null>(n).fill(null),
        obs: new Array<Record<string, unknown> | null>(n).fill(null),
        rs: info.rules.map(() => ({
          bad: 0,
          good: 0,
          badSince: Number.NaN,
          firing: false,
          firingSince: Number.NaN,
          rt: [],
          rb: [],
        })),
      };
      state.series[key] = s;
      indexSeries(s);
      hot.add(targetKey(s.probe, s.target));
    }
    return s;
  }

  function indexSeries(s: Series): void {
    const tk = targetKey(s.probe, s.target);
    const list = byTarget.get(tk);
    if (list) list.push(s);
    else byTarget.set(tk, [s]);
    let ts = targetsOf.get(s.probe);
    if (!ts) {
      ts = new Set(probes.get(s.probe)?.plan.targets ?? []);
      targetsOf.set(s.probe, ts);
    }
    ts.add(s.target);
  }

  function applyEvent(e: ProbeResult, at: number, touched: Set<string>): void {
    const info = probes.get(e.probe);
    if (!info || info.rules.length === 0) return;
    const target = e.target ?? info.plan.targets[0] ?? e.probe;
    const s = seriesFor(info, target, e.vantage);
    const wasFresh = at - s.lastAt <= info.staleMs;
    s.lastAt = Math.max(s.lastAt, at);
    let changed = !wasFresh;
    info.rules.forEach((rule, i) => {
      const r = s.rs[i];
      if (!r) return;
      const outcome = outcomeFor(rule, e.ok, e.error);
      if (outcome === 'neutral') return;
      const bad = outcome === 'bad';
      if (bad) {
        if (r.bad === 0) r.badSince = at;
        r.bad++;
        r.good = 0;
        s.err[i] = e.error ?? null;
        s.detail[i] = e.detail ?? null;
        s.obs[i] = e.observations ?? null;
      } else {
        r.good++;
        r.bad = 0;
        r.badSince = Number.NaN;
      }
      if (rule.condition === 'ratio') pushRing(r, at, bad, rule, info.plan.intervalMs);
      const was = r.firing;
      updateFiring(r, rule, at);
      if (r.firing !== was || (r.firing && bad)) changed = true;
    });
    if (changed) touched.add(targetKey(s.probe, s.target));
  }

  function pushRing(r: SeriesRule, at: number, bad: boolean, rule: Rule, intervalMs: number): void {
    r.rt.push(at);
    r.rb.push(bad ? 1 : 0);
    const cap = Math.min(RING_CAP, Math.ceil(rule.ratio.windowMs / Math.max(1, intervalMs)) * 2 + 4);
    let drop = 0;
    while (drop < r.rt.length && ((r.rt[drop] ?? 0) <= at - rule.ratio.windowMs || r.rt.length - drop > cap)) drop++;
    if (drop > 0) {
      r.rt.splice(0, drop);
      r.rb.splice(0, drop);
    }
  }

  function updateFiring(r: SeriesRule, rule: Rule, at: number): void {
    if (rule.condition === 'ratio') {
      let bad = 0;
      let firstBad = Number.NaN;
      for (let k = 0; k < r.rt.length; k++) {
        if (r.rb[k] === 1) {
          bad++;
          if (Number.isNaN(firstBad)) firstBad = r.rt[k] ?? at;
        }
      }
      const checks = r.rt.length;
      const holds = checks >= rule.ratio.minChecks && bad / checks >= rule.ratio.min;
      if (!r.firing && holds) {
        r.firing = true;
        r.firingSince = firstBad;
      } else if (r.firing && !holds && r.good >= rule.recoverAfter) {
        r.firing = false;
        r.firingSince = Number.NaN;
      }
      return;
    }
    if (!r.firing && r.bad >= rule.consecutive) {
      r.firing = true;
      r.firingSince = r.badSince;
    } else if (r.firing && r.good >= rule.recoverAfter) {
      r.firing = false;
      r.firingSince = Number.NaN;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Layer 2 and 3: targets (quorum) and signals

  function evaluateTarget(tk: string): void {
    const list = byTarget.get(tk);
    const first = list?.[0];
    if (!list || !first) return;
    const info = probes.get(first.probe);
    if (!info) return;
    let anyFiring = false;
    const fresh = list.filter((s) => state.now - s.lastAt <= info.staleMs);
    info.rules.forEach((rule, i) => {
      if (list.some((s) => s.rs[i]?.firing)) anyFiring = true;
      // Every vantage silent: no news is not good news; the target keeps its state.
      if (fresh.length === 0) return;
      const firing = fresh.filter((s) => s.rs[i]?.firing);
      const met =
        firing.length > 0 &&
        (rule.quorum === 'majority' ? firing.length * 2 > fresh.length : firing.length >= rule.quorum.at_least);
      // Signals are created on their first failing target only: memory for failures, not probes.
      const existing = state.signals[`${rule.id}${SEP}${info.plan.id}`];
      if (!met && !existing) return;
      const sig = existing ?? signalFor(rule, info);
      if (met) {
        const latest = [...firing].sort((a, b) => b.lastAt - a.lastAt || cmp(a.vantage, b.vantage))[0];
        sig.failing[first.target] = {
          vantages: firing.map((s) => s.vantage).sort(),
          nonStale: fresh.length,
          since: Math.min(...firing.map((s) => s.rs[i]?.firingSince ?? state.now)),
          error: latest?.err[i] ?? null,
          detail: latest?.detail[i] ?? null,
          obs: latest?.obs[i] ?? null,
        };
      } else {
        delete sig.failing[first.target];
      }
      dirty.add(sig.key);
    });
    if (!anyFiring) hot.delete(tk);
    else hot.add(tk);
  }

  function signalFor(rule: Rule, info: ProbeInfo): SignalState {
    const key = `${rule.id}${SEP}${info.plan.id}`;
    let sig = state.signals[key];
    if (!sig) {
      sig = {
        key,
        rule: rule.id,
        probe: info.plan.id,
        component: info.plan.component,
        active: false,
        since: Number.NaN,
        failing: {},
        clearingSince: Number.NaN,
        incident: null,
        held: false,
      };
      state.signals[key] = sig;
    }
    return sig;
  }

  /**
   * Turns dirty signals into fired / updated / recovered, in a fixed order (determinism): rules
   * that inhibit others first, so an outage completing at the same check as an intermittency
   * ratio is seen as the outage. Resetting inhibited rules can dirty signals again: loop.
   */
  function settleSignals(): void {
    for (let round = 0; round < 4 && dirty.size > 0; round++) settleOnce();
  }

  function settleOnce(): void {
    const rank = (key: string) => (rulesById.get(state.signals[key]?.rule ?? '')?.inhibitedBy.length ? 1 : 0);
    const keys = [...dirty].sort((a, b) => rank(a) - rank(b) || cmp(a, b));
    dirty.clear();
    const fired: SignalState[] = [];
    const updated: SignalState[] = [];
    const recovered: SignalState[] = [];
    // An inhibitor recovering in this round still inhibits: its reset of the inhibited rule follows.
    const ending = new Set<string>();
    for (const key of keys) {
      const sig = state.signals[key];
      if (!sig) continue;
      const rule = rulesById.get(sig.rule);
      if (!rule) continue;
      const failing = Object.keys(sig.failing).length > 0;
      if (failing) {
        sig.clearingSince = Number.NaN;
        if (!sig.active) {
          if (inhibited(rule, sig.probe, ending)) continue;
          sig.active = true;
          sig.since = Math.min(...Object.values(sig.failing).map((t) => t.since));
          fired.push(sig);
        } else {
          updated.push(sig);
        }
      } else if (sig.active) {
        if (rule.keepFiringForMs > 0) {
          if (Number.isNaN(sig.clearingSince)) sig.clearingSince = state.now;
          if (state.now - sig.clearingSince < rule.keepFiringForMs) continue;
        }
        sig.active = false;
        sig.clearingSince = Number.NaN;
        recovered.push(sig);
        ending.add(key);
      }
    }
    // Fire before recovering: a signal taking over from another keeps the incident open.
    for (const sig of fired) fire(sig);
    for (const sig of updated) refresh(sig);
    for (const sig of recovered) recover(sig);
    for (const sig of [...fired, ...updated, ...recovered]) {
      if (sig.incident) recompute(sig.incident);
    }
    for (const sig of recovered) {
      const id = sig.incident;
      sig.incident = null;
      sig.held = false;
      if (id) maybeResolve(id);
      resetInhibited(sig);
    }
  }

  /**
   * When an inhibiting signal (outage) recovers, the episode is over: the rules it inhibits
   * (intermittency) start counting afresh, or their window, full of the outage's failures, would
   * hold the incident open long after the service came back.
   */
  function resetInhibited(sig: SignalState): void {
    const info = probes.get(sig.probe);
    if (!info) return;
    info.rules.forEach((rule, i) => {
      if (!rule.inhibitedBy.includes(sig.rule)) return;
      for (const t of targetsOf.get(sig.probe) ?? []) {
        const list = byTarget.get(targetKey(sig.probe, t)) ?? [];
        for (const s of list) {
          const r = s.rs[i];
          if (!r) continue;
          r.bad = 0;
          r.badSince = Number.NaN;
          r.firing = false;
          r.firingSince = Number.NaN;
          r.rt = [];
          r.rb = [];
        }
        if (list.length > 0) evaluateTarget(targetKey(sig.probe, t));
      }
    });
  }

  function inhibited(rule: Rule, probe: string, ending: ReadonlySet<string>): boolean {
    return rule.inhibitedBy.some((id) => {
      const key = `${id}${SEP}${probe}`;
      return state.signals[key]?.active === true || ending.has(key);
    });
  }

  // -------------------------------------------------------------------------------------------
  // Layer 4: incidents

  function underMaintenance(component: string): Window | undefined {
    for (const id of state.windows) {
      if (covered.get(id)?.has(component)) return windows.find((w) => w.id === id);
    }
    return undefined;
  }

  function openIncidents(): IncState[] {
    return Object.values(state.incidents)
      .filter((i) => i.doc.status === 'open')
      .sort((a, b) => cmp(a.doc.opened_at, b.doc.opened_at) || cmp(a.doc.id, b.doc.id));
  }

  function fire(sig: SignalState): void {
    if (underMaintenance(sig.component)) {
      sig.held = true;
      return;
    }
    sig.held = false;
    attach(sig);
  }

  /** Where a newly active signal goes: join, merge, reopen or a new draft (docs/rules.md). */
  function attach(sig: SignalState): void {
    const c = sig.component;
    const open = openIncidents();
    // 1. A component (or root) of an open incident: join it.
    const joined = open.find((i) => i.affected.includes(c) || i.doc.root_component === c);
    if (joined) return join(joined, sig, 'signal_added');
    // 2. Within the correlation window of an open incident sharing a dependency: merge.
    let best: { inc: IncState; root: string; distance: number } | undefined;
    for (const inc of open) {
      if (inc.doc.review === 'dismissed') continue;
      if (inc.lastActivity < sig.since - windowMs) continue;
      const common = topology.nearestCommon([...inc.affected, c]);
      if (!common) continue;
      if (!best || common.distance < best.distance) best = { inc, root: common.id, distance: common.distance };
    }
    if (best) {
      const root = best.root;
      const holder = open.find((i) => i !== best?.inc && i.doc.root_component === root);
      return join(holder ?? best.inc, sig, 'component_added');
    }
    // 3. A recently resolved incident of this component: reopen it.
    const resolved = Object.values(state.incidents)
      .filter((i) => i.doc.status === 'resolved' && state.now - i.resolvedAtMs <= cooldownMs)
      .filter((i) => i.affected.includes(c) || i.doc.root_component === c)
      .sort((a, b) => b.resolvedAtMs - a.resolvedAtMs || cmp(a.doc.id, b.doc.id))[0];
    if (resolved && !open.some((i) => i.doc.root_component === resolved.doc.root_component)) {
      return reopen(resolved, sig);
    }
    // 4. A new draft, opened now: correlation may re-root it later, never delay it.
    openDraft(sig);
  }

  function openDraft(sig: SignalState): void {
    const openedAt = iso(state.now);
    const fingerprint = sig.component;
    const id = `inc_${createHash('sha256').update(`${fingerprint}|${openedAt}`).digest('hex').slice(0, 20)}`;
    const comp = topology.get(sig.component);
    const doc: Incident = {
      id,
      title: '',
      status: 'open',
      review: 'pending',
      severity: 'major',
      opened_at: openedAt,
      resolved_at: null,
      root_component: sig.component,
      components: [],
      regions: comp.region ? [comp.region] : [],
      signals: [],
      timeline: [],
      fingerprint,
    };
    const inc: IncState = {
      doc,
      affected: [sig.component],
      signals: [],
      lastActivity: sig.since,
      resolvedAtMs: Number.NaN,
      adoptedAt: Number.NaN,
      titleRank: 0,
    };
    state.incidents[id] = inc;
    touches.set(id, { from: 0, opened: true });
    linkSignal(inc, sig);
    entry(inc, 'opened', `Tocsin detected a problem: ${signalText(sig)}.`);
    recompute(id);
  }

  function join(inc: IncState, sig: SignalState, kind: 'signal_added' | 'component_added'): void {
    touch(inc);
    inc.adoptedAt = Number.NaN;
    const existing = inc.doc.signals.find((s) => s.rule === sig.rule && s.probe === sig.probe);
    const silent = existing !== undefined && existing.until === null;
    linkSignal(inc, sig);
    inc.lastActivity = Math.max(inc.lastActivity, sig.since);
    const isNew = !inc.affected.includes(sig.component);
    if (isNew) inc.affected.push(sig.component);
    // After a restart the same failure re-detected re-attaches without a new entry.
    if (silent) return;
    if (isNew || kind === 'component_added') {
      entry(inc, isNew ? 'component_added' : 'signal_added', `${isNew ? 'Also affected: ' : ''}${signalText(sig)}.`);
    } else {
      entry(inc, 'signal_added', `${signalText(sig)}.`);
    }
  }

  function reopen(inc: IncState, sig: SignalState): void {
    touch(inc);
    inc.doc = { ...inc.doc, status: 'open', resolved_at: null };
    inc.resolvedAtMs = Number.NaN;
    linkSignal(inc, sig);
    inc.lastActivity = Math.max(inc.lastActivity, sig.since);
    if (!inc.affected.includes(sig.component)) inc.affected.push(sig.component);
    entry(inc, 'reopened', `The problem is back: ${signalText(sig)}.`);
  }

  function linkSignal(inc: IncState, sig: SignalState): void {
    sig.incident = inc.doc.id;
    if (!inc.signals.includes(sig.key)) inc.signals.push(sig.key);
    const doc = inc.doc;
    const fresh = signalDoc(sig);
    const i = doc.signals.findIndex((s) => s.rule === sig.rule && s.probe === sig.probe);
    const keepSince = i >= 0 && doc.signals[i]?.until === null ? doc.signals[i]?.since : undefined;
    const next = keepSince ? { ...fresh, since: keepSince } : fresh;
    inc.doc = { ...doc, signals: i >= 0 ? doc.signals.map((s, k) => (k === i ? next : s)) : [...doc.signals, next] };
  }

  function signalDoc(sig: SignalState): Signal {
    const evals = Object.entries(sig.failing).sort(([a], [b]) => cmp(a, b));
    const vantages = [...new Set(evals.flatMap(([, t]) => t.vantages))].sort();
    return {
      rule: sig.rule,
      probe: sig.probe,
      targets: evals.map(([t]) => t),
      vantages,
      error: evals.find(([, t]) => t.error)?.[1].error ?? null,
      since: iso(sig.since),
      until: null,
    };
  }

  /** An active signal's targets or vantages changed: the document follows, impact entries say so. */
  function refresh(sig: SignalState): void {
    const id = sig.incident;
    const inc = id ? state.incidents[id] : undefined;
    if (!inc) return;
    const before = inc.doc.signals.find((s) => s.rule === sig.rule && s.probe === sig.probe);
    const after = { ...signalDoc(sig), since: before?.since ?? iso(sig.since) };
    if (before && JSON.stringify(before) === JSON.stringify(after)) return;
    touch(inc);
    inc.doc = { ...inc.doc, signals: inc.doc.signals.map((s) => (s === before ? after : s)) };
    // More targets failing than before is news for the reader; fewer is said by impact changes.
    const grew = after.targets.some((t) => !(before?.targets ?? []).includes(t));
    if (grew && inc.doc.status === 'open') entry(inc, 'signal_added', `${signalText(sig)}.`);
  }

  function recover(sig: SignalState): void {
    const id = sig.incident;
    const inc = id ? state.incidents[id] : undefined;
    if (!inc) return;
    touch(inc);
    const until = iso(state.now);
    inc.doc = {
      ...inc.doc,
      signals: inc.doc.signals.map((s) => (s.rule === sig.rule && s.probe === sig.probe ? { ...s, until } : s)),
    };
    if (inc.doc.status !== 'open') return;
    const rule = rulesById.get(sig.rule);
    const comp = topology.get(sig.component);
    const stillActive = inc.signals.some((k) => {
      const other = state.signals[k];
      return k !== sig.key && other?.active === true && other.component === sig.component;
    });
    const vars = templateVars(sig);
    if (stillActive) {
      entry(inc, 'recovered', `${comp.name}: ${sig.probe} healthy again`);
    } else {
      const text = render(rule?.spec.recovered_text ?? '{component_name} available again', vars);
      entry(inc, 'recovered', capitalize(text.startsWith(comp.name) ? text : `${comp.name}: ${text}`));
    }
  }

  function maybeResolve(id: string): void {
    const inc = state.incidents[id];
    if (!inc || inc.doc.status !== 'open') return;
    if (inc.signals.some((k) => state.signals[k]?.active && state.signals[k]?.incident === id)) return;
    touch(inc);
    const at = iso(state.now);
    const took = humanDuration(state.now - Date.parse(inc.doc.opened_at));
    inc.doc = { ...inc.doc, status: 'resolved', resolved_at: at };
    inc.resolvedAtMs = state.now;
    entry(inc, 'resolved', `Resolved: every affected component is operational again (open for ${took}).`);
  }

  /** Root, components, impacts, severity, regions and title from the incident's signals. */
  function recompute(id: string): void {
    const inc = state.incidents[id];
    if (!inc) return;
    const doc = inc.doc;
    const common = topology.nearestCommon(inc.affected);
    const root = common?.id ?? doc.root_component;
    const previous = new Map(doc.components.map((c) => [c.id, c.impact]));
    const impacts = new Map<string, Impact>();
    for (const c of inc.affected) {
      const active = inc.signals
        .map((k) => state.signals[k])
        .filter((s): s is SignalState => s !== undefined && s.active && s.incident === id && s.component === c);
      const now = active.length > 0 ? componentImpact(c, active) : undefined;
      const impact = now ?? previous.get(c);
      if (impact) impacts.set(c, impact);
    }
    const rootHasProbes = (probesOfComponent.get(root)?.length ?? 0) > 0;
    if (!inc.affected.includes(root) && !rootHasProbes) {
      // A root without probes of its own is inferred: as bad as its worst affected dependent.
      const worst = [...impacts.values()].sort((a, b) => IMPACT_RANK[b] - IMPACT_RANK[a])[0];
      if (worst) impacts.set(root, worst);
    }
    const order = [root, ...inc.affected.filter((c) => c !== root)].filter((c) => impacts.has(c));
    const components = order.map((c) => ({ id: c, impact: impacts.get(c) ?? 'partial_outage' }) as const);
    if (root !== doc.root_component && doc.timeline.length > 0) {
      touch(inc);
      const names = inc.affected.filter((c) => c !== root).map((c) => topology.get(c).name);
      entry(
        inc,
        'rerooted',
        `Common cause: ${topology.get(root).name}${rootHasProbes ? '' : ' (no probe of its own)'}, which ${listWords(names)} depend on`,
      );
    }
    for (const c of components) {
      const was = previous.get(c.id);
      if (was && was !== c.impact) {
        touch(inc);
        entry(inc, 'impact_changed', `${topology.get(c.id).name}: ${IMPACT_WORDS[c.impact]} (was ${IMPACT_WORDS[was]})`);
      }
    }
    const regions = [
      ...new Set(order.map((c) => topology.get(c).region).filter((r): r is string => r !== undefined)),
    ].sort();
    const next: Incident = {
      ...inc.doc,
      root_component: root,
      fingerprint: root,
      components,
      regions,
      severity: severityOf(inc, root, components),
      title: titleFor(inc, root, components, regions),
    };
    if (JSON.stringify(next) !== JSON.stringify(inc.doc)) {
      touch(inc);
      inc.doc = next;
    }
  }

  function componentImpact(component: string, active: readonly SignalState[]): Impact {
    let best: Impact = 'degraded_performance';
    let auto = false;
    for (const sig of active) {
      const rule = rulesById.get(sig.rule);
      const fixed = rule?.spec.impact;
      let impact: Impact;
      const ext = sig.external ? externalImpact(sig.failing) : undefined;
      if (ext) impact = ext;
      else if (fixed && fixed !== 'auto') impact = fixed;
      else if (rule?.condition === 'degraded') impact = 'degraded_performance';
      else {
        const total = targetsOf.get(sig.probe)?.size ?? 1;
        impact = Object.keys(sig.failing).length >= total ? 'major_outage' : 'partial_outage';
        auto = true;
      }
      if (IMPACT_RANK[impact] > IMPACT_RANK[best]) best = impact;
    }
    if (best === 'major_outage' && auto) {
      // Other probes of the component still answering: only part of it is down (S7).
      const failingProbes = new Set(active.filter((s) => rulesById.get(s.rule)?.condition !== 'degraded').map((s) => s.probe));
      const answering = (probesOfComponent.get(component) ?? []).filter(
        (p) => !failingProbes.has(p) && [...(targetsOf.get(p) ?? [])].some((t) => byTarget.has(targetKey(p, t))),
      );
      if (answering.length > 0) best = 'partial_outage';
    }
    return best;
  }

  function severityOf(inc: IncState, root: string, components: readonly { id: string; impact: Impact }[]): Severity {
    const majors = components.filter((c) => c.impact === 'major_outage').length;
    const rootMajor = components.some((c) => c.id === root && c.impact === 'major_outage');
    let auto: Severity = 'minor';
    if (rootMajor || majors >= 3) auto = 'critical';
    else if (components.some((c) => c.impact !== 'degraded_performance')) auto = 'major';
    const fixed = inc.signals
      .map((k) => rulesById.get(state.signals[k]?.rule ?? '')?.spec.severity)
      .filter((s): s is Severity => s !== undefined && s !== 'auto');
    const allFixed = fixed.length > 0 && fixed.length === inc.signals.length;
    const top = fixed.sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])[0];
    const now = allFixed && top ? top : top && SEVERITY_RANK[top] > SEVERITY_RANK[auto] ? top : auto;
    // Severity is the incident's peak: a recovering component does not make the past less severe.
    const was = inc.doc.timeline.length > 1 ? inc.doc.severity : undefined;
    return was && SEVERITY_RANK[was] > SEVERITY_RANK[now] ? was : now;
  }

  /** The title follows the incident's worst moment: milder states and recoveries keep it. */
  function titleFor(
    inc: IncState,
    root: string,
    components: readonly { id: string; impact: Impact }[],
    regions: readonly string[],
  ): string {
    const rank = Math.max(0, ...components.map((c) => IMPACT_RANK[c.impact])) + (inc.affected.length > 1 ? 3 : 0);
    const active = inc.signals.some((k) => state.signals[k]?.active && state.signals[k]?.incident === inc.doc.id);
    if (inc.doc.title !== '' && (!active || rank < inc.titleRank)) return inc.doc.title;
    inc.titleRank = rank;
    return titleOf(inc, root, components, regions);
  }

  function titleOf(
    inc: IncState,
    root: string,
    components: readonly { id: string; impact: Impact }[],
    regions: readonly string[],
  ): string {
    const r = topology.get(root);
    const regionTag = regions.length > 0 ? ` [${regions.join(', ')}]` : '';
    if (inc.affected.length > 1 || !inc.affected.includes(root)) {
      const others = components.filter((c) => c.id !== root).length;
      return `${r.group}${regionTag}: ${r.name} — ${plural(others, 'component')} affected`;
    }
    // The worst active signal names the incident (slow handshakes, then 504s: the 504s).
    const active = inc.signals
      .map((k) => state.signals[k])
      .filter((sg): sg is SignalState => sg !== undefined && sg.active && sg.incident === inc.doc.id);
    const rankOf = (sg: SignalState) => IMPACT_RANK[componentImpact(sg.component, [sg])];
    const first = active.sort((a, b) => rankOf(b) - rankOf(a))[0];
    if (!first) return `${r.group}${regionTag}: ${r.name}`;
    const rule = rulesById.get(first.rule);
    const vars = { ...templateVars(first), region_tag: regionTag };
    if (rule?.spec.title) return render(rule.spec.title, vars);
    return `${r.group}${regionTag}: ${summaryOf(first, rule, components[0]?.impact)}`;
  }

  function summaryOf(sig: SignalState, rule: Rule | undefined, impact: Impact | undefined): string {
    const name = topology.get(sig.component).name;
    const v = templateVars(sig);
    if (rule?.condition === 'degraded') {
      if (v.error === 'tls_cert_expiring') return `${name} certificate expiring soon`;
      return `${name} slow`;
    }
    if (rule?.condition === 'ratio') return `${name} failing intermittently`;
    if (impact === 'partial_outage' && Number(v.total) > 1) return `${name}: ${v.failing} of ${v.total} targets failing`;
    if (impact === 'partial_outage') return `${name} partially unavailable`;
    return `${name} unreachable`;
  }

  function templateVars(sig: SignalState): Record<string, string | number> {
    const comp = topology.get(sig.component);
    const evals = Object.entries(sig.failing).sort(([a], [b]) => cmp(a, b));
    const latest = [...evals].sort(([, a], [, b]) => b.since - a.since)[0]?.[1];
    const obs = evals.find(([, t]) => t.obs)?.[1].obs ?? {};
    const seen = [...new Set(evals.flatMap(([, t]) => t.vantages))].sort();
    const rule = rulesById.get(sig.rule);
    let bad = 0;
    let checks = 0;
    const ruleIndex = probes.get(sig.probe)?.rules.findIndex((r) => r.id === sig.rule) ?? -1;
    for (const [t] of evals) {
      for (const s of byTarget.get(targetKey(sig.probe, t)) ?? []) {
        const r = s.rs[ruleIndex];
        if (!r) continue;
        bad += r.rb.reduce((a, b) => a + b, 0);
        checks += r.rb.length;
      }
    }
    return {
      component: comp.id,
      component_name: comp.name,
      group: comp.group,
      region: comp.region ?? '',
      region_tag: comp.region ? ` [${comp.region}]` : '',
      probe: sig.probe,
      rule: sig.rule,
      failing: evals.length,
      total: Math.max(evals.length, targetsOf.get(sig.probe)?.size ?? 1),
      targets: evals.map(([t]) => t).join(', '),
      vantages: seen.join(', '),
      vantages_failing: Math.max(0, ...evals.map(([, t]) => t.vantages.length)),
      vantages_total: Math.max(0, ...evals.map(([, t]) => t.nonStale)),
      error: latest?.error ?? evals[0]?.[1].error ?? 'failure',
      detail: latest?.detail ?? evals[0]?.[1].detail ?? '',
      since: Number.isNaN(sig.since) ? '' : hhmm(iso(sig.since)),
      duration: Number.isNaN(sig.since) ? '0s' : humanDuration(state.now - sig.since),
      bad,
      checks,
      window: rule ? humanDuration(rule.ratio.windowMs) : '',
      version: str(obs.version),
      majority_version: str(obs.majority_version ?? obs.expected_version),
      lag: typeof obs.lag_s === 'number' ? humanDuration(obs.lag_s * 1000) : '',
      route: str(obs.route),
    };
  }

  /** The signal in a status-page reader's words. */
  function signalText(sig: SignalState): string {
    const rule = rulesById.get(sig.rule);
    const v = templateVars(sig);
    if (rule?.spec.text) return render(rule.spec.text, v);
    const from = Number(v.vantages_total) > 1 ? ` from ${v.vantages_failing} of ${v.vantages_total} vantages` : '';
    if (v.error === 'config_out_of_sync') {
      const lbs = `${v.failing} of ${v.total} load balancers (${v.targets})`;
      const lag = v.lag ? `, for ${v.lag}` : '';
      if (v.version && v.majority_version) {
        return `${lbs} ${Number(v.failing) === 1 ? 'serves' : 'serve'} config version ${v.version} while the majority serves ${v.majority_version}${lag}`;
      }
      return `${lbs} out of sync: ${v.detail}`;
    }
    const why = v.detail ? `${v.error}: ${v.detail}` : `${v.error}`;
    if (rule?.condition === 'degraded') return `${v.component_name} is slow${from}: ${v.detail || v.error} (${v.probe})`;
    if (rule?.condition === 'ratio') {
      return `${v.component_name} fails intermittently${from}: ${v.bad} of ${v.checks} checks failed within ${v.window} (${why})`;
    }
    const what = Number(v.total) > 1 ? `${v.failing} of ${v.total} targets of ${v.probe} failing (${v.targets})` : `${v.probe} failing`;
    return `${v.component_name}: ${what}${from} since ${v.since} — ${why}`;
  }

  function entry(inc: IncState, kind: TimelineEntry['kind'], text: string): void {
    touch(inc);
    inc.doc = { ...inc.doc, timeline: [...inc.doc.timeline, { at: iso(state.now), kind, text, author: 'tocsin' }] };
  }

  function touch(inc: IncState): void {
    if (!touches.has(inc.doc.id)) touches.set(inc.doc.id, { from: inc.doc.timeline.length, opened: false });
  }

  // -------------------------------------------------------------------------------------------
  // Time

  function advance(t: number): void {
    if (t < state.now) return;
    state.now = t;
    if (t >= state.nextMaintCheck) evaluateMaintenance();
    // Staleness and keep_firing_for holds change with time alone; once per virtual second is enough.
    if (t - state.lastStaleEval >= 1000) {
      state.lastStaleEval = t;
      for (const tk of [...hot].sort(cmp)) evaluateTarget(tk);
      for (const sig of Object.values(state.signals)) {
        if (sig.active && !Number.isNaN(sig.clearingSince)) dirty.add(sig.key);
      }
      expireAdopted();
    }
    settleSignals();
    evictOld();
  }

  function evaluateMaintenance(): void {
    const active = windows.filter((w) => w.activeAt(state.now)).map((w) => w.id);
    const started = active.filter((id) => !state.windows.includes(id));
    const ended = state.windows.filter((id) => !active.includes(id));
    state.windows = active;
    for (const id of [...started, ...ended]) {
      const w = windows.find((x) => x.id === id);
      const cov = covered.get(id);
      if (!w || !cov) continue;
      const verb = started.includes(id) ? 'started' : 'ended';
      const names = listWords(w.components.map((c) => topology.get(c).name));
      for (const inc of openIncidents()) {
        if (![...inc.affected, inc.doc.root_component].some((c) => cov.has(c))) continue;
        entry(inc, 'maintenance', `Scheduled maintenance "${w.title}" ${verb} on ${names}`);
      }
    }
    // Signals held by a window that ended now open (or join) incidents: failures outlasting it.
    if (ended.length > 0) {
      const held = Object.values(state.signals).filter((s) => s.active && s.held).sort((a, b) => cmp(a.key, b.key));
      for (const sig of held) {
        if (underMaintenance(sig.component)) continue;
        sig.held = false;
        attach(sig);
        if (sig.incident) recompute(sig.incident);
      }
    }
    state.nextMaintCheck = nextMaintenanceCheck();
  }

  function nextMaintenanceCheck(): number {
    let next = Number.POSITIVE_INFINITY;
    if (hasCron) next = Math.floor(state.now / 60_000) * 60_000 + 60_000;
    for (const m of opts.plan.maintenance) {
      for (const b of [m.start, m.end]) {
        const t = b === undefined ? Number.NaN : Date.parse(b);
        if (t > state.now && t < next) next = t;
      }
    }
    // Active cron windows end off the minute grid when their duration is not whole minutes.
    for (const w of windows) {
      const hit = w.activeAt(state.now);
      if (hit && hit.end > state.now && hit.end < next) next = hit.end;
    }
    return next;
  }

  function expireAdopted(): void {
    for (const inc of Object.values(state.incidents)) {
      if (Number.isNaN(inc.adoptedAt) || inc.doc.status !== 'open') continue;
      const stale = inc.affected.flatMap((c) => probesOfComponent.get(c) ?? []).map((p) => probes.get(p)?.staleMs ?? 0);
      const grace = Math.max(120_000, ...stale.map((ms) => ms * 2));
      if (state.now - inc.adoptedAt < grace) continue;
      if (inc.signals.some((k) => state.signals[k]?.active && state.signals[k]?.incident === inc.doc.id)) continue;
      inc.adoptedAt = Number.NaN;
      touch(inc);
      const at = iso(state.now);
      inc.doc = {
        ...inc.doc,
        status: 'resolved',
        resolved_at: at,
        signals: inc.doc.signals.map((s) => (s.until === null ? { ...s, until: at } : s)),
      };
      inc.resolvedAtMs = state.now;
      entry(inc, 'resolved', 'Resolved: the failure was not seen again after Tocsin restarted.');
    }
  }

  /** Forget resolved incidents past the reopen cool-down: memory stays bounded. */
  function evictOld(): void {
    for (const [id, inc] of Object.entries(state.incidents)) {
      if (inc.doc.status !== 'resolved' || state.now - inc.resolvedAtMs <= cooldownMs) continue;
      if (inc.signals.some((k) => state.signals[k]?.incident === id)) continue;
      delete state.incidents[id];
    }
  }

  function flushPending(): void {
    if (state.pending.length === 0) return;
    const at = state.pendingAt;
    const batch = state.pending.map((e) => [canonical(e), e] as const).sort(([a], [b]) => cmp(a, b));
    state.pending = [];
    advance(at);
    const touched = new Set<string>();
    for (const [, e] of batch) applyEvent(e, at, touched);
    for (const tk of [...touched].sort(cmp)) evaluateTarget(tk);
    settleSignals();
  }

  function collect(): IncidentChange[] {
    const out: IncidentChange[] = [];
    const ids = [...touches.keys()].sort((a, b) => {
      const da = state.incidents[a]?.doc.opened_at ?? '';
      const db = state.incidents[b]?.doc.opened_at ?? '';
      return cmp(da, db) || cmp(a, b);
    });
    for (const id of ids) {
      const inc = state.incidents[id];
      const t = touches.get(id);
      if (!inc || !t) continue;
      const doc = structuredClone(inc.doc);
      const first = doc.signals.reduce((m, s) => Math.min(m, Date.parse(s.since)), Number.POSITIVE_INFINITY);
      out.push({
        incident: doc,
        appended: doc.timeline.slice(t.from),
        opened: t.opened,
        rule: doc.signals[0]?.rule ?? '',
        firstFailureMs: Number.isFinite(first) ? first : Date.parse(doc.opened_at),
      });
    }
    touches = new Map();
    return out;
  }

  function rebuildIndexes(): void {
    byTarget = new Map();
    targetsOf = new Map();
    hot = new Set();
    for (const key of Object.keys(state.series).sort(cmp)) {
      const s = state.series[key];
      const info = s ? probes.get(s.probe) : undefined;
      // Series of probes (or rule sets) that changed since the snapshot start afresh.
      if (!s || !info || s.rs.length !== info.rules.length) {
        delete state.series[key];
        continue;
      }
      indexSeries(s);
      if (s.rs.some((r) => r.firing)) hot.add(targetKey(s.probe, s.target));
    }
    for (const [key, sig] of Object.entries(state.signals)) {
      if (sig.external) externalRuleFor(sig.rule);
      else if (!rulesById.has(sig.rule) || !probes.has(sig.probe)) delete state.signals[key];
    }
  }

  /** External signals are evaluated under a rule of their own, made on first use. */
  function externalRuleFor(id: string): void {
    if (!rulesById.has(id)) rulesById.set(id, externalRule(id));
  }

  return {
    ingest(event) {
      const at = Math.max(Date.parse(event.at), state.now);
      if (state.pending.length > 0 && at > state.pendingAt) flushPending();
      state.pending.push(event);
      state.pendingAt = Math.max(state.pendingAt, at);
      return collect();
    },
    tick(nowMs) {
      // Events stamped `nowMs` may still arrive: only a strictly later time closes their batch.
      if (state.pending.length > 0 && state.pendingAt < nowMs) flushPending();
      advance(nowMs);
      return collect();
    },
    flush() {
      flushPending();
      return collect();
    },
    external(input) {
      if (!topology.ids().includes(input.component)) {
        throw new TocsinError('INVALID', `unknown component "${input.component}"`);
      }
      const at = Math.max(input.at, state.now);
      if (state.pending.length > 0 && state.pendingAt < at) flushPending();
      advance(at);
      externalRuleFor(input.rule);
      const key = externalKey(input);
      let sig = state.signals[key];
      if (!sig) {
        if (!input.active) return collect();
        sig = {
          key,
          rule: input.rule,
          probe: input.probe,
          component: input.component,
          active: false,
          since: Number.NaN,
          failing: {},
          clearingSince: Number.NaN,
          incident: null,
          held: false,
          external: {},
        };
        state.signals[key] = sig;
      }
      const alerts = sig.external ?? {};
      sig.external = alerts;
      // An alert starting "later" than now (clock skew at the sender) starts now.
      if (updateExternalAlerts(alerts, { ...input, since: Math.min(input.since, state.now) })) {
        sig.failing = externalFailing(alerts);
        dirty.add(key);
        settleSignals();
      }
      return collect();
    },
    operatorAction(action) {
      const inc = state.incidents[action.incidentId];
      if (!inc) throw new TocsinError('NOT_FOUND', `no incident ${action.incidentId}`);
      const result = applyOperatorAction(inc.doc, action);
      if (!result.ok) throw result.error;
      touch(inc);
      inc.doc = result.incident;
      if (action.action === 'resolve') inc.resolvedAtMs = Math.max(action.at, state.now);
      return collect();
    },
    adopt(incidents) {
      for (const doc of incidents) {
        if (state.incidents[doc.id] || doc.status !== 'open') continue;
        state.incidents[doc.id] = {
          doc: structuredClone(doc),
          // An inferred root (no probe of its own) is not an affected component.
          affected: doc.components
            .map((c) => c.id)
            .filter((id) => id !== doc.root_component || (probesOfComponent.get(id)?.length ?? 0) > 0),
          signals: [],
          lastActivity: Date.parse(doc.opened_at),
          resolvedAtMs: Number.NaN,
          adoptedAt: Number.isFinite(state.now) ? state.now : Date.parse(doc.opened_at),
          titleRank: 9,
        };
      }
    },
    incidents() {
      return Object.values(state.incidents)
        .map((i) => structuredClone(i.doc))
        .sort((a, b) => cmp(a.opened_at, b.opened_at) || cmp(a.id, b.id));
    },
    componentStatuses() {
      const out: Record<string, ComponentStatus> = {};
      for (const id of topology.ids()) out[id] = underMaintenance(id) ? 'under_maintenance' : 'operational';
      const raise = (id: string, impact: Impact): void => {
        const cur = out[id];
        if (cur === 'under_maintenance') return;
        if (cur === undefined || cur === 'operational' || IMPACT_RANK[impact] > IMPACT_RANK[cur]) out[id] = impact;
      };
      const active = new Map<string, SignalState[]>();
      for (const sig of Object.values(state.signals)) {
        const inc = sig.incident ? state.incidents[sig.incident] : undefined;
        // A dismissed draft is a false alarm by the operator's word: its component shows operational.
        if (!sig.active || !inc || inc.doc.status !== 'open' || inc.doc.review === 'dismissed') continue;
        active.set(sig.component, [...(active.get(sig.component) ?? []), sig]);
      }
      for (const [c, list] of active) raise(c, componentImpact(c, list));
      for (const inc of Object.values(state.incidents)) {
        if (inc.doc.status !== 'open' || inc.doc.review === 'dismissed' || inc.affected.includes(inc.doc.root_component)) continue;
        const root = inc.doc.components.find((c) => c.id === inc.doc.root_component);
        if (root) raise(root.id, root.impact);
      }
      return out;
    },
    snapshot() {
      return { version: SNAPSHOT_VERSION, state: JSON.parse(JSON.stringify(state, snapshotReplacer)) as unknown };
    },
    restore(raw) {
      const snap = raw as Partial<EngineSnapshot> | undefined;
      if (!snap || snap.version !== SNAPSHOT_VERSION || typeof snap.state !== 'object' || snap.state === null) return;
      state = reviveState(snap.state as Record<string, unknown>);
      rebuildIndexes();
      // Incidents whose signals vanished with a changed config resolve like adopted ones.
      for (const inc of Object.values(state.incidents)) {
        const alive = inc.signals.some((k) => state.signals[k]?.active && state.signals[k]?.incident === inc.doc.id);
        if (inc.doc.status === 'open' && !alive && Number.isNaN(inc.adoptedAt)) inc.adoptedAt = state.now;
      }
    },
    now: () => state.now,
  };
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** JSON has no NaN or infinities: they travel as tagged strings. */
function snapshotReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return `#num:${String(value)}`;
  return value;
}

function reviveState(raw: Record<string, unknown>): State {
  return JSON.parse(JSON.stringify(raw), (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith('#num:') ? Number(v.slice(5)) : v,
  ) as State;
}

function targetKey(probe: string, target: string): string {
  return `${probe}${SEP}${target}`;
}

function canonical(e: ProbeResult): string {
  return JSON.stringify([e.probe, e.target ?? '', e.vantage, e.ok, e.error ?? '', e.detail ?? '', e.duration_ms ?? 0, e.observations ?? null]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function str(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' ? String(v) : '';
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
