import type { Incident } from '../events/incident.js';

/**
 * The root component of each open incident as last stored, so that a re-root can say what the
 * root was (`incident.rerooted` carries both; the stored document only has the new one). Only
 * open incidents are kept: a resolved one that comes back is `incident.opened` (a reopening),
 * whose document names its root, and its root is known again from then on. Outlives a reload's
 * new dispatcher, and is seeded from the store at start, so that the re-root of an incident
 * opened before a restart still names the root before.
 */
export class RootMemory {
  readonly #roots = new Map<string, string>();

  constructor(known: Iterable<Pick<Incident, 'id' | 'status' | 'root_component'>> = []) {
    for (const i of known) if (i.status === 'open') this.#roots.set(i.id, i.root_component);
  }

  /** Records the stored root of an incident; answers the one recorded before (undefined: none). */
  swap(stored: Pick<Incident, 'id' | 'status' | 'root_component'>): string | undefined {
    const before = this.#roots.get(stored.id);
    if (stored.status === 'open') this.#roots.set(stored.id, stored.root_component);
    else this.#roots.delete(stored.id);
    return before;
  }

  get size(): number {
    return this.#roots.size;
  }
}
