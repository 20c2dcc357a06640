import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PROBE_KINDS } from '../../probes/index.js';
import type { ProbeKind } from '../../probes/probe.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import { BullmqQueue } from '../../src/queue/bullmq.js';
import { FLEET_KEYS, scheduleVersionKey } from '../../src/queue/bullmq-keys.js';
import { ResultsBus } from '../../src/results/bus.js';
import { type ProbeWorker, startProbeWorker } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// The BullMQ ProbeQueue in-process against a real redis-server: the adapter (as inside `tocsin
// run`) and workers (as `tocsin worker`) in this process, talking only through Redis.

const logger = pino({ level: 'silent' });

/** A probe kind whose checks take `sleep_ms`, counting how many run at once. */
let running = 0;
let maxRunning = 0;
let slowRuns = 0;
const slowKind: ProbeKind<{ target: string; sleep_ms: number }> = {
  kind: 'slow',
  shape: { target: z.string(), sleep_ms: z.number() },
  targets: (spec) => [spec.target],
  grouping: 'each',
  async run(spec, targets, ctx) {
    running++;
    slowRuns++;
    maxRunning = Math.max(maxRunning, running);
    try {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, spec.sleep_ms);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          resolve();
        });
      });
    } finally {
      running--;
    }
    return targets.map((target) => ({ target, ok: true, duration_ms: spec.sleep_ms }));
  },
};
const KINDS: Readonly<Record<string, ProbeKind>> = { ...PROBE_KINDS, slow: slowKind as ProbeKind };

