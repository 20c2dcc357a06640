/**
 * Maintenance windows as the engine applies them: a signal firing on a component a window
 * covers is held (no incident: the failure was announced), and attached when the window ends
 * if it outlasts it; open incidents touching a covered component say when a window starts and
 * ends. When windows are active is maintenance.ts's business (on the virtual clock); this module
 * only acts on it, and tells the engine when to look again so ticks stay cheap.
 */
import { recompute } from './assessment.js';
import { entry } from './changes.js';
import type { EngineContext } from './context.js';
import { attach } from './correlation.js';
import { openIncidents } from './lifecycle.js';
import type { Window } from './maintenance.js';
import { cmp, type SignalState } from './state.js';
import { listWords } from './text.js';
import type { Topology } from './topology.js';

/** Components each window covers: its own and every component depending on them. */
export function coveredComponents(windows: readonly Window[], topology: Topology): Map<string, ReadonlySet<string>> {
  return new Map(
    windows.map((w) => [
      w.id,
      new Set(topology.ids().filter((c) => w.components.some((m) => topology.dependsOn(c, m)))),
    ]),
  );
}

/** The active window covering the component, if any. */
export function underMaintenance(ctx: EngineContext, component: string): Window | undefined {
  for (const id of ctx.state.windows) {
    if (ctx.cfg.covered.get(id)?.has(component)) return ctx.cfg.windows.find((w) => w.id === id);
  }
  return undefined;
}

/** A signal became active: held under maintenance, attached to an incident otherwise. */
export function fire(ctx: EngineContext, sig: SignalState): void {
  if (underMaintenance(ctx, sig.component)) {
    sig.held = true;
    return;
  }
  sig.held = false;
  attach(ctx, sig);
}

/** Windows that started or ended at `now`: timeline entries, and held signals released. */
export function evaluateMaintenance(ctx: EngineContext): void {
  const { state, cfg } = ctx;
  const active = cfg.windows.filter((w) => w.activeAt(state.now)).map((w) => w.id);
  const started = active.filter((id) => !state.windows.includes(id));
  const ended = state.windows.filter((id) => !active.includes(id));
  if (started.length > 0 || ended.length > 0) ctx.version++;
  state.windows = active;
  for (const id of [...started, ...ended]) {
    const w = cfg.windows.find((x) => x.id === id);
    const cov = cfg.covered.get(id);
    if (!w || !cov) continue;
    const verb = started.includes(id) ? 'started' : 'ended';
    const names = listWords(w.components.map((c) => cfg.topology.get(c).name));
    for (const inc of openIncidents(ctx)) {
      if (![...inc.affected, inc.doc.root_component].some((c) => cov.has(c))) continue;
      entry(ctx, inc, 'maintenance', `Scheduled maintenance "${w.title}" ${verb} on ${names}`);
    }
  }
  // Signals held by a window that ended now open (or join) incidents: failures outlasting it.
  if (ended.length > 0) {
    const held = Object.values(state.signals).filter((s) => s.active && s.held).sort((a, b) => cmp(a.key, b.key));
    for (const sig of held) {
      if (underMaintenance(ctx, sig.component)) continue;
      sig.held = false;
      attach(ctx, sig);
      if (sig.incident) recompute(ctx, sig.incident);
    }
  }
  state.nextMaintCheck = nextMaintenanceCheck(ctx);
}

/** The next time a window may start or end: until then, ticks skip maintenance. */
function nextMaintenanceCheck(ctx: EngineContext): number {
  const { state, cfg } = ctx;
  let next = Number.POSITIVE_INFINITY;
  if (cfg.hasCron) next = Math.floor(state.now / 60_000) * 60_000 + 60_000;
  for (const m of cfg.maintenance) {
    for (const b of [m.start, m.end]) {
      const t = b === undefined ? Number.NaN : Date.parse(b);
      if (t > state.now && t < next) next = t;
    }
  }
  // Active cron windows end off the minute grid when their duration is not whole minutes.
  for (const w of cfg.windows) {
    const hit = w.activeAt(state.now);
    if (hit && hit.end > state.now && hit.end < next) next = hit.end;
  }
  return next;
}
