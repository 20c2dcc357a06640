import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpProbe } from '../../probes/http.js';
import { TokenTable } from '../../src/auth/tokens.js';
import { buildApi } from '../../src/api/server.js';
import { systemClock } from '../../src/clock.js';
import type { Incident } from '../../src/events/incident.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { LatestResults } from '../../src/results/latest.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makePlan } from '../helpers/plan.js';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';

// `tocsin incidents …` (the built CLI) against a real `tocsin run` child process whose probes
// target closed loopback ports: one draft per component within a few checks.

const COMPONENTS = ['web', 'api', 'db', 'cdn'];

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('tocsin incidents against a running daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-inc-'));
  const configFile = join(dir, 'tocsin.yml');
  let daemon: DaemonProcess | undefined;
  let url = '';
  let token = '';
  let ids: Record<string, string> = {};

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    runCli(['incidents', ...args, '--config', configFile, '--url', url], { cwd: dir, env: { TOCSIN_TOKEN: '', TOCSIN_URL: '', ...env } });
  const api = async <T>(path: string): Promise<T> =>
    (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json() as Promise<T>;
  const idOf = (c: string): string => {
    const id = ids[c];
    if (!id) throw new Error(`no incident for ${c}`);
    return id;
  };

  beforeAll(async () => {
    const ports = await Promise.all(COMPONENTS.map(() => closedPort()));
    writeFileSync(
      configFile,
      [
        'server: { listen: 127.0.0.1:0 }',
        `store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }`,
        'components:',
        ...COMPONENTS.map((c) => `  - { id: ${c}, name: Service ${c}, group: Apps, region: PAR }`),
        'probes:',
        ...COMPONENTS.map(
          (c, i) => `  - { id: ${c}-http, kind: http, component: ${c}, url: "http://127.0.0.1:${ports[i]}/", interval: 300ms, timeout: 200ms }`,
        ),
        '',
      ].join('\n'),
    );
    // Debug logs: every request line is logged, so the token check below means something.
    const started = await DaemonProcess.start(configFile, dir, ['--log-level', 'debug']);
    daemon = started.daemon;
    url = started.url;
    token = readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim();
    const all = await waitFor(async () => {
      const { incidents } = await api<{ incidents: Incident[] }>('/api/v1/incidents');
      return incidents.length === COMPONENTS.length ? incidents : undefined;
    }, 20_000);
    ids = Object.fromEntries(all.map((i) => [i.root_component, i.id]));
  });
  afterAll(() => {
    daemon?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists incidents as a table, as JSON, a page at a time, filtered', async () => {
    const [table, json, page, none] = await Promise.all([
      cli(['list']),
      cli(['list', '--json']),
      cli(['list', '--limit', '2']),
      cli(['list', '--status', 'resolved']),
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+REVIEW\s+SEVERITY\s+OPENED \(UTC\)\s+ROOT\s+COMPONENTS\s+TITLE$/);
    expect(lines).toHaveLength(COMPONENTS.length + 1);
    for (const c of COMPONENTS) {
      expect(table.stdout).toMatch(new RegExp(`${idOf(c)}\\s+open\\s+pending\\s+critical\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+${c}\\s+1 major\\s+Apps \\[PAR\\]: Service ${c} unreachable`));
    }
    expect(table.stderr).toBe('');

    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as { incidents: Incident[]; next_cursor: string | null };
    expect(parsed.incidents.map((i) => i.id).sort()).toEqual(Object.values(ids).sort());
    expect(parsed.next_cursor).toBeNull();

    expect(page.code).toBe(0);
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(3);
    const cursor = /--cursor (inc_\w+)/.exec(page.stderr)?.[1];
    expect(cursor).toBeDefined();
    const rest = await cli(['list', '--limit', '2', '--cursor', cursor ?? '', '--json']);
    const next = JSON.parse(rest.stdout) as { incidents: Incident[] };
    expect(next.incidents.map((i) => i.id)).toEqual(parsed.incidents.slice(2, 4).map((i) => i.id));

    expect(none.code).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('no incidents\n');
  });

  it('shows one incident as a table, as JSON and as a status-page post', async () => {
    const id = idOf('web');
    const [table, json, md] = await Promise.all([cli(['show', id]), cli(['show', id, '--json']), cli(['show', id, '--format', 'markdown'])]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`^id\\s+${id}\\n`));
    expect(table.stdout).toMatch(/\nreview\s+pending\n/);
    expect(table.stdout).toMatch(/\naffected\s+1: 1 major_outage\n/);
    expect(table.stdout).toMatch(/\nCOMPONENT\s+IMPACT\nweb\s+major_outage\n/);
    expect(table.stdout).toMatch(/\nRULE\s+PROBE\s+ERROR.*\noutage\s+web-http\s+connect_refused/);
    expect(table.stdout).toMatch(/\nTIMELINE\n\d\d:\d\d UTC {2}opened {2}.+ {2}\(tocsin\)\n/);

    expect(JSON.parse(json.stdout)).toEqual(await api(`/api/v1/incidents/${id}`));
    expect(JSON.parse(json.stdout)).toMatchObject({
      component_counts: { total: 1, major_outage: 1 },
      components_truncated: false,
    });
    const all = await cli(['show', id, '--all', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual(await api(`/api/v1/incidents/${id}?components=all&signals=all`));

    expect(md.code).toBe(0);
    expect(md.stdout).toContain('## Apps [PAR]: Service web unreachable');
    expect(md.stdout).toContain('- Service web: KO (major outage)');
    expect(md.stdout).toMatch(/\nEDIT \d\d:\d\d UTC: /);
  });

  it('confirms with a note, adds notes and resolves, the timeline naming the local operator', async () => {
    const id = idOf('web');
    const confirm = await cli(['confirm', id, '--note', 'customers affected']);
    expect(confirm.code).toBe(0);
    expect(confirm.stdout).toMatch(/\nreview\s+confirmed\n/);
    expect(confirm.stdout).toMatch(/\n\d\d:\d\d UTC {2}confirmed {2}Confirmed by local-operator: customers affected {2}\(local-operator\)\n/);

    const note = await cli(['note', id, 'vendor', 'ticket', '#4411']);
    expect(note.code).toBe(0);
    expect(note.stdout).toMatch(/ {2}note {2}vendor ticket #4411 {2}\(local-operator\)\n/);

    const resolve = await cli(['resolve', id, '--note', 'rolled back', '--json']);
    expect(resolve.code).toBe(0);
    const doc = JSON.parse(resolve.stdout) as Incident;
    expect(doc).toMatchObject({ status: 'resolved', review: 'confirmed' });
    expect(doc.timeline.at(-1)).toMatchObject({ kind: 'resolved', author: 'local-operator', text: 'Resolved by local-operator: rolled back' });

    const again = await cli(['resolve', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`tocsin: incident ${id} is already resolved\n`);
  });

  it('dismisses with a reason (required: exit 2 without), then refuses to confirm it (exit 1, the API message)', async () => {
    const id = idOf('api');
    const missing = await cli(['dismiss', id]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--reason');
    const blank = await cli(['dismiss', id, '--reason', ' ']);
    expect(blank.code).toBe(2);
    expect((await api<Incident>(`/api/v1/incidents/${id}`)).review).toBe('pending');

    const dismiss = await cli(['dismiss', id, '--reason', 'planned failover', '--json']);
    expect(dismiss.code).toBe(0);
    expect(JSON.parse(dismiss.stdout)).toMatchObject({ review: 'dismissed' });

    const confirm = await cli(['confirm', id]);
    expect(confirm.code).toBe(1);
    expect(confirm.stdout).toBe('');
    expect(confirm.stderr).toBe(`tocsin: incident ${id} is already dismissed\n`);
  });

  it('reports an unknown incident, a wrong token and a stopped daemon in one line (exit 1)', async () => {
    const [unknown, badFlag, badEnv, down, usage] = await Promise.all([
      cli(['show', 'inc_nope']),
      cli(['confirm', idOf('db'), '--token', 'not-the-token']),
      cli(['show', idOf('db')], { TOCSIN_TOKEN: 'env-wrong-token' }),
      runCli(['incidents', 'list', '--config', configFile], { cwd: dir, env: { TOCSIN_URL: `http://127.0.0.1:${await closedPort()}` } }),
      cli(['list', '--limit', 'many']),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('tocsin: no incident inc_nope\n');
    for (const run of [badFlag, badEnv]) {
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toBe('tocsin: the API refused the token (401): pass --token or set TOCSIN_TOKEN\n');
    }
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/^tocsin: cannot reach tocsin at http:\/\/127\.0\.0\.1:\d+ \(connection refused\); is `tocsin run` running\?\n$/);
    expect(usage.code).toBe(2);
    expect((await api<Incident>(`/api/v1/incidents/${idOf('db')}`)).review).toBe('pending');
  });

  it('finds data/operator.token when the config cannot be loaded, and TOCSIN_URL', async () => {
    const run = await runCli(['incidents', 'show', idOf('cdn'), '--config', join(dir, 'missing.yml')], {
      cwd: dir,
      env: { TOCSIN_URL: url, TOCSIN_TOKEN: '' },
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(idOf('cdn'));
  });

  it('never logs or prints the token', async () => {
    const run = await cli(['list', '--token', token]);
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(token);
    expect(daemon?.stderr).toContain('"url":"/api/v1/incidents');
    for (const secret of [token, 'not-the-token', 'env-wrong-token']) expect(daemon?.stderr).not.toContain(secret);
  });
});

describe('tocsin incidents with a viewer token', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-view-'));
  const plan = makePlan([], {
    server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [{ name: 'dash', role: 'viewer', token_env: 'T_VIEW' }] },
  });
  const logger = createLogger('silent');
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const store = SqliteStore.open(join(dir, 'tocsin.db'));
  const queue = new InlineQueue({ kinds: { http: httpProbe }, bus: new ResultsBus(), metrics, clock: systemClock, logger, vantage: 'local', concurrency: 1 });
  const incidents = { store, clock: systemClock, writer: new IncidentWriter(store) };
  const app = buildApi({ plan, store, queue, latest: new LatestResults(), metrics, tokens: TokenTable.fromPlan(plan, { T_VIEW: 'view-secret-0123456789abcdef' }), logger, incidents });
  let url = '';

  beforeAll(async () => {
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads, and is told why it may not act (403, exit 1)', async () => {
    const env = { TOCSIN_URL: url, TOCSIN_TOKEN: 'view-secret-0123456789abcdef' };
    const [list, confirm] = await Promise.all([
      runCli(['incidents', 'list', '--config', join(dir, 'none.yml')], { cwd: dir, env }),
      runCli(['incidents', 'confirm', 'inc_x', '--config', join(dir, 'none.yml')], { cwd: dir, env }),
    ]);
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('no incidents\n');
    expect(confirm.code).toBe(1);
    expect(confirm.stderr).toBe('tocsin: the token may not do this (403): this action needs the operator role; token "dash" is a viewer\n');
  });
});
