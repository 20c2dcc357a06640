/**
 * The shapes of an operator's edit, apart from the code that applies them (./edit.ts): the
 * engine's operator actions (./types.ts) carry them, and this file depends on the incident
 * document alone, so types.ts and edit.ts do not import each other.
 */
import type { Incident } from '../events/incident.js';

type Impact = Incident['components'][number]['impact'];

/** What an edit or a new incident needs to know of a component of the config. */
export interface ComponentInfo {
  readonly name: string;
  readonly region?: string | undefined;
}
/** The config's components by id (undefined: no such component). */
export type ComponentCatalog = (id: string) => ComponentInfo | undefined;

export interface ComponentImpact {
  readonly id: string;
  readonly impact: Impact;
}

/**
 * `PATCH /api/v1/incidents/{id}`: the title, and the components either as a whole new list or as
 * changes (`set`, `remove`). Changes are applied to the stored list inside the incident writer,
 * so a component the detector added after the operator looked stays listed.
 */
export interface IncidentEdit {
  readonly title?: string | undefined;
  /** The whole list of affected components: those left out are removed. */
  readonly components?: readonly ComponentImpact[] | undefined;
  /** Impacts to set; a component not listed is added (last). */
  readonly set?: readonly ComponentImpact[] | undefined;
  /** Components no longer affected (each must be listed). */
  readonly remove?: readonly string[] | undefined;
}
