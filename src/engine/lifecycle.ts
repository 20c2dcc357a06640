/**
 * The life of an incident document: opened as a draft, joined by signals, refreshed as their
 * targets change, resolved when its last signal recovers, reopened within the cool-down,
 * adopted from the store after a restart and forgotten once past the cool-down. Each step
 * writes its timeline entry here. Where a new signal goes is decided by correlation.ts; what the
 * incident amounts to (root, impacts, severity, title) by assessment.ts.
 */
import { createHash } from 'node:crypto';
import type { Incident, Signal } from '../incidents/incident.js';
import { recompute } from './assessment.js';
import { entry, touch } from './changes.js';
import type { EngineContext } from './context.js';
import { cmp, hasActiveSignal, type IncState, type SignalState } from './state.js';
import { humanDuration, iso } from './text.js';
import { recoveredText, signalText } from './wording.js';

/** Open incidents, oldest first (ties by id): the order correlation looks at them in. */
export function openIncidents(ctx: EngineContext): IncState[] {
  return Object.values(ctx.state.incidents)
    .filter((i) => i.doc.status === 'open')
    .sort((a, b) => cmp(a.doc.opened_at, b.doc.opened_at) || cmp(a.doc.id, b.doc.id));
}

/**
 * A new draft, opened now. The id derives from the fingerprint (the component) and `opened_at`,
 * so a replay of the same events gives the same ids.
 */
export function openDraft(ctx: EngineContext, sig: SignalState): void {
  const { state } = ctx;
  const openedAt = iso(state.now);
  const fingerprint = sig.component;
  const id = `inc_${createHash('sha256').update(`${fingerprint}|${openedAt}`).digest('hex').slice(0, 20)}`;
  const comp = ctx.cfg.topology.get(sig.component);
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
  ctx.touches.set(id, { from: 0, opened: true });
  linkSignal(ctx, inc, sig);
  entry(ctx, inc, 'opened', `Tocsin detected a problem: ${signalText(ctx, sig)}.`);
  recompute(ctx, id);
}

/** A signal joins an open incident: its own component's (`signal_added`) or a merge (`component_added`). */
export function join(ctx: EngineContext, inc: IncState, sig: SignalState, kind: 'signal_added' | 'component_added'): void {
  touch(ctx, inc);
  inc.adoptedAt = Number.NaN;
  const existing = inc.doc.signals.find((s) => s.rule === sig.rule && s.probe === sig.probe);
  const silent = existing !== undefined && existing.until === null;
  linkSignal(ctx, inc, sig);
  inc.lastActivity = Math.max(inc.lastActivity, sig.since);
  const isNew = !inc.affected.includes(sig.component);
  if (isNew) inc.affected.push(sig.component);
  // After a restart the same failure re-detected re-attaches without a new entry.
  if (silent) return;
  if (isNew || kind === 'component_added') {
    entry(ctx, inc, isNew ? 'component_added' : 'signal_added', `${isNew ? 'Also affected: ' : ''}${signalText(ctx, sig)}.`);
  } else {
    entry(ctx, inc, 'signal_added', `${signalText(ctx, sig)}.`);
  }
}

export function reopen(ctx: EngineContext, inc: IncState, sig: SignalState): void {
  touch(ctx, inc);
  inc.doc = { ...inc.doc, status: 'open', resolved_at: null };
  inc.resolvedAtMs = Number.NaN;
  linkSignal(ctx, inc, sig);
  inc.lastActivity = Math.max(inc.lastActivity, sig.since);
  if (!inc.affected.includes(sig.component)) inc.affected.push(sig.component);
  entry(ctx, inc, 'reopened', `The problem is back: ${signalText(ctx, sig)}.`);
}

