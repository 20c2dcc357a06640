import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { metric, sum, WorkerProcess } from '../helpers/fleet-workers.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { Target } from '../helpers/target.js';

// Fleet mode end to end, as operators run it: redis-server, one `tocsin run` (queue bullmq) and
// three `tocsin worker`s, each bound to its own loopback source address (vantages a, b, c), probing
// real HTTP targets on 127.0.0.1. Then Redis goes away for a few seconds and comes back empty.

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'fleet-test-viewer-token-0123';
const VANTAGES = [
  { name: 'a', source: '127.0.0.2' },
  { name: 'b', source: '127.0.0.3' },
  { name: 'c', source: '127.0.0.4' },
] as const;

describe('fleet mode: tocsin run + 3 tocsin workers over a real redis-server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-fleet-'));
  const configFile = join(dir, 'fleet.yml');
  let redis: RedisServer;
  let redisPort = 0;
  const good = new Target();
  const down = new Target();
  let picky: Server;
  let pickyPort = 0;
  let daemon: DaemonProcess | undefined;
  let url = '';
  const workers = new Map<string, WorkerProcess>();

  const metrics = async () => (await fetch(`${url}/metrics`)).text();

  beforeAll(async () => {
    redis = await startRedisServer();
    redisPort = redis.port;
    await good.start();
    await down.start();
    // Refuses only the connections coming from vantage b's source address: b's network problem.
    picky = createServer((_req, res) => res.end('ok\n'));
    picky.on('connection', (socket) => {
      if (socket.remoteAddress === '127.0.0.3') socket.destroy();
    });
    await new Promise<void>((resolve) => picky.listen(0, '127.0.0.1', resolve));
    pickyPort = (picky.address() as AddressInfo).port;
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: viewer, role: viewer, token_env: TOCSIN_FLEET_TOKEN }]
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [a, b, c], concurrency: 8 }
components:
  - { id: svc-good, name: Good }
  - { id: svc-down, name: Down }
  - { id: svc-picky, name: Picky }
probes:
  - { id: good, kind: http, component: svc-good, url: "http://127.0.0.1:${good.port}/", interval: 500ms, timeout: 400ms }
  - { id: down, kind: http, component: svc-down, url: "http://127.0.0.1:${down.port}/", interval: 500ms, timeout: 400ms }
  - { id: picky, kind: http, component: svc-picky, url: "http://127.0.0.1:${pickyPort}/", interval: 500ms, timeout: 400ms }
