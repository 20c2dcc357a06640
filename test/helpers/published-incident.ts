import type { Incident, TimelineEntry } from '../../src/events/incident.js';

// Incident documents for tests of what the public reads (feeds, /api/v2): confirmed and open
// unless told otherwise, opened at 10:00 UTC on 2024-11-18 with Tocsin's `opened` entry.

let seq = 0;

export function publishedIncident(over: Partial<Incident> = {}): Incident {
  seq++;
  const opened = over.opened_at ?? '2024-11-18T10:00:00.000Z';
  return {
    id: `inc_${String(seq).padStart(3, '0')}`,
    title: `Incident ${seq}`,
    status: 'open',
    review: 'confirmed',
    severity: 'major',
    opened_at: opened,
    resolved_at: null,
    root_component: 'db',
    components: [{ id: 'db', impact: 'partial_outage' }],
    regions: [],
    signals: [],
    timeline: [{ at: opened, kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' }],
    fingerprint: `fp${seq}`,
    ...over,
  };
}

/** An operator's public update, with its phase when given. */
export function opsNote(at: string, text: string, phase?: TimelineEntry['phase']): TimelineEntry {
  return { at, kind: 'note', text, author: 'ops', ...(phase ? { phase } : {}) };
}
