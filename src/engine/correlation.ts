/**
 * Correlation over the component graph: where a newly active signal goes (docs/rules.md). One
 * failure seen from several components is one incident for the status-page reader, so a signal
 * joins the open incident of its component, or merges under the nearest common dependency with
 * an incident whose latest signal started within the correlation window, or reopens its
 * component's incident resolved within the cool-down, or else opens a new draft at once
 * (correlation may re-root it later, never delay it). When a signal makes an incident's root a
 * dependency of other open incidents (the zone fails after some of its apps were drafted apart),
 * those are merged into it. Only the decision lives here; the document edits are lifecycle.ts's.
 *
 * Dismissed drafts (CONTRACT §5.9): the same failure going on (the same rule on the same
 * component) stays with the dismissed incident, quietly; a failure of another rule, and any
 * failure after it recovered, is a new pending draft that names it. A dismissal never hides a later outage.
 *
 * Every lookup here is per open incident, never per component or signal of one: a signal's
 * placement costs the same whatever the size of the incidents it is placed among.
 */
import type { EngineContext } from './context.js';
import { incIndex, nearestCommonWith } from './incident-index.js';
import { absorb, join, openDraft, openIncidents, reopen } from './lifecycle.js';
import { quorumMetAt } from './quorum.js';
import { cmp, type IncState, type SignalState } from './state.js';

export function attach(ctx: EngineContext, sig: SignalState): void {
  const holder = place(ctx, sig);
  if (holder) mergeUnder(ctx, holder);
}

/** Places the signal; returns the incident it went to. */
function place(ctx: EngineContext, sig: SignalState): IncState | undefined {
  const { state, cfg } = ctx;
  const c = sig.component;
  const open = openIncidents(ctx);
  // A component an operator removed from an incident is not held by it: its signals that were
  // active then stay where they are, a new failure of it is placed like any other.
  const holds = (i: IncState) => {
    const x = incIndex(ctx, i);
    return (x.affected.has(c) && !x.removed.has(c)) || i.doc.root_component === c;
  };
  // 1. A component (or root) of an open incident: join it. A dismissed one takes back only the
  // failure it was dismissed for: the same rule on the same component (S13).
  const sameFailure = (i: IncState) =>
    (incIndex(ctx, i).signalsOf.get(c) ?? []).some((k) => state.signals[k]?.rule === sig.rule);
  const joined =
    open.find((i) => i.doc.review !== 'dismissed' && holds(i)) ??
    open.find((i) => i.doc.review === 'dismissed' && holds(i) && sameFailure(i));
  if (joined) {
    join(ctx, joined, sig, 'signal_added');
    return joined;
  }
  const dismissedOpen = open.find((i) => i.doc.review === 'dismissed' && holds(i));
  // 2. Within the correlation window of an open incident sharing a dependency: merge. A signal
  // whose evidence came late (a vantage flushing a backlog) is placed as it would have been in
  // order: incidents resolved since its condition held (by the checks' times) were open then.
  const metAt = quorumMetAt(ctx, sig);
  const candidates = metAt < state.now ? open.concat(resolvedSince(ctx, metAt)) : open;
  let best: { inc: IncState; root: string; distance: number } | undefined;
  for (const inc of candidates) {
    // A dismissed draft is a false alarm: new failures do not pile onto it.
    if (inc.doc.review === 'dismissed') continue;
    // Started within the window of the incident's signals, on either side: whichever of two
    // signals fires first, they merge or not alike (replay and daemon agree).
    const x = incIndex(ctx, inc);
    // An operator took this component out of the incident: its failures are another story,
    // and merged back they would be hidden (a removed component is neither listed nor announced).
    if (x.removed.has(c)) continue;
    if (sig.since > inc.lastActivity + cfg.windowMs || sig.since < x.firstActivity - cfg.windowMs) continue;
    const common = nearestCommonWith(ctx, x, c);
    if (!common) continue;
    if (!best || common.distance < best.distance) best = { inc, root: common.id, distance: common.distance };
  }
  if (best) {
    const root = best.root;
    // Another open incident already rooted there takes the signal: one incident per root.
    const holder = open.find((i) => i !== best?.inc && i.doc.review !== 'dismissed' && i.doc.root_component === root) ?? best.inc;
    if (holder.doc.status === 'resolved') reopen(ctx, holder, sig);
    else join(ctx, holder, sig, 'component_added');
    return holder;
  }
  // 3. A recently resolved incident of this component: reopen it, unless operators dismissed it.
  const resolved = Object.values(state.incidents)
    .filter((i) => i.doc.status === 'resolved' && state.now - i.resolvedAtMs <= cfg.cooldownMs && holds(i))
    .sort((a, b) => b.resolvedAtMs - a.resolvedAtMs || cmp(a.doc.id, b.doc.id))[0];
  if (resolved && resolved.doc.review !== 'dismissed' && !open.some((i) => i.doc.root_component === resolved.doc.root_component)) {
    reopen(ctx, resolved, sig);
    return resolved;
  }
  // 4. A new draft, opened now (naming the dismissed incident of the component, if any).
  const remembered = state.dismissed?.[c];
  const dismissed = dismissedOpen?.doc.id ?? (resolved?.doc.review === 'dismissed' ? resolved.doc.id : remembered);
  // Named once its failure is over: the next drafts of the component are just drafts.
  if (!dismissedOpen && remembered !== undefined && state.dismissed) delete state.dismissed[c];
  openDraft(ctx, sig, dismissed);
  return sig.incident ? state.incidents[sig.incident] : undefined;
}

/** Incidents resolved after `at` (not dismissed): open at that time, in opening order. */
function resolvedSince(ctx: EngineContext, at: number): IncState[] {
  return Object.values(ctx.state.incidents)
    .filter((i) => i.doc.status === 'resolved' && i.resolvedAtMs > at && i.doc.review !== 'dismissed')
    .sort((a, b) => cmp(a.doc.opened_at, b.doc.opened_at) || cmp(a.doc.id, b.doc.id));
}

/**
 * Other open incidents whose components all depend on `holder`'s root are the same failure seen
 * earlier: they move into `holder` (oldest first), so one zone is one incident even when some
 * of its apps were drafted before the zone itself failed. Only drafts move: a dismissed one is
 * the operators' word, a confirmed one is already public, and an edited one carries what an
 * operator set (docs/incidents.md, "Edits"), so they stay as they are.
 */
function mergeUnder(ctx: EngineContext, holder: IncState): void {
  if (holder.doc.review === 'dismissed') return;
  // The root the signal just gave it (the document follows at the next recompute).
  const root = nearestCommonWith(ctx, incIndex(ctx, holder))?.id ?? holder.doc.root_component;
  const removed = incIndex(ctx, holder).removed;
  for (const other of openIncidents(ctx)) {
    if (other === holder || other.doc.review !== 'pending' || other.doc.overrides) continue;
    const x = incIndex(ctx, other);
    if (x.affected.size === 0 || !x.common.has(root)) continue;
    // A draft of a component an operator took out of `holder` stays apart (the operator's list
    // is short: this scans it, not the draft's components).
    if (removed.size > 0 && [...removed].some((c) => x.affected.has(c))) continue;
    absorb(ctx, holder, other);
  }
}