/** Attaches the signal to the incident and writes it into the document (one entry per rule and probe). */
function linkSignal(ctx: EngineContext, inc: IncState, sig: SignalState): void {
  sig.incident = inc.doc.id;
  if (!inc.signals.includes(sig.key)) inc.signals.push(sig.key);
  const doc = inc.doc;
  const fresh = signalDoc(sig);
  const i = doc.signals.findIndex((s) => s.rule === sig.rule && s.probe === sig.probe);
  // A signal still open in the document (re-detected after a restart) keeps its first `since`.
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
export function refresh(ctx: EngineContext, sig: SignalState): void {
  const id = sig.incident;
  const inc = id ? ctx.state.incidents[id] : undefined;
  if (!inc) return;
  const before = inc.doc.signals.find((s) => s.rule === sig.rule && s.probe === sig.probe);
  const after = { ...signalDoc(sig), since: before?.since ?? iso(sig.since) };
  if (before && JSON.stringify(before) === JSON.stringify(after)) return;
  touch(ctx, inc);
  inc.doc = { ...inc.doc, signals: inc.doc.signals.map((s) => (s === before ? after : s)) };
  // More targets failing than before is news for the reader; fewer is said by impact changes.
  const grew = after.targets.some((t) => !(before?.targets ?? []).includes(t));
  if (grew && inc.doc.status === 'open') entry(ctx, inc, 'signal_added', `${signalText(ctx, sig)}.`);
}

/** A signal recovered: its `until` is set; the incident says so while it is open. */
export function recover(ctx: EngineContext, sig: SignalState): void {
  const { state } = ctx;
  const id = sig.incident;
  const inc = id ? state.incidents[id] : undefined;
  if (!inc) return;
  touch(ctx, inc);
  const until = iso(state.now);
  inc.doc = {
    ...inc.doc,
    signals: inc.doc.signals.map((s) => (s.rule === sig.rule && s.probe === sig.probe ? { ...s, until } : s)),
  };
  if (inc.doc.status !== 'open') return;
  const stillActive = inc.signals.some((k) => {
    const other = state.signals[k];
    return k !== sig.key && other?.active === true && other.component === sig.component;
  });
  entry(ctx, inc, 'recovered', recoveredText(ctx, sig, stillActive));
}

/** Resolves the incident once no signal holds it open any more. */
export function maybeResolve(ctx: EngineContext, id: string): void {
  const { state } = ctx;
  const inc = state.incidents[id];
  if (!inc || inc.doc.status !== 'open') return;
  if (hasActiveSignal(state, inc)) return;
  touch(ctx, inc);
  const at = iso(state.now);
  const took = humanDuration(state.now - Date.parse(inc.doc.opened_at));
  inc.doc = { ...inc.doc, status: 'resolved', resolved_at: at };
  inc.resolvedAtMs = state.now;
  entry(ctx, inc, 'resolved', `Resolved: every affected component is operational again (open for ${took}).`);
}

/**
 * Stored open incidents this engine does not know (after a restart without state): tracked
 * again, and resolved by `expireAdopted` unless a signal joins them within the grace.
 */
export function adoptStored(ctx: EngineContext, incidents: readonly Incident[]): void {
  const { state } = ctx;
  for (const doc of incidents) {
    if (state.incidents[doc.id] || doc.status !== 'open') continue;
    state.incidents[doc.id] = {
      doc: structuredClone(doc),
      // An inferred root (no probe of its own) is not an affected component.
      affected: doc.components
        .map((c) => c.id)
        .filter((id) => id !== doc.root_component || (ctx.cfg.probesOfComponent.get(id)?.length ?? 0) > 0),
      signals: [],
      lastActivity: Date.parse(doc.opened_at),
      resolvedAtMs: Number.NaN,
      adoptedAt: Number.isFinite(state.now) ? state.now : Date.parse(doc.opened_at),
      titleRank: 9,
    };
  }
}

/** After a restore: open incidents whose signals vanished with a changed config resolve like adopted ones. */
export function adoptOrphans(ctx: EngineContext): void {
  const { state } = ctx;
  for (const inc of Object.values(state.incidents)) {
    if (inc.doc.status === 'open' && !hasActiveSignal(state, inc) && Number.isNaN(inc.adoptedAt)) inc.adoptedAt = state.now;
  }
}

/**
 * Adopted incidents no signal joined within the grace (two stale periods of their probes, at
 * least 2 min): the failure was not seen again, so they resolve.
 */
export function expireAdopted(ctx: EngineContext): void {
  const { state, cfg } = ctx;
  for (const inc of Object.values(state.incidents)) {
    if (Number.isNaN(inc.adoptedAt) || inc.doc.status !== 'open') continue;
    const stale = inc.affected
      .flatMap((c) => cfg.probesOfComponent.get(c) ?? [])
      .map((p) => cfg.probes.get(p)?.staleMs ?? 0);
    const grace = Math.max(120_000, ...stale.map((ms) => ms * 2));
    if (state.now - inc.adoptedAt < grace) continue;
    if (hasActiveSignal(state, inc)) continue;
    inc.adoptedAt = Number.NaN;
    touch(ctx, inc);
    const at = iso(state.now);
    inc.doc = {
      ...inc.doc,
      status: 'resolved',
      resolved_at: at,
      signals: inc.doc.signals.map((s) => (s.until === null ? { ...s, until: at } : s)),
    };
    inc.resolvedAtMs = state.now;
    entry(ctx, inc, 'resolved', 'Resolved: the failure was not seen again after Tocsin restarted.');
  }
}

/** Forget resolved incidents past the reopen cool-down: memory stays bounded. */
export function evictOld(ctx: EngineContext): void {
  const { state } = ctx;
  for (const [id, inc] of Object.entries(state.incidents)) {
    if (inc.doc.status !== 'resolved' || state.now - inc.resolvedAtMs <= ctx.cfg.cooldownMs) continue;
    if (inc.signals.some((k) => state.signals[k]?.incident === id)) continue;
    delete state.incidents[id];
  }
}
