/**
 * The life of an incident document: opened as a draft, joined by signals, refreshed as their
 * targets change, resolved when its last signal recovers, reopened within the cool-down,
 * adopted from the store after a restart and forgotten once past the cool-down. Each step
 * writes its timeline entry here. Where a new signal goes is decided by correlation.ts; what the
 * incident amounts to (root, impacts, severity, title) by assessment.ts.
 */
import { createHash } from 'node:crypto';
import type { Incident, Signal } from '../events/incident.js';
import { recompute } from './assessment.js';
import { entry, touch } from './changes.js';
import type { EngineContext } from './context.js';
import {
  addAffected,
  addSignalKey,
  incIndex,
  setAffectedImpact,
  syncActive,
  unlinkActive,
} from './incident-index.js';
import { cmp, type IncState, sameList, type SignalState, signalKey } from './state.js';
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
 * so a replay of the same events gives the same ids. `dismissed`: an earlier incident of the
 * component that operators dismissed, named in the opening entry (CONTRACT §5.9).
 */
/**
 * An incident's id, from its fingerprint and opening time (the same input gives the same ids).
 * Taken already only when a restart replays the events that opened a tracked incident (a
 * snapshot saved with them still buffered): then the next free variant.
 */
function incidentId(ctx: EngineContext, seed: string): string {
  const hash = (s: string) => `inc_${createHash('sha256').update(s).digest('hex').slice(0, 20)}`;
  let id = hash(seed);
  for (let n = 1; ctx.state.incidents[id]; n++) id = hash(`${seed}|${n}`);
  return id;
}

export function openDraft(ctx: EngineContext, sig: SignalState, dismissed?: string): void {
  const { state } = ctx;
  const openedAt = iso(state.now);
  const fingerprint = sig.component;
  const id = incidentId(ctx, `${fingerprint}|${openedAt}`);
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
  ctx.incIdx.delete(id);
  ctx.touches.set(id, { from: 0, opened: true });
  linkSignal(ctx, inc, sig);
  const earlier = dismissed ? ` An earlier alarm on ${comp.name} (${dismissed}) was dismissed; this is a new failure.` : '';
  entry(ctx, inc, 'opened', `Tocsin detected a problem: ${signalText(ctx, sig)}.${earlier}`);
  recompute(ctx, id);
}

/** A signal joins an open incident: its own component's (`signal_added`) or a merge (`component_added`). */
export function join(ctx: EngineContext, inc: IncState, sig: SignalState, kind: 'signal_added' | 'component_added'): void {
  touch(ctx, inc);
  inc.adoptedAt = Number.NaN;
  const x = incIndex(ctx, inc);
  const existing = inc.doc.signals[x.sigPos.get(signalKey(sig.rule, sig.probe)) ?? -1];
  const silent = existing !== undefined && existing.until === null;
  linkSignal(ctx, inc, sig);
  inc.lastActivity = Math.max(inc.lastActivity, sig.since);
  const isNew = addAffectedComponent(ctx, inc, sig.component);
  // After a restart the same failure re-detected re-attaches without a new entry; a component
  // an operator removed is not announced again.
  if (silent || x.removed.has(sig.component)) return;
  const name = ctx.cfg.topology.get(sig.component).name;
  if (isNew || kind === 'component_added') {
    entry(ctx, inc, isNew ? 'component_added' : 'signal_added', `${isNew ? 'Also affected: ' : ''}${signalText(ctx, sig)}.`, name);
  } else {
    entry(ctx, inc, 'signal_added', `${signalText(ctx, sig)}.`, name);
  }
}

export function reopen(ctx: EngineContext, inc: IncState, sig: SignalState): void {
  touch(ctx, inc);
  inc.doc.status = 'open';
  inc.doc.resolved_at = null;
  inc.resolvedAtMs = Number.NaN;
  linkSignal(ctx, inc, sig);
  inc.lastActivity = Math.max(inc.lastActivity, sig.since);
  addAffectedComponent(ctx, inc, sig.component);
  entry(ctx, inc, 'reopened', `The problem is back: ${signalText(ctx, sig)}.`);
}

/**
 * Moves every signal and component of `other` into `holder` (correlation.ts decided they share
 * its root); `other` resolves, saying where its failure went.
 */