describe('bullmq ProbeQueue (adapter + workers, real redis-server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bullmq-'));
  let redis: RedisServer;
  let target: TestServer;
  let admin: Redis;
  let queue: BullmqQueue | undefined;
  const workers: ProbeWorker[] = [];
  let bus: ResultsBus;
  let metrics: Metrics;
  let results: ProbeResult[];

  async function plan(probes: string, vantages = ['a', 'b']): Promise<Plan> {
    const file = join(dir, `tocsin-${Math.random().toString(36).slice(2)}.yml`);
    writeFileSync(
      file,
      `queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [${vantages.join(', ')}] }
components:
  - { id: app, name: App }
probes:
${probes}`,
    );
    const loaded = await loadConfig(file, { kinds: KINDS });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    return loaded.plan;
  }

  function startQueue(): BullmqQueue {
    queue = new BullmqQueue({ kinds: KINDS, bus, metrics, clock: systemClock, logger, redisUrl: redis.url });
    return queue;
  }

  function startWorker(vantage: string, concurrency = 4): ProbeWorker {
    const w = startProbeWorker({ redisUrl: redis.url, vantage, concurrency, kinds: KINDS, clock: systemClock, logger });
    workers.push(w);
    return w;
  }

  async function schedulerNames(vantage: string): Promise<string[]> {
    const q = new Queue(vantage, { connection: admin, prefix: FLEET_KEYS.probePrefix });
    try {
      return (await q.getJobSchedulers(0, -1, true)).map((s) => s.name).sort();
    } finally {
      await q.close();
    }
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url, { maxRetriesPerRequest: null });
    target = await startHttpServer((req, res) => {
      res.writeHead(req.url === '/down' ? 503 : 200, { 'content-type': 'text/plain' }).end('ok\n');
    });
  });
  beforeEach(async () => {
    await admin.flushall();
    metrics = createMetrics({ version: 'test', processMetrics: false });
    bus = new ResultsBus((err) => {
      throw err;
    });
    results = [];
    bus.subscribe((r) => results.push(r));
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop(500)));
    await queue?.stop(500);
    queue = undefined;
  });
  afterAll(async () => {
    admin?.disconnect();
    await target?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs each check at every vantage through Redis and publishes the results on the bus', async () => {
    const p = await plan(`  - { id: web, kind: http, component: app, url: "${target.url}/", interval: 500ms, timeout: 400ms }
  - { id: only-b, kind: http, component: app, url: "${target.url}/down", interval: 500ms, timeout: 400ms, vantages: [b] }
`);
    const q = startQueue();
    await q.sync(p);
    await q.start();
    startWorker('a');
    startWorker('b');
    await Promise.all(workers.map((w) => w.ready));
    expect(q.running).toBe(true);

    await waitFor(() => {
      const seen = new Set(results.map((r) => `${r.probe}@${r.vantage}`));
      return seen.has('web@a') && seen.has('web@b') && seen.has('only-b@b') ? true : undefined;
    }, 15_000);
    const web = results.find((r) => r.probe === 'web' && r.vantage === 'a');
    expect(web).toMatchObject({ ok: true, target: `${target.url}/` });
    expect(results.find((r) => r.probe === 'only-b')).toMatchObject({ ok: false, error: 'status', vantage: 'b' });
    // No vantage runs a probe outside its `vantages`.
    expect(results.some((r) => r.probe === 'only-b' && r.vantage === 'a')).toBe(false);
    expect(q.stats().scheduled).toBe(3);
    const exposition = await metrics.registry.metrics();
    expect(exposition).toMatch(/tocsin_scheduler_lag_seconds_count [1-9]/);
    expect(exposition).toMatch(/tocsin_vantage_stale\{vantage="a"\} 0/);

    // A stopped queue publishes nothing more, while workers and schedulers go on without it.
    await q.stop(200);
    const count = results.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(results.length).toBe(count);
  });

  it('sync adds, updates and removes job schedulers without restarting workers', async () => {
    const q = startQueue();
    await q.sync(
      await plan(`  - { id: web, kind: http, component: app, url: "${target.url}/", interval: 500ms, timeout: 400ms }
  - { id: gone, kind: http, component: app, url: "${target.url}/", interval: 500ms, timeout: 400ms }
`),
    );
    await q.start();
    startWorker('a');
    startWorker('b');
    expect(await schedulerNames('a')).toEqual(['gone', 'web']);
    // Each sync leaves a digest of the vantage's schedule: workers re-read their copy when it moves.
    const digest = await admin.get(scheduleVersionKey('a'));
    expect(digest).toMatch(/^[0-9a-f]{40}$/);
    await waitFor(() => (results.some((r) => r.probe === 'gone') ? true : undefined), 15_000);

    // New config: `gone` removed, `web` points elsewhere; the same workers pick the change up.
    await q.sync(
      await plan(`  - { id: web, kind: http, component: app, url: "${target.url}/down", interval: 500ms, timeout: 400ms }
`),
    );
    expect(await schedulerNames('a')).toEqual(['web']);
    expect(await schedulerNames('b')).toEqual(['web']);
    expect(await admin.get(scheduleVersionKey('a'))).not.toBe(digest);
    const at = results.length;
    await waitFor(
      () =>
        results.slice(at).some((r) => r.probe === 'web' && r.target === `${target.url}/down` && r.vantage === 'a')
          ? true
          : undefined,
      15_000,
    );
    // Results of a probe gone from the plan are not published, even from a check already running.
    const later = results.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(results.slice(later).some((r) => r.probe === 'gone')).toBe(false);

    // A vantage dropped from queue.vantages loses its schedulers.
    await q.sync(
      await plan(`  - { id: web, kind: http, component: app, url: "${target.url}/", interval: 500ms, timeout: 400ms }
`, ['a']),
    );
    expect(await schedulerNames('b')).toEqual([]);
    expect(await schedulerNames('a')).toEqual(['web']);
  });

  it('skips a check whose previous run is still going, across worker slots and processes', async () => {
    running = 0;
    maxRunning = 0;
    slowRuns = 0;
    const loaded = await plan(`  - { id: slow, kind: slow, component: app, target: t1, sleep_ms: 1300, interval: 500ms, timeout: 400ms }
`, ['a']);
    // The loader keeps timeout < interval; the point here is a check slower than its interval.
    const p: Plan = { ...loaded, probes: loaded.probes.map((pr) => ({ ...pr, timeoutMs: 3000 })) };
    const q = startQueue();
    await q.sync(p);
    await q.start();
    startWorker('a', 4);
    startWorker('a', 4);
    await waitFor(async () => {
      const text = await metrics.registry.metrics();
      const skipped = /tocsin_scheduler_skipped_total\{probe="slow"\} (\d+)/.exec(text);
      return Number(skipped?.[1] ?? 0) >= 2 && results.length >= 2 ? true : undefined;
    }, 20_000);
    expect(slowRuns).toBeGreaterThanOrEqual(2);
    expect(maxRunning).toBe(1);
    const skipped = workers.reduce((n, w) => n + w.stats().skipped, 0);
    expect(skipped).toBeGreaterThanOrEqual(2);
  });
});
