/**
 * A Redis outage under a running fleet, measured with real processes: redis-server (AOF), one
 * `tocsin run` (SQLite store, queue bullmq, one vantage), one `tocsin worker`, N HTTP probes on a
 * loopback target; Redis is killed for `outageMs`, and a separate target (the victim) goes down
 * `faultAfterMs` into the outage. What the stream holds at the end says what the workers
 * delivered (lost checks, duplicates, late deliveries); the API says when the victim's draft
 * appeared and at what time it was opened. `bin` runs another build (a before/after comparison).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { FLEET_KEYS } from '../../src/queue/bullmq-keys.js';
import { parseFleetMessage } from '../../src/queue/bullmq-results.js';
import {
  AofRedis,
  type Daemon,
  DEFAULT_REDIS_BIN,
  freePort,
  listIncidents,
  operatorToken,
  poll,
  sleep,
  spawnDaemon,
  spawnWorker,
  Target,
  waitReady,
} from './harness.js';

export interface FleetOutageOptions {
  readonly probes: number;
  readonly intervalMs: number;
  readonly outageMs: number;
  /** When the victim goes down, ms after Redis stopped. */
  readonly faultAfterMs: number;
  /** Another build's bin/tocsin.js (default: this checkout's). */
  readonly bin?: string;
  readonly redisBin?: string;
  readonly log?: (line: string) => void;
  readonly waitTimeoutMs?: number;
}

export interface FleetOutageResult {
  /** Checks of the N probes expected during the measured window (from the outage start − 5 s to its end + 5 s). */
  readonly expected: number;
  /** Checks missing from the stream in that window (a gap of k intervals in a series is k − 1 missing). */
  readonly lost: number;
  /** Results on the stream more than once (same probe, target, vantage and time). */
  readonly duplicates: number;
  /** Results delivered more than 2 s after their check (the buffer at work). */
  readonly late: number;
  /** From the victim going down to its draft listed by the API, ms; NaN when it never came. */
  readonly draftMs: number;
  /** From the victim going down to the draft's `opened_at`, ms. */
  readonly openedAfterMs: number;
  /** Distinct checks of the N probes per second of the window (by check time), from its start. */
  readonly perSecond: readonly number[];
  /** Where the outage lies in `perSecond`: its first and last second. */
  readonly outageSeconds: readonly [number, number];
}

const LATE_MS = 2000;