export function absorb(ctx: EngineContext, holder: IncState, other: IncState): void {
  const { state, cfg } = ctx;
  touch(ctx, holder);
  touch(ctx, other);
  const ox = incIndex(ctx, other);
  const hx = incIndex(ctx, holder);
  for (const key of other.signals) {
    const sig = state.signals[key];
    if (!sig || sig.incident !== other.doc.id) continue;
    linkSignal(ctx, holder, sig);
    holder.lastActivity = Math.max(holder.lastActivity, sig.since);
  }
  for (const c of other.affected) {
    const impact = ox.impact.get(c);
    if (!addAffectedComponent(ctx, holder, c)) continue;
    if (impact) setAffectedImpact(hx, c, impact);
    entry(ctx, holder, 'component_added', `Also affected: ${cfg.topology.get(c).name} (was ${other.doc.id}).`, cfg.topology.get(c).name);
  }
  hx.rebuild = true;
  const at = iso(state.now);
  other.doc.status = 'resolved';
  other.doc.resolved_at = at;
  other.doc.signals = other.doc.signals.map((s) => (s.until === null ? { ...s, until: at } : s));
  other.resolvedAtMs = state.now;
  other.adoptedAt = Number.NaN;
  ox.active.clear();
  entry(
    ctx,
    other,
    'resolved',
    `Merged into ${holder.doc.id}: the common cause is ${cfg.topology.get(holder.doc.root_component).name}, which its components depend on.`,
  );
  recompute(ctx, holder.doc.id);
}

/** Adds a component to the incident's affected ones; whether it is new there. */
function addAffectedComponent(ctx: EngineContext, inc: IncState, component: string): boolean {
  const x = incIndex(ctx, inc);
  if (x.affected.has(component)) return false;
  inc.affected.push(component);
  addAffected(ctx, x, component);
  return true;
}

/** Attaches the signal to the incident and writes it into the document (one entry per rule and probe). */
function linkSignal(ctx: EngineContext, inc: IncState, sig: SignalState): void {
  if (sig.incident !== inc.doc.id) unlinkActive(ctx, sig);
  sig.incident = inc.doc.id;
  const x = incIndex(ctx, inc);
  if (!x.signalKeys.has(sig.key)) {
    inc.signals.push(sig.key);
    addSignalKey(ctx, x, sig.key, sig);
  }
  syncActive(ctx, sig);
  x.dirty.add(sig.component);
  x.firstActivity = Math.min(x.firstActivity, sig.since);
  const doc = inc.doc;
  const fresh = signalDoc(sig);
  const pos = signalKey(sig.rule, sig.probe);
  const i = x.sigPos.get(pos);
  const current = i === undefined ? undefined : doc.signals[i];
  // A signal still open in the document (re-detected after a restart) keeps its first `since`.
  const keepSince = current?.until === null ? current.since : undefined;
  const next = keepSince ? { ...fresh, since: keepSince } : fresh;
  if (i === undefined) {
    x.sigPos.set(pos, doc.signals.length);
    doc.signals.push(next);
  } else {
    doc.signals[i] = next;
  }
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
  const x = incIndex(ctx, inc);
  x.dirty.add(sig.component);
  const i = x.sigPos.get(signalKey(sig.rule, sig.probe));
  const before = i === undefined ? undefined : inc.doc.signals[i];
  // A vantage reporting late may show the failure started earlier: `since` only moves back.
  const since = before && Date.parse(before.since) <= sig.since ? before.since : iso(sig.since);
  const after = { ...signalDoc(sig), since };
  if (sig.since < x.firstActivity) x.firstActivity = sig.since;
  if (before && sameSignal(before, after)) return;
  touch(ctx, inc);
  if (i !== undefined) inc.doc.signals[i] = after;
  // More targets failing than before is news for the reader; fewer is said by impact changes.
  const had = new Set(before?.targets ?? []);
  const grew = after.targets.some((t) => !had.has(t));
  if (grew && inc.doc.status === 'open' && !x.removed.has(sig.component)) {
    entry(ctx, inc, 'signal_added', `${signalText(ctx, sig)}.`, ctx.cfg.topology.get(sig.component).name);
  }
}

function sameSignal(a: Signal, b: Signal): boolean {
  const sameTimes = a.since === b.since && a.until === b.until;
  return sameTimes && a.error === b.error && sameList(a.targets, b.targets) && sameList(a.vantages, b.vantages);
}

