import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { storedIncidents } from '../helpers/stored-incidents.js';

// A real Alertmanager (Debian's prometheus-alertmanager) routes alerts to a real daemon's
// POST /api/v1/alerts/alertmanager: a firing DbDown alert on `db` opens a draft, its resolution
// recovers the signal and resolves the incident. The route's validation and auth are checked
// against the same daemon.

const AM_BIN = 'prometheus-alertmanager';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('Alertmanager intake (real prometheus-alertmanager, real daemon)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-am-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const operator = randomBytes(16).toString('hex');
  const viewer = randomBytes(16).toString('hex');
  let daemon: DaemonProcess | undefined;
  let api = '';
  let am: ChildProcess | undefined;
  let amUrl = '';
  let amLog = '';
  /** The daemon's webhook notifier posts here: the notification path, end to end. */
  const hooks: { event: string; incident: Incident }[] = [];
  let hookServer: Server | undefined;

  beforeAll(async () => {
    const which = spawnSync('sh', ['-c', `command -v ${AM_BIN}`]);
    if (which.status !== 0) throw new Error(`${AM_BIN} is missing: run scripts/install-test-deps.sh`);
    // DaemonProcess passes this process's environment on: the tokens travel that way.
    process.env.TOCSIN_AM_TEST_OPERATOR = operator;
    process.env.TOCSIN_AM_TEST_VIEWER = viewer;
    hookServer = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d.toString();
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body) as { event: string; incident: Incident });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hookServer?.listen(0, '127.0.0.1', resolve));
    const hookPort = (hookServer.address() as AddressInfo).port;
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens:
    - { name: alertmanager, role: operator, token_env: TOCSIN_AM_TEST_OPERATOR }
    - { name: reader, role: viewer, token_env: TOCSIN_AM_TEST_VIEWER }
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: lb, name: Load balancers, group: Reverse Proxies, region: PAR }
  - { id: db, name: Databases, group: Add-ons, region: PAR, depends_on: [lb] }
  - { id: nodes, name: Node exporters, group: Compute, region: PAR }
probes: []
notifiers:
  - { kind: webhook, url: "http://127.0.0.1:${hookPort}/hook", events: [incident.opened, incident.resolved] }
`,
    );
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    api = started.url;

    const amDir = join(dir, 'am');
    mkdirSync(join(amDir, 'data'), { recursive: true });
    writeFileSync(
      join(amDir, 'alertmanager.yml'),
      `route:
  receiver: tocsin
  group_by: [alertname, component]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: tocsin
    webhook_configs:
      - url: ${api}/api/v1/alerts/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: ${operator}
