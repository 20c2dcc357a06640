import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { storeContract } from '../helpers/store-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'tocsin-sqlite-'));
let n = 0;
let current = '';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

storeContract(
  'sqlite',
  async () => {
    current = join(dir, `nested/dir/t${++n}.db`);
    return SqliteStore.open(current);
  },
  async () => SqliteStore.open(current),
);

describe('SqliteStore', () => {
  it('uses WAL and records its migrations', async () => {
    const path = join(dir, 'wal.db');
    const store = SqliteStore.open(path);
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(
      (db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n,
    ).toBeGreaterThan(0);
    db.close();
    // Opening again applies nothing twice.
    await SqliteStore.open(path).close();
  });
});
