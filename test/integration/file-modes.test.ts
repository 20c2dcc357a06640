import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenTable } from '../../src/auth/tokens.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { DaemonProcess, runCli } from '../helpers/cli.js';
import { makePlan } from '../helpers/plan.js';

const mode = (path: string) => statSync(path).mode & 0o777;

const dir = mkdtempSync(join(tmpdir(), 'tocsin-modes-'));
let savedUmask = 0;
// A permissive umask, as on most hosts: the modes below must not come from it.
beforeAll(() => {
  savedUmask = process.umask(0o022);
});
afterAll(() => {
  process.umask(savedUmask);
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite store file modes', () => {
  it('creates its data directory 0700 and the db, -wal and -shm 0600', async () => {
    const data = join(dir, 'created', 'data');
    const path = join(data, 'tocsin.db');
    const store = SqliteStore.open(path);
    await store.saveLatestResults([]);
    expect(mode(data)).toBe(0o700);
    for (const f of [path, `${path}-wal`, `${path}-shm`]) expect(mode(f), f).toBe(0o600);
    await store.close();
  });

  it('tightens files left 0644 and leaves an existing directory alone, with a warning', async () => {
    const data = join(dir, 'existing');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755);
    const path = join(data, 'tocsin.db');
    await SqliteStore.open(path).close();
    chmodSync(path, 0o644);
    const warn = vi.fn();
    const store = SqliteStore.open(path, { warn });
    expect(mode(data)).toBe(0o755);
    expect(mode(path)).toBe(0o600);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ dir: data, mode: '0755' }), expect.stringMatching(/data directory/));
    await store.close();
  });
});

describe('operator token file mode', () => {
  it('is generated 0600 in a 0700 directory', () => {
    const data = join(dir, 'token-fresh');
    TokenTable.fromPlan(makePlan([], { store: { kind: 'sqlite', path: join(data, 'tocsin.db') } }), {});
    expect(mode(data)).toBe(0o700);
    expect(mode(join(data, 'operator.token'))).toBe(0o600);
  });

  it('fixes an existing 0644 token to 0600, keeps it, and warns without the token', () => {
    const data = join(dir, 'token-loose');
    mkdirSync(data);
    const file = join(data, 'operator.token');
    const token = 'a-pre-existing-token-value-0123456789abcdef';
    writeFileSync(file, `${token}\n`, { mode: 0o644 });
    chmodSync(file, 0o644);
    const warn = vi.fn();
    const table = TokenTable.fromPlan(makePlan([], { store: { kind: 'sqlite', path: join(data, 'tocsin.db') } }), {}, warn);
    expect(mode(file)).toBe(0o600);
    expect(table.authenticate(token)).toEqual({ name: 'local-operator', role: 'operator' });
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ file, mode: '0644' }), expect.stringMatching(/operator token/));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(token);
  });
});

describe('tocsin run binding', () => {
  let daemon: DaemonProcess | undefined;
  afterEach(() => daemon?.kill());

  const config = (name: string, server: string) => {
    const cwd = join(dir, name);
    mkdirSync(cwd);
    const file = join(cwd, 'tocsin.yml');
    writeFileSync(
      file,
      `server: ${server}
components:
  - { id: web, name: Web, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:9/", interval: 30s, timeout: 1s }
`,
    );
    return { cwd, file };
  };

  it('refuses 0.0.0.0 without tokens: exit 1, one line saying why, nothing written', async () => {
    const { cwd, file } = config('remote-refused', '{ listen: 0.0.0.0:0 }');
    const run = await runCli(['run', '--config', file], { cwd, env: { TOCSIN_CONFIG: '' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tocsin: server\.listen 0\.0\.0\.0:0 is reachable from the network but server\.tokens is empty.*allow_unauthenticated_remote: true\n$/);
    expect(existsSync(join(cwd, 'data'))).toBe(false);
  });

  it('starts with allow_unauthenticated_remote: true, warns, and keeps its files private', async () => {
    const { cwd, file } = config('remote-allowed', '{ listen: 0.0.0.0:0, allow_unauthenticated_remote: true }');
    const started = await DaemonProcess.start(file, cwd);
    daemon = started.daemon;
    expect((await fetch(`${started.url.replace('0.0.0.0', '127.0.0.1')}/healthz`)).status).toBe(200);
    expect(daemon.stderr).toMatch(/TLS-terminating reverse proxy/);
    expect(daemon.stderr).toMatch(/allow_unauthenticated_remote/);
    const data = join(cwd, 'data');
    expect(mode(data)).toBe(0o700);
    for (const f of ['tocsin.db', 'tocsin.db-wal', 'tocsin.db-shm', 'operator.token'])
      expect(mode(join(data, f)), f).toBe(0o600);
  });
});
