import Database from 'better-sqlite3';
import type { Incident } from '../../src/events/incident.js';

/** Incidents as stored in SQLite, read through a read-only connection (the daemon keeps writing). */
export function storedIncidents(dbFile: string): (Incident & { revision: number })[] {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare('SELECT id, revision, doc FROM incidents ORDER BY opened_at').all() as {
      id: string;
      revision: number;
      doc: string;
    }[];
    const timeline = db.prepare('SELECT at, kind, text, author FROM timeline WHERE incident_id = ? ORDER BY seq');
    return rows.map((r) => ({
      ...(JSON.parse(r.doc) as Incident),
      timeline: timeline.all(r.id) as Incident['timeline'],
      revision: r.revision,
    }));
  } finally {
    db.close();
  }
}
