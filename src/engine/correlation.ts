/**
 * Correlation over the component graph: where a newly active signal goes (docs/rules.md). One
 * failure seen from several components is one incident for the status-page reader, so a signal
 * joins the open incident of its component, or merges under the nearest common dependency with
 * an incident whose latest signal started within the correlation window, or reopens its
 * component's incident resolved within the cool-down, or else opens a new draft at once
 * (correlation may re-root it later, never delay it). Only the decision lives here; the
 * document edits are lifecycle.ts's.
 */
import type { EngineContext } from './context.js';
import { join, openDraft, openIncidents, reopen } from './lifecycle.js';
import { cmp, type IncState, type SignalState } from './state.js';

export function attach(ctx: EngineContext, sig: SignalState): void {
  const { state, cfg } = ctx;
  const c = sig.component;
  const open = openIncidents(ctx);
  // 1. A component (or root) of an open incident: join it.
  const joined = open.find((i) => i.affected.includes(c) || i.doc.root_component === c);
  if (joined) return join(ctx, joined, sig, 'signal_added');
  // 2. Within the correlation window of an open incident sharing a dependency: merge.
  let best: { inc: IncState; root: string; distance: number } | undefined;
  for (const inc of open) {
    // A dismissed draft is a false alarm: new failures do not pile onto it.
    if (inc.doc.review === 'dismissed') continue;
    if (inc.lastActivity < sig.since - cfg.windowMs) continue;
    const common = cfg.topology.nearestCommon([...inc.affected, c]);
    if (!common) continue;
    if (!best || common.distance < best.distance) best = { inc, root: common.id, distance: common.distance };
  }
  if (best) {
    const root = best.root;
    // Another open incident already rooted there takes the signal: one incident per root.
    const holder = open.find((i) => i !== best?.inc && i.doc.root_component === root);
    return join(ctx, holder ?? best.inc, sig, 'component_added');
  }
  // 3. A recently resolved incident of this component: reopen it.
  const resolved = Object.values(state.incidents)
    .filter((i) => i.doc.status === 'resolved' && state.now - i.resolvedAtMs <= cfg.cooldownMs)
    .filter((i) => i.affected.includes(c) || i.doc.root_component === c)
    .sort((a, b) => b.resolvedAtMs - a.resolvedAtMs || cmp(a.doc.id, b.doc.id))[0];
  if (resolved && !open.some((i) => i.doc.root_component === resolved.doc.root_component)) {
    return reopen(ctx, resolved, sig);
  }
  // 4. A new draft, opened now.
  openDraft(ctx, sig);
}