`,
    );
    process.env.TOCSIN_FLEET_TOKEN = TOKEN;
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    url = started.url;
    for (const v of VANTAGES) workers.set(v.name, WorkerProcess.start(configFile, dir, v));
    await Promise.all([...workers.values()].map((w) => w.ready()));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers.values()) w.kill();
    daemon?.kill();
    await Promise.all([...workers.values()].map((w) => w.exited));
    if (daemon) await daemon.exited;
    await good.stop();
    await down.stop();
    picky?.closeAllConnections();
    await new Promise<void>((resolve) => (picky ? picky.close(() => resolve()) : resolve()));
    await redis?.stop();
    delete process.env.TOCSIN_FLEET_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  });

  it('probes from every vantage; a minority failure opens nothing, a majority failure one draft', async () => {
    // Every vantage's results reach `tocsin run`, which exposes them.
    const baseline = await waitFor(async () => {
      const text = await metrics();
      const ok = VANTAGES.every(
        (v) =>
          metric(text, 'tocsin_probe_success', { probe: 'good', vantage: v.name })[0] === 1 &&
          metric(text, 'tocsin_probe_success', { probe: 'picky', vantage: v.name }).length === 1,
      );
      return ok ? text : undefined;
    }, 20_000);
    // Vantage b's source address is refused by `picky`: only b sees it fail (S5).
    expect(metric(baseline, 'tocsin_probe_success', { probe: 'picky', vantage: 'b' })).toEqual([0]);
    expect(metric(baseline, 'tocsin_probe_success', { probe: 'picky', vantage: 'a' })).toEqual([1]);
    expect(metric(baseline, 'tocsin_probe_success', { probe: 'picky', vantage: 'c' })).toEqual([1]);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // The prober-side view of S5: b is the vantage failing alone, on one target.
    const minority = await waitFor(async () => {
      const t = await metrics();
      return metric(t, 'tocsin_vantage_minority_failing_targets', { vantage: 'b' })[0] === 1 ? t : undefined;
    }, 20_000);
    expect(sum(metric(minority, 'tocsin_vantage_minority_failing_targets', { vantage: 'a' }))).toBe(0);
    expect(sum(metric(minority, 'tocsin_vantage_disagreements_total', { vantage: 'b' }))).toBeGreaterThanOrEqual(1);

    await down.stop();
    await waitFor(async () => {
      const text = await metrics();
      return sum(metric(text, 'tocsin_incidents_opened_total')) >= 1 ? true : undefined;
    }, 20_000);
    // picky has failed at b since the start, longer than `down` needed to open its draft.
    const text = await metrics();
    expect(metric(text, 'tocsin_probe_success', { probe: 'picky', vantage: 'b' })).toEqual([0]);
    expect(sum(metric(text, 'tocsin_incidents_opened_total'))).toBe(1);
    const res = await fetch(`${url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const { incidents } = (await res.json()) as { incidents: { root_component: string; review: string }[] };
    expect(incidents.map((i) => [i.root_component, i.review])).toEqual([['svc-down', 'pending']]);
    await down.start();
  });

  it('survives a Redis outage: /readyz 503 and stale vantages meanwhile, results flow again after', async () => {
    const before = sum(metric(await metrics(), 'tocsin_probe_checks_total', { probe: 'good' }));
    await redis.stop();
    const outageStart = Date.now();
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 503 ? true : undefined), 5000);
    const stale = await waitFor(async () => {
      const t = await metrics();
      return VANTAGES.every((v) => metric(t, 'tocsin_vantage_stale', { vantage: v.name })[0] === 1) ? t : undefined;
    }, 8000);
    expect(stale).toContain('tocsin_vantage_stale');
    // A 6 s outage: longer than BullMQ's lock renewals and ioredis's first reconnection attempts.
    await new Promise((r) => setTimeout(r, Math.max(0, outageStart + 6000 - Date.now())));

    // Back on the same port, empty (no persistence): the daemon re-creates the job schedulers.
    redis = await startRedisServer({ port: redisPort });
    await waitFor(async () => ((await fetch(`${url}/readyz`)).status === 200 ? true : undefined), 20_000);
    await waitFor(async () => {
      const t = await metrics();
      const flowing = VANTAGES.every(
        (v) =>
          metric(t, 'tocsin_vantage_stale', { vantage: v.name })[0] === 0 &&
          sum(metric(t, 'tocsin_probe_checks_total', { probe: 'good', vantage: v.name, result: 'success' })) > 0,
      );
      return flowing && sum(metric(t, 'tocsin_probe_checks_total', { probe: 'good' })) >= before + 6 ? true : undefined;
    }, 25_000);
    expect(daemon?.child.exitCode).toBeNull();
    for (const w of workers.values()) expect(w.child.exitCode).toBeNull();
  });

  it('a worker drains and exits 0 on SIGTERM; its vantage turns stale', async () => {
    const c = workers.get('c');
    if (!c) throw new Error('no worker c');
    c.child.kill('SIGTERM');
    expect(await c.exited).toBe(0);
    expect(c.stderr).toContain('tocsin worker stopped');
    await waitFor(async () => {
      const t = await metrics();
      return metric(t, 'tocsin_vantage_stale', { vantage: 'c' })[0] === 1 &&
        metric(t, 'tocsin_vantage_stale', { vantage: 'a' })[0] === 0
        ? true
        : undefined;
    }, 8000);
  });

  it('refuses a vantage that is not in queue.vantages, and a source address not on this host', async () => {
    const unknown = await runCli(['worker', '--config', configFile, '--vantage', 'zz'], { cwd: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown vantage "zz" (queue.vantages: a, b, c)');
    const foreign = await runCli(
      ['worker', '--config', configFile, '--vantage', 'a', '--source-address', '192.0.2.1'],
      { cwd: dir },
    );
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain('--source-address 192.0.2.1 is not an address of this host');
  });
});

describe('fleet deployment files', () => {
  it('docker-compose.yml is valid (docker-compose config)', async () => {
    const { stdout } = await execFileP('docker-compose', ['-f', join(ROOT, 'docker-compose.yml'), 'config'], {
      cwd: ROOT,
    });
    for (const service of ['redis', 'tocsin', 'worker-par-a', 'worker-par-b', 'worker-par-c', 'prometheus']) {
      expect(stdout).toContain(`  ${service}:`);
    }
  });

  it('config/distributed.yml is a valid fleet config', async () => {
    const r = await runCli(['check-config', '--config', join(ROOT, 'config', 'distributed.yml')], { cwd: ROOT });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK');
  });
});
