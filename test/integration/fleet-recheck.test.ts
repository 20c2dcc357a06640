import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { metric, sum, WorkerProcess } from '../helpers/fleet-workers.js';
import { refusedPort } from '../helpers/refused-port.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

// Re-checks in a fleet: `tocsin run` decides them from every vantage's results and queues each one
// for the vantage that failed, on that vantage's queue only. Three workers (vantages a, b, c, each
// bound to its own loopback source address) probe every 10 s: a stopped target is re-checked twice
// at each vantage, a target refusing only vantage b is re-checked at b alone and opens nothing,
// even when b reports (and re-checks) before a and c have reported at all: they are expected.

const TOKEN = 'fleet-recheck-viewer-token-0123';
const VANTAGES = [
  { name: 'a', source: '127.0.0.2' },
  { name: 'b', source: '127.0.0.3' },
  { name: 'c', source: '127.0.0.4' },
] as const;

describe('fleet re-checks: each vantage re-checks on its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-fleet-recheck-'));
  const configFile = join(dir, 'fleet.yml');
  let redis: RedisServer;
  let picky: Server;
  let daemon: DaemonProcess | undefined;
  let url = '';
  const workers: WorkerProcess[] = [];
  const metrics = async () => (await fetch(`${url}/metrics`)).text();

  beforeAll(async () => {
    redis = await startRedisServer();
    // Refuses only the connections from vantage b's source address, from the start.
    picky = createServer((_req, res) => res.end('ok\n'));
    picky.on('connection', (socket) => {
      if (socket.remoteAddress === '127.0.0.3') socket.destroy();
    });
    await new Promise<void>((resolve) => picky.listen(0, '127.0.0.1', resolve));
    const pickyPort = (picky.address() as AddressInfo).port;
    // A port nothing listens on: a stopped service.
    const closedPort = await refusedPort();
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: viewer, role: viewer, token_env: TOCSIN_FLEET_RECHECK_TOKEN }]
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [a, b, c], concurrency: 8 }
defaults:
  recheck: { interval: 2s }
components:
  - { id: svc-down, name: Down }
  - { id: svc-picky, name: Picky }
probes:
  - { id: down, kind: http, component: svc-down, url: "http://127.0.0.1:${closedPort}/", interval: 10s, timeout: 1s }
  - { id: picky, kind: http, component: svc-picky, url: "http://127.0.0.1:${pickyPort}/", interval: 10s, timeout: 1s }
`,
    );
    process.env.TOCSIN_FLEET_RECHECK_TOKEN = TOKEN;
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    url = started.url;
    for (const v of VANTAGES) workers.push(WorkerProcess.start(configFile, dir, v));
    await Promise.all(workers.map((w) => w.ready()));
  }, 60_000);

  afterAll(async () => {
    for (const w of workers) w.kill();
    daemon?.kill();
    await Promise.all(workers.map((w) => w.exited));
    if (daemon) await daemon.exited;
    picky?.closeAllConnections();
    await new Promise<void>((resolve) => (picky ? picky.close(() => resolve()) : resolve()));
    await redis?.stop();
    delete process.env.TOCSIN_FLEET_RECHECK_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-checks a failure at the vantage that saw it; a majority opens the draft, a minority nothing', async () => {
    // Every vantage checked `down` once and re-checked it twice: 6 re-checks, all failed.
    const text = await waitFor(async () => {
      const t = await metrics();
      const done =
        metric(t, 'tocsin_rechecks_total', { probe: 'down', result: 'failed' })[0] === 6 &&
        metric(t, 'tocsin_rechecks_total', { probe: 'picky', result: 'failed' })[0] === 2;
      return done ? t : undefined;
    }, 120_000, 250);
    for (const v of VANTAGES) {
      const failures = sum(metric(text, 'tocsin_probe_checks_total', { probe: 'down', vantage: v.name, result: 'failure' }));
      expect(failures).toBeGreaterThanOrEqual(3);
    }
    // Only b failed `picky`, and only b re-checked it: a re-check at a or c would have succeeded.
    const atB = sum(metric(text, 'tocsin_probe_checks_total', { probe: 'picky', vantage: 'b', result: 'failure' }));
    expect(atB).toBeGreaterThanOrEqual(3);
    expect(metric(text, 'tocsin_rechecks_total', { probe: 'picky', result: 'ok' })).toEqual([]);
    expect(metric(text, 'tocsin_rechecks_total', { probe: 'down', result: 'skipped' })).toEqual([]);

    const incidents = await waitFor(async () => {
      const res = await fetch(`${url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const body = (await res.json()) as { incidents: { root_component: string }[] };
      return body.incidents.length > 0 ? body.incidents : undefined;
    }, 30_000, 250);
    expect(incidents.map((i) => i.root_component)).toEqual(['svc-down']);
    // No more re-checks once the rule holds at every vantage: the count stays at 6.
    const later = await metrics();
    expect(metric(later, 'tocsin_rechecks_total', { probe: 'down', result: 'failed' })).toEqual([6]);
    expect(metric(later, 'tocsin_rechecks_total', { probe: 'picky', result: 'failed' })).toEqual([2]);
  }, 180_000);
});
