/**
 * Each component's status for the status page and the API (CONTRACT §6), read off the engine's
 * state on demand rather than kept up to date: it is asked for far less often than events
 * arrive, and deriving it cannot drift from the incidents it summarises.
 */
import { componentImpact } from './assessment.js';
import type { EngineContext } from './context.js';
import { underMaintenance } from './maintenance-holds.js';
import type { SignalState } from './state.js';
import { type ComponentStatus, type Impact, IMPACT_RANK } from './types.js';

export function componentStatusesOf(ctx: EngineContext): Record<string, ComponentStatus> {
  const { state, cfg } = ctx;
  const out: Record<string, ComponentStatus> = {};
  for (const id of cfg.topology.ids()) out[id] = underMaintenance(ctx, id) ? 'under_maintenance' : 'operational';
  // Maintenance wins: a covered component's failures were announced.
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
  for (const [c, list] of active) raise(c, componentImpact(ctx, c, list));
  // An inferred root (no signal of its own) shows the impact the incident gave it.
  for (const inc of Object.values(state.incidents)) {
    if (inc.doc.status !== 'open' || inc.doc.review === 'dismissed' || inc.affected.includes(inc.doc.root_component)) continue;
    const root = inc.doc.components.find((c) => c.id === inc.doc.root_component);
    if (root) raise(root.id, root.impact);
  }
  return out;
}
