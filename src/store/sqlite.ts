import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, restrictFile, type WarnFn } from '../private-files.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../events/incident.js';
import {
  type IncidentFilter,
  type IncidentStore,
  type IncidentWrite,
  type SavedListener,
  type SaveOutcome,
  stateText,
  type UptimeDay,
  type UptimeSpan,
  type UptimeStore,
  type UptimeWrite,
} from './port.js';
import { MIGRATIONS } from './sqlite-migrations.js';

interface IncidentRow {
  doc: string;
  revision: number;
}
interface SpanRow {
  incident_id: string;
  component: string;
  impact: UptimeSpan['impact'];
  start_ms: number;
  end_ms: number | null;
  counted_ms: number;
}
const SPAN_COLUMNS = 'incident_id, component, impact, start_ms, end_ms, counted_ms';
function spanOf(r: SpanRow): UptimeSpan {
  return {
    incident: r.incident_id,
    component: r.component,
    impact: r.impact,
    start: r.start_ms,
    end: r.end_ms,
    counted: r.counted_ms,
  };
}
interface TimelineRow {
  at: string;
  kind: TimelineEntry['kind'];
  text: string;
  author: string;
  phase: TimelineEntry['phase'] | null;
}

/**
 * The embedded IncidentStore: one SQLite file (WAL, so API reads never wait for the engine's
 * writes). Incident documents are JSON without their timeline; timeline entries are rows, so an
 * append is an insert and "append-only" is enforced by the primary key.
 */
