import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_KEYS } from '../../src/queue/bullmq-keys.js';
import { parseFleetMessage } from '../../src/queue/bullmq-results.js';
import { DaemonProcess, TOCSIN_BIN, waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { Target } from '../helpers/target.js';

// The engine acknowledges the results stream by saving its position with its snapshot: a
// `tocsin run` killed (-9) while its worker goes on probing replays, when it starts again, the
// results it never took. Real processes: redis-server, `tocsin run`, `tocsin worker`, a target.

const TOKEN = 'fleet-replay-viewer-token-0123';

describe('fleet: results a killed daemon never took are replayed when it starts again', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-replay-'));
  const configFile = join(dir, 'fleet.yml');
  const dbFile = join(dir, 'data', 'tocsin.db');
  const target = new Target();
  let redis: RedisServer;
  let admin: Redis;
  let daemon: DaemonProcess | undefined;
  let worker: ChildProcess | undefined;

  /** The failed results of `web` on the stream whose check started after `since`. */
  async function failuresOnStream(since: number): Promise<number> {
    let n = 0;
    for (const [, fields] of await admin.xrange(FLEET_KEYS.results, '-', '+')) {
      const msg = parseFleetMessage(fields);
      if (msg?.type !== 'results') continue;
      n += msg.results.filter((r) => r.probe === 'web' && !r.ok && Date.parse(r.at) > since).length;
    }
    return n;
  }

  /** The results position the engine saved with its snapshot (undefined before the first). */
  function savedPosition(): string | undefined {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT value FROM state WHERE key = ?').get('engine.results') as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as { position: string }).position : undefined;
    } finally {
      db.close();
    }
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
    await target.start();
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: viewer, role: viewer, token_env: TOCSIN_REPLAY_TOKEN }]
store: { kind: sqlite, path: ${dbFile} }
queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [a], concurrency: 4 }
components:
  - { id: app, name: App }
probes:
  - { id: web, kind: http, component: app, url: "http://127.0.0.1:${target.port}/", interval: 500ms, timeout: 400ms }
`,
    );
    process.env.TOCSIN_REPLAY_TOKEN = TOKEN;
  });

  afterAll(async () => {
    daemon?.kill();
    if (daemon) await daemon.exited;
    if (worker && worker.exitCode === null) {
      worker.kill('SIGKILL');
      await new Promise((r) => worker?.once('exit', r));
    }
    admin?.disconnect();
    await target.stop();
    await redis?.stop();
    delete process.env.TOCSIN_REPLAY_TOKEN;
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens the draft from the failures checked while it was down, at their own time', async () => {
    ({ daemon } = await DaemonProcess.start(configFile, dir));
    let stderr = '';
    worker = spawn(process.execPath, [TOCSIN_BIN, 'worker', '--config', configFile, '--vantage', 'a'], {
      cwd: dir,
      env: { ...process.env, TOCSIN_CONFIG: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    worker.stderr?.on('data', (d) => {
      stderr += d;
    });
    await waitFor(() => (stderr.includes('tocsin worker ready') ? true : undefined), 20_000);
    // The engine has taken results and saved where it stands on the stream.
    const first = await waitFor(() => savedPosition(), 30_000);
    await waitFor(() => ((savedPosition() ?? first) !== first ? true : undefined), 30_000);

    daemon.kill();
    await daemon.exited;
    const killedAt = Date.now();
    await target.stop();
    // The worker goes on: failures pile up on the stream while no daemon reads it.
    await waitFor(async () => ((await failuresOnStream(killedAt)) >= 4 ? true : undefined), 20_000);
    const restartAt = Date.now();
    const restarted = await DaemonProcess.start(configFile, dir);
    daemon = restarted.daemon;

    const incident = await waitFor(async () => {
      const res = await fetch(`${restarted.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } });
      const { incidents } = (await res.json()) as { incidents: { opened_at: string; root_component: string }[] };
      return incidents[0];
    }, 20_000);
    expect(incident.root_component).toBe('app');
    // Opened from the replayed failures, at the time they were checked: before the restart,
    // which live results alone (3 failures from now on) could not do.
    expect(Date.parse(incident.opened_at)).toBeLessThan(restartAt);
    expect(Date.parse(incident.opened_at)).toBeGreaterThan(killedAt);
    const metrics = await (await fetch(`${restarted.url}/metrics`)).text();
    const replayed = Number(/^tocsin_results_replayed_total (\d+)/m.exec(metrics)?.[1] ?? 0);
    expect(replayed).toBeGreaterThanOrEqual(4);
    expect(daemon.stderr).toContain('results replayed from the stream');
  });
});