export async function runFleetOutage(opts: FleetOutageOptions): Promise<FleetOutageResult> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.waitTimeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-fleet-outage-'));
  const target = new Target();
  const victim = new Target();
  let redis: AofRedis | undefined;
  let daemon: Daemon | undefined;
  let worker: Daemon | undefined;
  let admin: Redis | undefined;
  try {
    await target.start();
    await victim.start();
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir);
    redis = new AofRedis(opts.redisBin ?? DEFAULT_REDIS_BIN, redisDir, await freePort());
    await redis.start(timeoutMs);
    const port = await freePort();
    const token = operatorToken();
    const configFile = join(dir, 'tocsin.yml');
    const interval = `${opts.intervalMs}ms`;
    const timeout = `${Math.min(opts.intervalMs - 100, 800)}ms`;
    const probes = Array.from(
      { length: opts.probes },
      (_, i) => `  - { id: p${i}, kind: http, component: web, url: "http://127.0.0.1:${target.port}/p${i}", interval: ${interval}, timeout: ${timeout} }`,
    );
    writeFileSync(
      configFile,
      `server: { listen: "127.0.0.1:${port}", tokens: [{ name: ops, role: operator, token_env: TOCSIN_OUTAGE_TOKEN }] }
store: { kind: sqlite, path: ${join(dir, 'tocsin.db')} }
queue: { kind: bullmq, redis_url: "${redis.url}/0", vantages: [a], concurrency: 256 }
components:
  - { id: web, name: Web }
  - { id: victim, name: Victim }
probes:
${probes.join('\n')}
  - { id: victim, kind: http, component: victim, url: "http://127.0.0.1:${victim.port}/", interval: ${interval}, timeout: ${timeout} }
`,
    );
    const env = { TOCSIN_OUTAGE_TOKEN: token };
    daemon = spawnDaemon({ configFile, cwd: dir, port, env, name: 'tocsin run', bin: opts.bin });
    await waitReady(daemon, timeoutMs);
    worker = spawnWorker({ configFile, cwd: dir, vantage: 'a', env, name: 'tocsin worker', bin: opts.bin });
    const w = worker;
    await poll('worker ready', timeoutMs, async () => (w.log.includes('tocsin worker ready') ? true : undefined), { context: () => w.tail() });
    // Steady state, and the worker has read its copy of the schedule.
    await sleep(Math.max(5000, 3 * opts.intervalMs));

    const downAt = Date.now();
    log(`Redis killed for ${opts.outageMs} ms; the victim fails ${opts.faultAfterMs} ms into it`);
    await redis.stop('SIGKILL');
    await sleep(opts.faultAfterMs);
    victim.failing = true;
    const faultAt = Date.now();
    await sleep(Math.max(0, downAt + opts.outageMs - Date.now()));
    await redis.start(timeoutMs);
    const upAt = Date.now();
    const d = daemon;
    let draftMs = Number.NaN;
    let openedAfterMs = Number.NaN;
    try {
      const draft = await poll(
        'the victim\'s draft',
        timeoutMs,
        async () => (await listIncidents(d.url, token)).find((i) => i.root_component === 'victim'),
        { everyMs: 50, context: () => d.tail() },
      );
      draftMs = Date.now() - faultAt;
      openedAfterMs = Date.parse(draft.opened_at) - faultAt;
    } catch (err) {
      log(`no draft: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
    log(`draft ${Number.isNaN(draftMs) ? 'never' : `${(draftMs / 1000).toFixed(1)} s after the fault`}`);
    await sleep(5000 + LATE_MS);

    // What the stream holds for the window around the outage.
    admin = new Redis(`${redis.url}/0`, { maxRetriesPerRequest: 3 });
    const from = downAt - 5000;
    const to = upAt + 5000;
    const seen = new Map<string, number[]>();
    let duplicates = 0;
    let late = 0;
    const keys = new Set<string>();
    let cursor = '-';
    for (;;) {
      const page = await admin.xrange(FLEET_KEYS.results, cursor, '+', 'COUNT', 5000);
      for (const [id, fields] of page) {
        const msg = parseFleetMessage(fields);
        if (msg?.type !== 'results') continue;
        const deliveredAt = Number(id.split('-')[0]);
        for (const r of msg.results) {
          if (r.probe === 'victim') continue;
          const at = Date.parse(r.at);
          if (at < from || at > to) continue;
          const key = `${r.probe}\u0000${r.target ?? ''}\u0000${r.vantage}\u0000${at}`;
          if (keys.has(key)) duplicates++;
          keys.add(key);
          if (deliveredAt - at > LATE_MS) late++;
          const series = seen.get(r.probe) ?? [];
          series.push(at);
          seen.set(r.probe, series);
        }
      }
      const last = page.at(-1)?.[0];
      if (!last || page.length < 5000) break;
      cursor = `(${last}`;
    }
    // Missing checks per series: gaps of k intervals hold k − 1 missing checks, and the ends of
    // the window count as gaps too.
    let lost = 0;
    for (let i = 0; i < opts.probes; i++) {
      const ats = [...new Set(seen.get(`p${i}`) ?? [])].sort((a, b) => a - b);
      const points = [from, ...ats, to];
      for (let k = 1; k < points.length; k++) {
        const gap = (points[k] as number) - (points[k - 1] as number);
        lost += Math.max(0, Math.round(gap / opts.intervalMs) - 1);
      }
    }
    const expected = Math.round(((to - from) / opts.intervalMs) * opts.probes);
    const perSecond = Array.from({ length: Math.ceil((to - from) / 1000) }, () => 0);
    for (const key of keys) {
      const at = Number(key.slice(key.lastIndexOf('\u0000') + 1));
      const i = Math.floor((at - from) / 1000);
      if (i >= 0 && i < perSecond.length) perSecond[i] = (perSecond[i] ?? 0) + 1;
    }
    const outageSeconds: [number, number] = [Math.floor((downAt - from) / 1000), Math.floor((upAt - from) / 1000)];
    return { expected, lost, duplicates, late, draftMs, openedAfterMs, perSecond, outageSeconds };
  } finally {
    admin?.disconnect();
    await worker?.kill();
    await daemon?.kill();
    await redis?.stop('SIGKILL');
    await target.stop();
    await victim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
