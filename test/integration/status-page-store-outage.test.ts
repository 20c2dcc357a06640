import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_STALE_HEADER } from '../../src/api/routes/status.js';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { StatusModel } from '../../src/status/model.js';
import { waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// Issue 13 item 8: the public page outlives the store. A live daemon on a real redis-server serves
// /status and /status.json; redis-server is stopped: both keep answering 200 with the last good
// page, marked stale, and the outage is logged once; redis-server comes back (same port): fresh
// pages again.

type StatusJson = StatusModel & { stale: boolean };

describe('public status page while the Redis store is down', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-outage-'));
  const logs: string[] = [];
  let target: TestServer;
  let redis: RedisServer;
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    target = await startHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
    redis = await startRedisServer();
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: redis, url: "${redis.url}/0" }
components:
  - { id: web, name: Web shop, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "${target.url}/", interval: 300ms, timeout: 200ms }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    });
    daemon = await startDaemon({ plan: loaded.plan, logger: pino({ level: 'info' }, sink), env: {} });
  });
  afterAll(async () => {
    await daemon?.stop(0);
    await redis?.stop();
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string) => fetch(`${daemon?.url}${path}`);
  const outageLines = () => logs.filter((l) => l.includes('status page: store unreachable'));

  it('serves the last good page, marked stale, then fresh pages once Redis is back', async () => {
    // Healthy: fresh pages, stale: false, no stale header.
    const fresh = await get('/status.json');
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get(STATUS_STALE_HEADER)).toBeNull();
    const good = (await fresh.json()) as StatusJson;
    expect(good.stale).toBe(false);
    expect(good.components.map((c) => c.id)).toEqual(['web']);
    const goodHtml = await get('/status');
    expect(goodHtml.status).toBe(200);
    expect(await goodHtml.text()).not.toContain('id="stale"');
    // The last good build, both routes share it.
    const last = (await (await get('/status.json')).json()) as StatusJson;

    await redis.stop();
    // Reading the store now fails (at once: no offline queue); the page stays up.
    const staleJson = await waitFor(async () => {
      const res = await get('/status.json');
      expect(res.status).toBe(200);
      return res.headers.get(STATUS_STALE_HEADER) === 'true' ? ((await res.json()) as StatusJson) : undefined;
    }, 15_000);
    expect(staleJson).toEqual({ ...last, stale: true });

    const staleHtml = await get('/status');
    expect(staleHtml.status).toBe(200);
    expect(staleHtml.headers.get(STATUS_STALE_HEADER)).toBe('true');
    expect(staleHtml.headers.get('cache-control')).toBe('public, max-age=15');
    const html = await staleHtml.text();
    expect(html).toContain('id="stale"');
    expect(html).toContain(`as of ${last.generated_at.slice(0, 16).replace('T', ' ')} UTC`);
    expect(html).toContain('Web shop');

    // More readers during the outage: one log line for the whole outage.
    for (let i = 0; i < 5; i++) {
      expect((await get('/status.json')).status).toBe(200);
      expect((await get('/status')).status).toBe(200);
    }
    expect(outageLines()).toHaveLength(1);
    expect(outageLines()[0]).toContain(last.generated_at);

    // Redis is back where the daemon expects it: fresh pages, generated_at moves on.
    redis = await startRedisServer({ port: redis.port });
    const back = await waitFor(async () => {
      const res = await get('/status.json');
      if (res.status !== 200 || res.headers.get(STATUS_STALE_HEADER) !== null) return undefined;
      const body = (await res.json()) as StatusJson;
      return body.stale === false ? body : undefined;
    }, 20_000);
    expect(Date.parse(back.generated_at)).toBeGreaterThan(Date.parse(last.generated_at));
    const backHtml = await get('/status');
    expect(backHtml.status).toBe(200);
    expect(backHtml.headers.get(STATUS_STALE_HEADER)).toBeNull();
    expect(await backHtml.text()).not.toContain('id="stale"');
    expect(logs.some((l) => l.includes('status page: store reachable again'))).toBe(true);
    expect(outageLines()).toHaveLength(1);
  });
});
