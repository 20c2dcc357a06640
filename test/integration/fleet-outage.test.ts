import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PROBE_KINDS } from '../../probes/index.js';
import { systemClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import { BullmqQueue } from '../../src/queue/bullmq.js';
import { ResultsBus } from '../../src/results/bus.js';
import type { BufferLimits } from '../../src/worker/result-buffer.js';
import { type ProbeWorker, startProbeWorker } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// A Redis outage under a running fleet (real redis-server stopped and started again on its
// port; the adapter of `tocsin run` and a worker in this process, talking only through Redis):
// the worker keeps checking on its own schedule, buffers what it finds and delivers it in order.

const logger = pino({ level: 'silent' });
const OUTAGE_MS = 5000;

describe('fleet across a Redis outage (real redis-server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-outage-'));
  let redis: RedisServer;
  let target: TestServer;
  let queue: BullmqQueue | undefined;
  let worker: ProbeWorker | undefined;
  let metrics: Metrics;
  let results: ProbeResult[];

  async function plan(): Promise<Plan> {
    const file = join(dir, 'tocsin.yml');
    writeFileSync(
      file,
      `queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [a] }
components:
  - { id: app, name: App }
probes:
  - { id: web, kind: http, component: app, url: "${target.url}/", interval: 250ms, timeout: 200ms }
`,
    );
    const loaded = await loadConfig(file, { kinds: PROBE_KINDS });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    return loaded.plan;
  }

  async function startFleet(buffer?: BufferLimits): Promise<void> {
    const bus = new ResultsBus((err) => {
      throw err;
    });
    bus.subscribe((r) => results.push(r));
    queue = new BullmqQueue({ kinds: PROBE_KINDS, bus, metrics, clock: systemClock, logger, redisUrl: redis.url });
    await queue.sync(await plan());
    await queue.start();
    worker = startProbeWorker({ redisUrl: redis.url, vantage: 'a', concurrency: 4, kinds: PROBE_KINDS, clock: systemClock, logger, buffer });
    await worker.ready;
    // Results flow, and the worker has read its copy of the schedule (first watch after ready).
    await waitFor(() => (results.length >= 4 ? true : undefined), 15_000);
  }

  /** Stops Redis for OUTAGE_MS and starts it again on the same port (empty: no persistence). */
  async function outage(): Promise<{ downAt: number; upAt: number }> {
    const { port } = redis;
    const downAt = Date.now();
    await redis.stop();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    redis = await startRedisServer({ port });
    return { downAt, upAt: Date.now() };
  }

  async function exposition(): Promise<string> {
    return metrics.registry.metrics();
  }

  beforeAll(async () => {
    redis = await startRedisServer();
    target = await startHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'));
  });
  beforeEach(() => {
    metrics = createMetrics({ version: 'test', processMetrics: false });
    results = [];
  });
  afterEach(async () => {
    await worker?.stop(500);
    await queue?.stop(500);
    worker = undefined;
    queue = undefined;
  });
  afterAll(async () => {
    await target?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps checking while Redis is away and delivers every result, in order, once it is back', async () => {
    await startFleet();
    const { downAt, upAt } = await outage();

    // Checks made during the outage (the worker's own schedule, from the moment its connection
    // dropped) reach `tocsin run`: every 250 ms slot of the outage, give or take the first and last.
    const during = await waitFor(() => {
      const seen = results.filter((r) => {
        const at = Date.parse(r.at);
        return at > downAt && at < upAt;
      });
      return seen.length >= (OUTAGE_MS / 250) * 0.6 && worker?.stats().buffered === 0 ? seen : undefined;
    }, 30_000);
    expect(during.every((r) => r.probe === 'web' && r.vantage === 'a' && r.ok)).toBe(true);
    // No slot of the outage is missing: the longest gap is one interval (+ scheduling slack).
    const outageAts = during.map((r) => Date.parse(r.at)).sort((a, b) => a - b);
    const gaps = outageAts.slice(1).map((at, i) => at - (outageAts[i] as number));
    expect(Math.max(...gaps)).toBeLessThan(2 * 250 + 200);
    const stats = worker?.stats();
    expect(stats?.fallbackChecks).toBeGreaterThanOrEqual(4);
    expect(stats?.droppedOverflow).toBe(0);
    expect(stats?.droppedExpired).toBe(0);

    // One series, delivered in the order it was checked (a late result never overtakes).
    const ats = results.map((r) => Date.parse(r.at));
    for (let i = 1; i < ats.length; i++) expect(ats[i]).toBeGreaterThanOrEqual(ats[i - 1] as number);

    // Jobs resume after the outage (new checks, not only the buffer), and the worker reports.
    await waitFor(() => (results.some((r) => Date.parse(r.at) > upAt + 1000) ? true : undefined), 20_000);
    await waitFor(async () => ((await exposition()).match(/tocsin_worker_fallback_checks_total\{vantage="a"\} ([1-9]\d*)/) ? true : undefined), 20_000);
    expect(await exposition()).toMatch(/tocsin_worker_results_buffered\{vantage="a"\} 0/);
  });

  it('bounds the buffer: the oldest results go first, counted by reason', async () => {
    await startFleet({ maxResults: 3, maxAgeMs: 60_000 });
    const { downAt, upAt } = await outage();

    const settled = (): true | undefined => {
      const s = worker?.stats();
      return s?.buffered === 0 && s.fallbackChecks >= 5 ? true : undefined;
    };
    await waitFor(settled, 30_000);
    const stats = worker?.stats();
    // At most 3 results of the outage were kept (skipped checks count too): all the others went.
    const during = results.filter((r) => Date.parse(r.at) > downAt && Date.parse(r.at) < upAt);
    expect(during.length).toBeLessThanOrEqual(3);
    // The outage's 250 ms slots (20 in 5 s; half of them, to leave room for a slow machine)
    // went into a buffer of 3: the rest were dropped. (Fallback checks made after Redis came
    // back, before the first job, are sent at once: they are not counted here.)
    expect(stats?.droppedOverflow).toBeGreaterThanOrEqual(OUTAGE_MS / 250 / 2 - 3);
    // The oldest went first: what was kept is the outage's end, not its start.
    expect(during.every((r) => Date.parse(r.at) > downAt + OUTAGE_MS / 2)).toBe(true);
    await waitFor(
      async () => ((await exposition()).match(/tocsin_worker_results_dropped_total\{vantage="a",reason="overflow"\} ([1-9]\d*)/) ? true : undefined),
      20_000,
    );
  });
});
