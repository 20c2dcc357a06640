/**
 * Schema migrations of the SQLite store, applied in order at open time inside one transaction
 * each. Never edit a shipped migration: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE latest_results (
     probe TEXT NOT NULL, target TEXT NOT NULL, vantage TEXT NOT NULL,
     at TEXT NOT NULL, doc TEXT NOT NULL,
     PRIMARY KEY (probe, target, vantage)
   ) WITHOUT ROWID;
   CREATE TABLE incidents (
     id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, status TEXT NOT NULL, review TEXT NOT NULL,
     opened_at TEXT NOT NULL, revision INTEGER NOT NULL, doc TEXT NOT NULL
   );
   CREATE INDEX incidents_opened ON incidents (opened_at DESC, id DESC);
   CREATE INDEX incidents_fingerprint ON incidents (fingerprint);
   CREATE TABLE timeline (
     incident_id TEXT NOT NULL REFERENCES incidents (id), seq INTEGER NOT NULL,
     at TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, author TEXT NOT NULL,
     PRIMARY KEY (incident_id, seq)
   ) WITHOUT ROWID;
   CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`,
  // Uptime history (docs/status-page.md): published incidents' spans per component, and seconds
  // per state per component and UTC day, only for days that had some.
  `CREATE TABLE uptime_spans (
     incident_id TEXT NOT NULL, component TEXT NOT NULL, impact TEXT NOT NULL,
     start_ms INTEGER NOT NULL, end_ms INTEGER, counted_ms INTEGER NOT NULL,
     PRIMARY KEY (incident_id, component)
   ) WITHOUT ROWID;
   CREATE INDEX uptime_spans_component ON uptime_spans (component, start_ms);
   CREATE INDEX uptime_spans_end ON uptime_spans (end_ms);
   CREATE TABLE uptime_days (
     day TEXT NOT NULL, component TEXT NOT NULL,
     major INTEGER NOT NULL, partial INTEGER NOT NULL, degraded INTEGER NOT NULL,
     PRIMARY KEY (day, component)
   ) WITHOUT ROWID;
   CREATE INDEX uptime_days_component ON uptime_days (component, day);`,
  // An operator's public update phase (investigating, identified, monitoring, resolved); NULL otherwise.
  `ALTER TABLE timeline ADD COLUMN phase TEXT;`,
];
