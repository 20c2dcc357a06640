import type { Engine } from '../engine/engine.js';
import type { IncidentStore } from '../store/port.js';
import type { Incident } from '../events/incident.js';

/** The store key of the engine's snapshot. */
export const ENGINE_STATE_KEY = 'engine';

export interface Recovered {
  /** Every stored incident (the metrics of incidents start from them). */
  readonly known: Incident[];
  readonly open: number;
  readonly fromSnapshot: boolean;
}

/**
 * Recovery after a start, a kill -9 or a new leader lease (docs/design.md, "One source of
 * truth"): the engine's snapshot is a cache of detection and the store's incidents are the
 * truth. The snapshot is restored, then realigned with the stored documents of every incident
 * it tracks: operators' writes made after it was saved are taken, the engine's own writes the
 * store never got are marked to be written again (the next collection returns them), and
 * stored open incidents it does not know are adopted.
 */
export async function recoverIncidents(engine: Engine, store: IncidentStore): Promise<Recovered> {
  const snapshot = await store.getState(ENGINE_STATE_KEY);
  engine.restore(snapshot);
  const known = await store.listIncidents();
  const open = known.filter((i) => i.status === 'open');
  // The engine adopts the open ones and those resolved within its reopen cool-down.
  engine.reconcile(new Map(known.map((i) => [i.id, i])), known);
  return { known, open: open.length, fromSnapshot: snapshot !== undefined };
}