/** A signal recovered: its `until` is set; the incident says so while it is open. */
export function recover(ctx: EngineContext, sig: SignalState): void {
  const { state } = ctx;
  const id = sig.incident;
  const inc = id ? state.incidents[id] : undefined;
  if (!inc) return;
  touch(ctx, inc);
  const x = incIndex(ctx, inc);
  x.dirty.add(sig.component);
  const until = iso(state.now);
  const i = x.sigPos.get(signalKey(sig.rule, sig.probe));
  const s = i === undefined ? undefined : inc.doc.signals[i];
  if (i !== undefined && s) inc.doc.signals[i] = { ...s, until };
  if (inc.doc.status !== 'open' || x.removed.has(sig.component)) return;
  const stillActive = (x.signalsOf.get(sig.component) ?? []).some((k) => {
    const other = state.signals[k];
    return k !== sig.key && other?.active === true && other.incident === inc.doc.id;
  });
  entry(ctx, inc, 'recovered', recoveredText(ctx, sig, stillActive), ctx.cfg.topology.get(sig.component).name);
}

/** Resolves the incident once no signal holds it open any more. */
export function maybeResolve(ctx: EngineContext, id: string): void {
  const { state } = ctx;
  const inc = state.incidents[id];
  if (!inc || inc.doc.status !== 'open') return;
  if (incIndex(ctx, inc).active.size > 0) return;
  touch(ctx, inc);
  const at = iso(state.now);
  const took = humanDuration(state.now - Date.parse(inc.doc.opened_at));
  inc.doc.status = 'resolved';
  inc.doc.resolved_at = at;
  inc.resolvedAtMs = state.now;
  entry(ctx, inc, 'resolved', `Resolved: every affected component is operational again (open for ${took}).`);
}

/**
 * Stored incidents this engine does not know (after a restart): open ones are tracked again
 * and resolved by `expireAdopted` unless a signal joins them within the grace; once the clock
 * is known (a snapshot restored), those resolved within the reopen cool-down are kept too.
 */
export function adoptStored(ctx: EngineContext, incidents: readonly Incident[]): void {
  const { state } = ctx;
  for (const doc of incidents) {
    // An operator's own post is theirs to resolve: the detector does not track it.
    if (state.incidents[doc.id] || doc.origin === 'operator') continue;
    // Resolved ones within the reopen cool-down too: a failure coming back reopens them (as it
    // would have without the restart), and a replayed opening does not reuse their id.
    const resolvedAt = doc.resolved_at ? Date.parse(doc.resolved_at) : Number.NaN;
    const recent = doc.status === 'resolved' && Number.isFinite(state.now) && state.now - resolvedAt <= ctx.cfg.cooldownMs;
    if (doc.status !== 'open' && !recent) continue;
    ctx.incIdx.delete(doc.id);
    state.incidents[doc.id] = {
      doc: structuredClone(doc),
      // An inferred root (no probe of its own) is not an affected component.
      // Components an operator removed stay affected (the root still spans them) but unlisted;
      // correlation does not hold them for new failures.
      affected: doc.components
        .map((c) => c.id)
        .filter((id) => id !== doc.root_component || (ctx.cfg.probesOfComponent.get(id)?.length ?? 0) > 0)
        .concat(doc.overrides?.removed ?? []),
      signals: [],
      lastActivity: Date.parse(doc.opened_at),
      resolvedAtMs: doc.status === 'open' ? Number.NaN : resolvedAt,
      adoptedAt: doc.status !== 'open' ? Number.NaN : Number.isFinite(state.now) ? state.now : Date.parse(doc.opened_at),
      titleRank: 9,
    };
  }
}

/** After a restore: open incidents whose signals vanished with a changed config resolve like adopted ones. */
export function adoptOrphans(ctx: EngineContext): void {
  const { state } = ctx;
  for (const inc of Object.values(state.incidents)) {
    if (inc.doc.status === 'open' && incIndex(ctx, inc).active.size === 0 && Number.isNaN(inc.adoptedAt)) inc.adoptedAt = state.now;
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
    if (incIndex(ctx, inc).active.size > 0) continue;
    inc.adoptedAt = Number.NaN;
    touch(ctx, inc);
    const at = iso(state.now);
    inc.doc.status = 'resolved';
    inc.doc.resolved_at = at;
    inc.doc.signals = inc.doc.signals.map((s) => (s.until === null ? { ...s, until: at } : s));
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
    ctx.incIdx.delete(id);
  }
}
