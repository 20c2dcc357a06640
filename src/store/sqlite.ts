import { closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ensurePrivateDir, restrictFile, type WarnFn } from '../private-files.js';
import type { ProbeResult } from '../events/probe-result.js';
import type { Incident, TimelineEntry } from '../incidents/incident.js';
import { type IncidentFilter, type IncidentStore, type IncidentWrite, type SaveOutcome, stateText } from './port.js';
import { MIGRATIONS } from './sqlite-migrations.js';

interface IncidentRow {
  doc: string;
  revision: number;
}
interface TimelineRow {
  at: string;
  kind: TimelineEntry['kind'];
  text: string;
  author: string;
}

/**
 * The embedded IncidentStore: one SQLite file (WAL, so API reads never wait for the engine's
 * writes). Incident documents are JSON without their timeline; timeline entries are rows, so an
 * append is an insert and "append-only" is enforced by the primary key.
 */
export class SqliteStore implements IncidentStore {
  readonly #db: Database.Database;

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
    return db.transaction((): SaveOutcome => {
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
        'INSERT INTO timeline (incident_id, seq, at, kind, text, author) VALUES (?, ?, ?, ?, ?, ?)',
      );
      append.forEach((e, i) => insert.run(incident.id, stored + i, e.at, e.kind, e.text, e.author));
      return { ok: true, revision };
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
      .prepare('SELECT at, kind, text, author FROM timeline WHERE incident_id = ? ORDER BY seq')
      .all(id) as TimelineRow[];
    return { ...(JSON.parse(doc) as Omit<Incident, 'timeline'>), timeline };
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