export class SqliteStore implements IncidentStore, UptimeStore {
  readonly #db: Database.Database;
  readonly #saved: SavedListener[] = [];

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * Opens (creating the file and its parent directories) and migrates the database at `path`.
   * Incidents are not for every local user: a directory created here is 0700, and the database
   * with its -wal and -shm files is 0600 whatever the umask (see ensurePrivateDir for an existing
   * directory, which is only warned about through `opts.warn`).
   */
  static open(path: string, opts: { warn?: WarnFn } = {}): SqliteStore {
    const onDisk = path !== ':memory:' && path !== '';
    if (onDisk) {
      ensurePrivateDir(dirname(path), opts.warn);
      // Created 0600 before SQLite opens it, so there is no moment when it is readable by others;
      // SQLite then creates -wal and -shm with the database file's mode.
      closeSync(openSync(path, 'a', 0o600));
      restrictFile(path, opts.warn);
    }
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
    if (onDisk) {
      // They exist now (WAL mode and the migrations touched the file); ones left by an older
      // version, created with the umask's mode, are tightened here.
      restrictFile(`${path}-wal`, opts.warn);
      restrictFile(`${path}-shm`, opts.warn);
    }
    return new SqliteStore(db);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  async saveLatestResults(results: readonly ProbeResult[]): Promise<void> {
    const upsert = this.#db.prepare(
      `INSERT INTO latest_results (probe, target, vantage, at, doc) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (probe, target, vantage) DO UPDATE SET at = excluded.at, doc = excluded.doc
       WHERE excluded.at >= latest_results.at`,
    );
    this.#db.transaction(() => {
      for (const r of results) upsert.run(r.probe, r.target ?? '', r.vantage, r.at, JSON.stringify(r));
    })();
  }

  async latestResults(): Promise<ProbeResult[]> {
    const rows = this.#db.prepare('SELECT doc FROM latest_results').all() as { doc: string }[];
    return rows.map((r) => JSON.parse(r.doc) as ProbeResult);
  }

  async getIncident(id: string): Promise<{ incident: Incident; revision: number } | undefined> {
    const row = this.#db.prepare('SELECT doc, revision FROM incidents WHERE id = ?').get(id) as
      | IncidentRow
      | undefined;
    if (!row) return undefined;
    return { incident: this.#withTimeline(row.doc, id), revision: row.revision };
  }

  async listIncidents(filter: IncidentFilter = {}): Promise<Incident[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.review) {
      where.push('review = ?');
      args.push(filter.review);
    }
    if (filter.before) {
      where.push('(opened_at, id) < (SELECT opened_at, id FROM incidents WHERE id = ?)');
      args.push(filter.before);
    }
    const sql = `SELECT id, doc FROM incidents ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY opened_at DESC, id DESC ${filter.limit ? 'LIMIT ?' : ''}`;
    if (filter.limit) args.push(filter.limit);
    const rows = this.#db.prepare(sql).all(...args) as { id: string; doc: string }[];
    return rows.map((r) => this.#withTimeline(r.doc, r.id));
  }

  async saveIncident(write: IncidentWrite): Promise<SaveOutcome> {
    const db = this.#db;
    const { incident, append, expectedRevision, expectedEntries } = write;
    const outcome = db.transaction((): SaveOutcome => {
      const row = db.prepare('SELECT revision FROM incidents WHERE id = ?').get(incident.id) as
        | { revision: number }
        | undefined;
      if ((row?.revision ?? null) !== expectedRevision) return { ok: false, conflict: true };
      // The highest seq (an index lookup): counting a 10,000-entry timeline on every save would not be.
      const stored = row
        ? (db.prepare('SELECT COALESCE(MAX(seq) + 1, 0) AS n FROM timeline WHERE incident_id = ?').get(incident.id) as { n: number }).n
        : 0;
      // Same revision but other entries would be a writer's bug; refused like a conflict rather
      // than appending after entries the writer never saw.
      if (stored !== expectedEntries) return { ok: false, conflict: true };
      const revision = (row?.revision ?? 0) + 1;
      const { timeline: _ignored, ...doc } = incident as Incident;
      db.prepare(
        `INSERT INTO incidents (id, fingerprint, status, review, opened_at, revision, doc) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
           review = excluded.review, opened_at = excluded.opened_at, revision = excluded.revision, doc = excluded.doc`,
      ).run(
        incident.id,
        incident.fingerprint,
        incident.status,
        incident.review,
        incident.opened_at,
        revision,
        JSON.stringify(doc),
      );
      const insert = db.prepare(
        'INSERT INTO timeline (incident_id, seq, at, kind, text, author, phase) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      append.forEach((e, i) => insert.run(incident.id, stored + i, e.at, e.kind, e.text, e.author, e.phase ?? null));
      return { ok: true, revision };
    })();
    if (outcome.ok) for (const l of this.#saved) l(incident);
    return outcome;
  }

  onIncidentSaved(listener: SavedListener): void {
    this.#saved.push(listener);
  }

  async uptimeFootprint(incident: string): Promise<UptimeSpan[]> {
    const rows = this.#db.prepare(`SELECT ${SPAN_COLUMNS} FROM uptime_spans WHERE incident_id = ?`).all(incident) as SpanRow[];
    return rows.map(spanOf);
  }

  async uptimeSpans(components: readonly string[], from: number): Promise<UptimeSpan[]> {
    const query = this.#db.prepare(
      `SELECT ${SPAN_COLUMNS} FROM uptime_spans WHERE component = ? AND (end_ms IS NULL OR end_ms >= ?)`,
    );
    const out: UptimeSpan[] = [];
    for (const c of components) for (const r of query.all(c, from) as SpanRow[]) out.push(spanOf(r));
    return out;
  }

  async openUptimeSpans(component?: string): Promise<UptimeSpan[]> {
    const rows = (
      component === undefined
        ? this.#db.prepare(`SELECT ${SPAN_COLUMNS} FROM uptime_spans WHERE end_ms IS NULL`).all()
        : this.#db.prepare(`SELECT ${SPAN_COLUMNS} FROM uptime_spans WHERE component = ? AND end_ms IS NULL`).all(component)
    ) as SpanRow[];
    return rows.map(spanOf);
  }

  async saveUptime(write: UptimeWrite): Promise<void> {
    const db = this.#db;
    const put = db.prepare(
      `INSERT INTO uptime_spans (${SPAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (incident_id, component) DO UPDATE SET impact = excluded.impact, start_ms = excluded.start_ms,
         end_ms = excluded.end_ms, counted_ms = excluded.counted_ms`,
    );
    const remove = db.prepare('DELETE FROM uptime_spans WHERE incident_id = ? AND component = ?');
    const day = db.prepare(
      `INSERT INTO uptime_days (day, component, major, partial, degraded) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (day, component) DO UPDATE SET major = excluded.major, partial = excluded.partial, degraded = excluded.degraded`,
    );
    const noDay = db.prepare('DELETE FROM uptime_days WHERE day = ? AND component = ?');
    db.transaction(() => {
      for (const s of write.put) put.run(s.incident, s.component, s.impact, s.start, s.end, s.counted);
      for (const r of write.remove) remove.run(r.incident, r.component);
      for (const d of write.days) {
        if (d.major + d.partial + d.degraded === 0) noDay.run(d.day, d.component);
        else day.run(d.day, d.component, d.major, d.partial, d.degraded);
      }
    })();
  }

  async uptimeDays(from: string, to: string, component?: string): Promise<UptimeDay[]> {
    const columns = 'day, component, major, partial, degraded';
    return (
      component === undefined
        ? this.#db.prepare(`SELECT ${columns} FROM uptime_days WHERE day BETWEEN ? AND ? ORDER BY day, component`).all(from, to)
        : this.#db
            .prepare(`SELECT ${columns} FROM uptime_days WHERE component = ? AND day BETWEEN ? AND ? ORDER BY day`)
            .all(component, from, to)
    ) as UptimeDay[];
  }

  async pruneUptime(beforeDay: string, before: number): Promise<void> {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM uptime_days WHERE day < ?').run(beforeDay);
      this.#db.prepare('DELETE FROM uptime_spans WHERE end_ms < ?').run(before);
    })();
  }

  async getState(key: string): Promise<unknown> {
    const row = this.#db.prepare('SELECT value FROM state WHERE key = ?').get(key) as
      | { value: string }
      | undefined;
    return row ? JSON.parse(row.value) : undefined;
  }

  async putState(key: string, value: unknown): Promise<void> {
    this.#db
      .prepare(
        'INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      )
      .run(key, stateText(value));
  }

  #withTimeline(doc: string, id: string): Incident {
    const timeline = this.#db
      .prepare('SELECT at, kind, text, author, phase FROM timeline WHERE incident_id = ? ORDER BY seq')
      .all(id) as TimelineRow[];
    // Entries without a phase have no `phase` key, as they were written.
    const entries = timeline.map(({ phase, ...e }): TimelineEntry => (phase ? { ...e, phase } : e));
    return { ...(JSON.parse(doc) as Omit<Incident, 'timeline'>), timeline: entries };
  }
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
      (r) => r.version,
    ),
  );
  MIGRATIONS.forEach((sql, i) => {
    const version = i + 1;
    if (applied.has(version)) return;
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
        version,
        new Date().toISOString(),
      );
    })();
  });
}
