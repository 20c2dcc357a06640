import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, TOCSIN_BIN, waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';

// Reload in a fleet: `tocsin run` re-reads its config on SIGHUP and the workers follow without a
// restart of their own, because every job carries its probe's spec. Each vantage's worker binds its
// own loopback source address, so the target servers can tell which vantage asked for what.

const VANTAGES = [
  { name: 'a', source: '127.0.0.2' },
  { name: 'b', source: '127.0.0.3' },
] as const;

/** A loopback HTTP server that answers 200 and counts requests by source address and path. */
class CountingTarget {
  private readonly counts = new Map<string, number>();
  private server: Server | undefined;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const key = `${req.socket.remoteAddress ?? ''} ${req.url ?? ''}`;
      this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Requests from `source` for `path`. */
  count(source: string, path: string): number {
    return this.counts.get(`${source} ${path}`) ?? 0;
  }

  /** Every request, whatever its source and path. */
  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('fleet reload: the workers follow the leader’s SIGHUP without restarting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-fleet-reload-'));
  const configFile = join(dir, 'fleet.yml');
  const removed = new CountingTarget();
  const kept = new CountingTarget();
  const added = new CountingTarget();
  let redis: RedisServer | undefined;
  let daemon: DaemonProcess | undefined;
  let url = '';
  const workers: { child: ChildProcess; stderr: string; exited: Promise<unknown> }[] = [];

  const probe = (id: string, port: number, path: string) =>
    `  - { id: ${id}, kind: http, component: svc, url: "http://127.0.0.1:${port}${path}", interval: 500ms, timeout: 400ms }\n`;
  const config = (probes: string) =>
    `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
queue: { kind: bullmq, redis_url: "${redis?.url ?? ''}", vantages: [a, b], concurrency: 4 }
components:
  - { id: svc, name: Service }
probes:
${probes}`;
  const seenFromEveryVantage = (t: CountingTarget, path: string) => VANTAGES.every((v) => t.count(v.source, path) > 0);

  beforeAll(async () => {
    redis = await startRedisServer();
    await Promise.all([removed.start(), kept.start(), added.start()]);
    writeFileSync(configFile, config(probe('removed', removed.port, '/') + probe('kept', kept.port, '/v1')));
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    url = started.url;
    for (const v of VANTAGES) {
      const child = spawn(
        process.execPath,
        [TOCSIN_BIN, 'worker', '--config', configFile, '--vantage', v.name, '--source-address', v.source],
        { cwd: dir, env: { ...process.env, TOCSIN_CONFIG: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      const worker = { child, stderr: '', exited: once(child, 'exit') };
      child.stderr?.on('data', (d) => {
        worker.stderr += d;
      });
      workers.push(worker);
    }
    await Promise.all(
      workers.map((w) =>
        waitFor(() => {
          if (w.child.exitCode !== null) throw new Error(`worker exited: ${w.stderr}`);
          return w.stderr.includes('tocsin worker ready') ? true : undefined;
        }, 30_000),
      ),
    );
  }, 90_000);

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    daemon?.kill();
    await Promise.all(workers.map((w) => w.exited));
    if (daemon) await daemon.exited;
    await Promise.all([removed.stop(), kept.stop(), added.stop()]);
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a removed probe stops at every vantage, an added one starts at every vantage, a changed one is probed as changed', async () => {
    await waitFor(() => (seenFromEveryVantage(removed, '/') && seenFromEveryVantage(kept, '/v1') ? true : undefined), 30_000);
    const workerPids = workers.map((w) => w.child.pid);

    writeFileSync(configFile, config(probe('kept', kept.port, '/v2') + probe('added', added.port, '/')));
    daemon?.signal('SIGHUP');
    await waitFor(() => (daemon?.stderr.includes('configuration reloaded') ? true : undefined), 20_000);

    // The workers took the new specs from their jobs: the added probe and the changed URL, from both vantages.
    await waitFor(() => (seenFromEveryVantage(added, '/') && seenFromEveryVantage(kept, '/v2') ? true : undefined), 30_000);

    // The removed probe's jobs are gone from the queue. Checks already handed to a worker before
    // the reload may still land, so the count is read once the new ones flow, then again after
    // several intervals (500 ms each): it must not move.
    await sleep(1500);
    const removedBefore = removed.total();
    const keptOldBefore = VANTAGES.reduce((n, v) => n + kept.count(v.source, '/v1'), 0);
    const addedBefore = added.total();
    await sleep(4000);
    expect(removed.total()).toBe(removedBefore);
    expect(VANTAGES.reduce((n, v) => n + kept.count(v.source, '/v1'), 0)).toBe(keptOldBefore);
    // ...while the probes that remain are still checked.
    expect(added.total()).toBeGreaterThan(addedBefore);

    // The same worker processes: nothing restarted.
    expect(workers.map((w) => w.child.pid)).toEqual(workerPids);
    for (const w of workers) expect(w.child.exitCode).toBeNull();
    const exposition = await (await fetch(`${url}/metrics`)).text();
    expect(exposition).not.toContain('probe="removed"');
    expect(exposition).toMatch(/tocsin_probe_success\{[^}]*probe="added"[^}]*vantage="a"/);
    expect(exposition).toMatch(/tocsin_probe_success\{[^}]*probe="added"[^}]*vantage="b"/);
  }, 120_000);
});
