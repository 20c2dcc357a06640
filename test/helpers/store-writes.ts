import type { Incident } from '../../src/events/incident.js';
import type { IncidentStore, SaveOutcome } from '../../src/store/port.js';

/**
 * Saves a whole document as tests build them: its fields, and the entries of its timeline past
 * those stored (the store's write names what it appends; see IncidentWrite).
 */
export async function saveDoc(
  store: IncidentStore,
  doc: Incident,
  expectedRevision: number | null,
): Promise<SaveOutcome> {
  const entries = expectedRevision === null ? 0 : ((await store.getIncident(doc.id))?.incident.timeline.length ?? 0);
  const append = doc.timeline.slice(entries);
  return store.saveIncident({ incident: doc, append, expectedRevision, expectedEntries: entries });
}
