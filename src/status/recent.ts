import { MAX_INCIDENTS } from './model.js';
import type { Incident } from '../events/incident.js';
import type { IncidentStore } from '../store/port.js';

/** How many of the newest published incidents (open or resolved) the feeds and `/api/v2` read. */
export const RECENT_INCIDENTS = 50;

/**
 * What the feeds and the Statuspage-compatible JSON are built from: every confirmed open incident
 * (up to the page's {@link MAX_INCIDENTS}), then the {@link RECENT_INCIDENTS} newest confirmed
 * ones whatever their status (open ones not repeated). Two bounded reads per request, however long
 * the history: an incident resolved long ago is in neither once 50 newer ones exist, and by then
 * its updates are older than what a feed reader still looks at.
 */
export async function loadRecentPublished(store: Pick<IncidentStore, 'listIncidents'>): Promise<Incident[]> {
  const [open, recent] = await Promise.all([
    store.listIncidents({ review: 'confirmed', status: 'open', limit: MAX_INCIDENTS }),
    store.listIncidents({ review: 'confirmed', limit: RECENT_INCIDENTS }),
  ]);
  const seen = new Set(open.map((i) => i.id));
  return [...open, ...recent.filter((i) => !seen.has(i.id))];
}