`,
    );
    const port = await freePort();
    amUrl = `http://127.0.0.1:${port}`;
    am = spawn(
      AM_BIN,
      [
        `--config.file=${join(amDir, 'alertmanager.yml')}`,
        `--storage.path=${join(amDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--cluster.listen-address=',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    am.stderr?.on('data', (d) => {
      amLog += d;
    });
    await waitFor(async () => {
      if (am?.exitCode !== null) throw new Error(`alertmanager exited: ${amLog}`);
      const res = await fetch(`${amUrl}/-/ready`);
      return res.ok ? true : undefined;
    }, 20_000);
  });

  afterAll(async () => {
    if (am && am.exitCode === null) {
      am.kill('SIGKILL');
      await once(am, 'exit');
    }
    daemon?.kill();
    await daemon?.exited;
    hookServer?.closeAllConnections();
    await new Promise<void>((resolve) => (hookServer ? hookServer.close(() => resolve()) : resolve()));
    delete process.env.TOCSIN_AM_TEST_OPERATOR;
    delete process.env.TOCSIN_AM_TEST_VIEWER;
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: unknown, token = operator) =>
    fetch(`${api}/api/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });

  it('a firing alert routed by Alertmanager opens a draft; its resolution resolves it', async () => {
    const startsAt = new Date().toISOString();
    const labels = { alertname: 'DbDown', component: 'db', severity: 'critical', instance: 'db-1:5432' };
    const annotations = { summary: 'primary unreachable' };
    const res = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels, annotations, startsAt }]),
    });
    expect(res.status).toBe(200);

    const [draft] = await waitFor(() => {
      const all = storedIncidents(dbFile);
      return all.length > 0 ? all : undefined;
    }, 15_000);
    expect(draft?.status).toBe('open');
    expect(draft?.review).toBe('pending');
    expect(draft?.root_component).toBe('db');
    expect(draft?.components).toEqual([{ id: 'db', impact: 'major_outage' }]);
    expect(draft?.severity).toBe('critical');
    expect(draft?.signals).toHaveLength(1);
    expect(draft?.signals[0]).toMatchObject({ rule: 'alertmanager', probe: 'alertmanager:DbDown@db', targets: ['db-1:5432'], error: 'alert', until: null });
    // since is the alert's startsAt (Alertmanager keeps the time it was given, to the millisecond).
    expect(Date.parse(draft?.signals[0]?.since ?? '')).toBe(Date.parse(startsAt));
    expect(draft?.timeline[0]?.text).toContain('DbDown: primary unreachable');

    const metrics = await (await fetch(`${api}/metrics`)).text();
    expect(metrics).toMatch(/tocsin_alerts_received_total\{status="firing"\} [1-9]/);
    expect(metrics).toContain('tocsin_incidents_opened_total{rule="alertmanager"} 1');

    // Resolved: Alertmanager sends the alert again with status resolved (send_resolved).
    const endsAt = new Date(Math.max(Date.now(), Date.parse(startsAt) + 1)).toISOString();
    const resolved = await fetch(`${amUrl}/api/v2/alerts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ labels, annotations, startsAt, endsAt }]),
    });
    expect(resolved.status).toBe(200);
    const [after] = await waitFor(() => {
      const all = storedIncidents(dbFile);
      return all[0]?.status === 'resolved' ? all : undefined;
    }, 15_000);
    expect(storedIncidents(dbFile)).toHaveLength(1);
    expect(after?.signals[0]?.until).not.toBeNull();
    expect(after?.timeline.map((e) => e.kind)).toEqual(['opened', 'recovered', 'resolved']);
    expect(after?.timeline[1]?.text).toBe('Databases: alertmanager:DbDown@db resolved');
    // The configured webhook heard both, with the stored documents.
    const events = await waitFor(() => (hooks.length >= 2 ? hooks : undefined), 10_000);
    expect(events.map((h) => [h.event, h.incident.id, h.incident.status])).toEqual([
      ['incident.opened', draft?.id, 'open'],
      ['incident.resolved', draft?.id, 'resolved'],
    ]);
  });

  it('ignores alerts without a known component, with the reason', async () => {
    const res = await post({
      version: '4',
      status: 'firing',
      receiver: 'tocsin',
      alerts: [
        { status: 'firing', labels: { alertname: 'X' }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: 'aaa' },
        { status: 'firing', labels: { alertname: 'Y', component: 'nope' }, annotations: {}, startsAt: new Date().toISOString(), fingerprint: 'bbb' },
      ],
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      accepted: 0,
      ignored: [
        { fingerprint: 'aaa', reason: 'no "component" label' },
        { fingerprint: 'bbb', reason: 'unknown component "nope"' },
      ],
    });
  });

  /**
   * n firing alerts of NodeDown on `nodes` (a component of its own: the first test's incident on
   * `db` would reopen within its cool-down), each with its own fingerprint and instance.
   */
  const nodeAlerts = (n: number, startsAt: string) =>
    Array.from({ length: n }, (_, i) => ({
      status: 'firing',
      labels: { alertname: 'NodeDown', component: 'nodes', instance: `node-${i}:9100` },
      annotations: { summary: `node-${i} down` },
      startsAt,
      fingerprint: `node${i}`,
    }));
  const operatorGet = async <T>(path: string): Promise<T> =>
    (await (await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${operator}` } })).json()) as T;
  interface Listed {
    id: string;
    status: string;
    review: string;
    signals: { probe: string; targets: string[] }[];
  }

  /** Posts `body` while polling /healthz one request at a time; the statuses of those answered. */
  async function postWhileCheckingHealth(
    body: unknown,
  ): Promise<{ res: Response; health: number[]; sentDuring: number }> {
    let pending = true;
    let sentDuring = 0;
    const health: number[] = [];
    const poll = (async () => {
      while (pending) {
        sentDuring++;
        health.push((await fetch(`${api}/healthz`)).status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      return { res: await post(body), health, sentDuring };
    } finally {
      pending = false;
      await poll;
    }
  }

  it('takes a webhook of 10,000 alerts on one component as one batch: one draft, /healthz answering; resolved, it resolves', async () => {
    const before = (await operatorGet<{ incidents: Listed[] }>('/api/v1/incidents?status=open')).incidents;
    expect(before).toEqual([]);
    const alerts = nodeAlerts(10_000, new Date().toISOString());
    const body = { version: '4', status: 'firing', receiver: 'tocsin', alerts };
    const fired = await postWhileCheckingHealth(body);
    expect(fired.res.status).toBe(200);
    expect(await fired.res.json()).toEqual({ accepted: 10_000, ignored: [] });
    // The daemon answered its health check while it took the burst (how fast is bench/alert-burst.ts's).
    expect(fired.sentDuring).toBeGreaterThan(0);
    expect(fired.health.every((s) => s === 200)).toBe(true);

    const open = (await operatorGet<{ incidents: Listed[] }>('/api/v1/incidents?status=open&signals=all')).incidents;
    expect(open).toHaveLength(1);
    const [draft] = open;
    expect(draft?.review).toBe('pending');
    expect(draft?.signals.map((sg) => sg.probe)).toEqual(['alertmanager:NodeDown@nodes']);
    expect(new Set(draft?.signals[0]?.targets)).toEqual(new Set(alerts.map((a) => a.labels.instance)));

    // Re-sent (every group interval): accepted, and nothing changes.
    const again = await post(body);
    expect(again.status).toBe(200);
    expect((await operatorGet<{ incidents: Listed[] }>('/api/v1/incidents?status=open')).incidents.map((i) => i.id)).toEqual([draft?.id]);

    const endsAt = new Date().toISOString();
    const resolved = await postWhileCheckingHealth({
      ...body,
      status: 'resolved',
      alerts: alerts.map((a) => ({ ...a, status: 'resolved', endsAt })),
    });
    expect(resolved.res.status).toBe(200);
    expect(await resolved.res.json()).toEqual({ accepted: 10_000, ignored: [] });
    expect(resolved.health.every((s) => s === 200)).toBe(true);
    const after = await waitFor(() => {
      const stored = storedIncidents(dbFile).find((i) => i.id === draft?.id);
      return stored?.status === 'resolved' ? stored : undefined;
    }, 15_000);
    expect(after.timeline.map((e) => e.kind)).toEqual(['opened', 'recovered', 'resolved']);
    expect((await operatorGet<{ incidents: Listed[] }>('/api/v1/incidents?status=open')).incidents).toEqual([]);
  });

  it('refuses a webhook over the alert limit with 413 naming the count and the limit, before applying any of it', async () => {
    const over = await post({ version: '4', status: 'firing', receiver: 'tocsin', alerts: nodeAlerts(10_001, new Date().toISOString()) });
    expect(over.status).toBe(413);
    const body = (await over.json()) as { error: { code: string; message: string } };
    expect(body).toEqual({ error: { code: 'PAYLOAD_TOO_LARGE', message: expect.any(String) as string } });
    expect(body.error.message).toMatch(/^alerts: 10001 alerts, over the limit of 10000 per webhook; .*max_alerts/);
    expect((await operatorGet<{ incidents: Listed[] }>('/api/v1/incidents?status=open')).incidents).toEqual([]);

    // Over the 4 MiB body limit: test/integration/api-incidents.test.ts (the server-wide 413).
  });

  it('answers 400 naming the field, 401 without a token, 403 for a viewer', async () => {
    const bad = await post({ version: '4', alerts: [{ status: 'burning', labels: {}, startsAt: new Date().toISOString() }] });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('INVALID');
    expect(body.error.message).toMatch(/^alerts\[0\]\.status: /);
    const old = await post({ version: '3', alerts: [] });
    expect(((await old.json()) as { error: { message: string } }).error.message).toMatch(/^version: /);
    expect((await post({ version: '4', alerts: [] }, '')).status).toBe(401);
    expect((await post({ version: '4', alerts: [] }, viewer)).status).toBe(403);
  });
});
