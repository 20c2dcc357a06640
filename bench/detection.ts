/**
 * Detection delay (issue item 4): live faults injected on loopback into real processes watched by
 * a `tocsin run` child process (inline mode, SQLite), measured from the injection to the draft in
 * the API, `--runs` times each:
 * - `target stopped`: an HTTP service stops listening (connect refused);
 * - `LB left on old config`: one of 3 real HAProxy instances is reloaded with the previous config
 *   version (lb_sync, `max_lag` 2 s);
 * - `storage slow`: a Redis server behind a TCP relay that starts holding every chunk 30 ms each
 *   way (storage redis probe, `max_latency` 150 ms: degraded, not down).
 * The three fault loops run at the same time on three unrelated components of one daemon (no
 * `depends_on`: never merged), each run: random wait (so the fault lands anywhere in the probe's
 * interval) → inject → poll the API every 100 ms until an open draft for the component has an
 * `opened`/`reopened` entry after the fault → repair → wait until it is resolved. After the first
 * run the same incident is *reopened* (30 min cool-down), which is what an operator would see.
 * The rule pack runs without `intermittent`: faults back to back are, to it, a flapping service.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_PACK_DIR } from '../src/config/pack.js';
import type { Incident } from '../src/events/incident.js';
import { type HaproxyFleet, type HaproxySite, startHaproxyFleet } from '../test/helpers/haproxy.js';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';
import { Target } from '../test/helpers/target.js';
import { checkOptions, numberOption } from './lib/args.js';
import { barPlotSvg, IMG_DIR, linePlotSvg, writeSvg } from './lib/plot.js';
import { machineLine } from './lib/process-stats.js';
import { startTocsinDaemon, type TocsinProcess } from './lib/prometheus-stack.js';
import { fmt, percentile, sortedCopy } from './lib/stats.js';
import { printTable } from './lib/table.js';

const TOKEN_ENV = 'TOCSIN_BENCH_TOKEN';
const TOKEN = 'bench-detection-operator-token';
const POLL_MS = 100;
const DETECT_DEADLINE_MS = 40_000;
const RESOLVE_DEADLINE_MS = 40_000;
/** The seeds' detection delays (SCENARIOS.md: "10 to 15 minutes"). */
const SEED_DELAY_S = [600, 900] as const;
const STORAGE_DELAY_MS = 30;

/** A TCP relay whose delay can change at run time: a link that becomes slow, and recovers. */
class SlowRelay {
  delayMs = 0;
  port = 0;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(private readonly upstreamPort: number) {
    this.#server = net.createServer((client) => {
      const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
      this.#sockets.add(client).add(upstream);
      const relay = (from: net.Socket, to: net.Socket): void => {
        from.on('data', (chunk: Buffer) => {
          const d = this.delayMs;
          if (d === 0) to.write(chunk);
          else setTimeout(() => !to.destroyed && to.write(chunk), d);
        });
        from.once('end', () => setTimeout(() => to.end(), this.delayMs));
        from.once('close', () => {
          this.#sockets.delete(from);
          setTimeout(() => to.destroy(), this.delayMs);
        });
        from.on('error', () => to.destroy());
      };
      relay(client, upstream);
      relay(upstream, client);
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

interface Fault {
  readonly name: string;
  readonly component: string;
  readonly probe: string;
  /** The probe's re-check interval, 0 without re-checks. */
  readonly recheckMs: number;
  inject(): Promise<void>;
  repair(): Promise<void>;
}

export interface RunFigure {
  /** Fault → `opened`/`reopened` timeline entry (the draft's own time), ms. */
  readonly draftMs: number;
  /** Fault → first API poll that returned the draft, ms. */
  readonly seenMs: number;
}

export interface FaultFigures {
  readonly name: string;
  readonly recheckMs: number;
  readonly runs: readonly RunFigure[];
  readonly missed: number;
}

interface Recorded {
  readonly t: number;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly target: string;
}

class Api {
  constructor(private readonly url: string) {}

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return (await res.json()) as T;
  }

  async incidentOf(component: string): Promise<Incident | undefined> {
    const { incidents } = await this.get<{ incidents: Incident[] }>('/api/v1/incidents');
    return incidents.find((i) => i.root_component === component);
  }

  async latest(probe: string): Promise<{ at: string; ok: boolean; duration_ms?: number; target?: string }[]> {
    const { probes } = await this.get<{
      probes: { id: string; latest: { at: string; ok: boolean; duration_ms?: number; target?: string }[] }[];
    }>('/api/v1/probes');
    return probes.find((p) => p.id === probe)?.latest ?? [];
  }
}

/** The last `opened`/`reopened` entry at or after `since` (ms), if any. */
function openedSince(incident: Incident | undefined, since: number): number | undefined {
  if (!incident || incident.status !== 'open') return undefined;
  const entries = incident.timeline.filter(
    (e) => (e.kind === 'opened' || e.kind === 'reopened') && Date.parse(e.at) >= since - 1000,
  );
  const last = entries[entries.length - 1];
  return last ? Date.parse(last.at) : undefined;
}

async function until<T>(fn: () => Promise<T | undefined>, deadlineMs: number): Promise<T | undefined> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // The API is busy or restarting: try again at the next poll.
    }
    await sleep(POLL_MS);
  }
  return undefined;
}

async function faultLoop(
  api: Api,
  fault: Fault,
  runs: number,
  intervalMs: number,
  record: Recorded[] | undefined,
  deadlines: { readonly detectMs: number; readonly resolveMs: number },
): Promise<FaultFigures> {
  const figures: RunFigure[] = [];
  let missed = 0;
  for (let run = 0; run < runs; run++) {
    // Anywhere in the probe's interval: detection depends on where the fault lands in it.
    await sleep(Math.random() * intervalMs);
    let recorder: Promise<void> | undefined;
    let recording = false;
    let faultAt = Date.now();
    if (run === 0 && record) {
      recording = true;
      const seen = new Set<string>();
      recorder = (async () => {
        while (recording) {
          try {
            for (const r of await api.latest(fault.probe)) {
              const key = `${r.at}|${r.target ?? ''}`;
              if (seen.has(key)) continue;
              seen.add(key);
              record.push({ t: Date.parse(r.at), ok: r.ok, durationMs: r.duration_ms ?? Number.NaN, target: r.target ?? '' });
            }
          } catch {
            // Keep recording at the next poll.
          }
          await sleep(POLL_MS);
        }
      })();
      await sleep(5 * intervalMs);
    }
    await fault.inject();
    faultAt = Date.now();
    const found = await until(async () => {
      const at = openedSince(await api.incidentOf(fault.component), faultAt);
      return at === undefined ? undefined : { draftMs: at - faultAt, seenMs: Date.now() - faultAt };
    }, deadlines.detectMs);
    if (found) figures.push(found);
    else missed++;
    if (recorder) {
      await sleep(3 * intervalMs);
      record?.push({ t: faultAt, ok: false, durationMs: Number.NaN, target: '#fault' });
      if (found) record?.push({ t: faultAt + found.draftMs, ok: false, durationMs: Number.NaN, target: '#draft' });
    }
    await fault.repair();
    const resolved = await until(async () => {
      const i = await api.incidentOf(fault.component);
      return i === undefined || i.status === 'resolved' ? true : undefined;
    }, deadlines.resolveMs);
    if (recorder) {
      await sleep(2 * intervalMs);
      recording = false;
      await recorder;
    }
    process.stderr.write(
      `  ${fault.name}: run ${run + 1}/${runs} ${found ? `draft after ${fmt(found.draftMs / 1000, 2)} s (seen ${fmt(found.seenMs / 1000, 2)} s)` : 'NOT DETECTED'}${resolved ? '' : ', not resolved in time'}\n`,
    );
  }
  return { name: fault.name, recheckMs: fault.recheckMs, runs: figures, missed };
}

/** One set of probes, components and faults: with re-checks every `recheckMs`, or none (0). */
interface Variant {
  readonly suffix: string;
  readonly label: string;
  readonly recheckMs: number;
}

export async function detectionBench(args: readonly string[]): Promise<FaultFigures[]> {
  checkOptions(args, ['runs', 'interval', 'timeout', 'recheck', 'max-lag']);
  const runs = Math.round(numberOption(args, 'runs', 20));
  const intervalMs = numberOption(args, 'interval', 1) * 1000;
  const timeoutMs = numberOption(args, 'timeout', intervalMs / 2000) * 1000;
  // `--recheck S`: every fault runs twice side by side, on probes re-checked every S seconds and
  // on twins with `recheck: false`. Without it, no probe is re-checked (the figures before them).
  const recheckMs = numberOption(args, 'recheck', 0, 0) * 1000;
  const maxLagMs = numberOption(args, 'max-lag', (2 * intervalMs) / 1000) * 1000;
  const floorMs = intervalMs * 3 + timeoutMs;
  const variants: Variant[] =
    recheckMs > 0
      ? [
          { suffix: '', label: `re-check ${recheckMs / 1000} s`, recheckMs },
          { suffix: '-plain', label: 'no re-check', recheckMs: 0 },
        ]
      : [{ suffix: '', label: '', recheckMs: 0 }];
  // Deadlines that a 30 s interval without re-checks still meets (3 checks, max_lag, a tick).
  const detectDeadlineMs = Math.max(DETECT_DEADLINE_MS, 4 * intervalMs + maxLagMs + 10_000);
  const resolveDeadlineMs = Math.max(RESOLVE_DEADLINE_MS, 3 * intervalMs + maxLagMs + 10_000);
  process.stdout.write(
    `\n## detection: fault → draft in the API, ${runs} runs per fault, interval ${intervalMs / 1000} s, timeout ${timeoutMs / 1000} s, lb_sync max_lag ${maxLagMs / 1000} s` +
      `${recheckMs > 0 ? `, re-checks every ${recheckMs / 1000} s vs none, side by side` : ''} (floor without re-checks = interval × 3 + timeout = ${floorMs / 1000} s)\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-detection-'));
  const webs = variants.map(() => new Target());
  const lbs: HaproxyFleet[] = [];
  let redis: RedisServer | undefined;
  const relays: SlowRelay[] = [];
  let daemon: TocsinProcess | undefined;
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0] ?? Number.NaN), 1000);
  const results: FaultFigures[] = [];
  const storageRecord: Recorded[] = [];
  const webRecord: Recorded[] = [];
  try {
    for (const web of webs) await web.start();
    const site = (version: number): HaproxySite => ({ version, apps: [{ host: 'app.bench' }] });
    for (const _ of variants) lbs.push(await startHaproxyFleet({ count: 3, site: site(42) }));
    redis = await startRedisServer();
    for (const _ of variants) {
      const relay = new SlowRelay(redis.port);
      await relay.start();
      relays.push(relay);
    }
    const interval = `${intervalMs}ms`;
    const timeout = `${timeoutMs}ms`;
    const configFile = join(dir, 'tocsin.yml');
    const components: string[] = [];
    const probes: string[] = [];
    variants.forEach((v, i) => {
      const web = webs[i] as Target;
      const lb = lbs[i] as HaproxyFleet;
      const relay = relays[i] as SlowRelay;
      const recheck = v.recheckMs > 0 ? `{ interval: ${v.recheckMs}ms }` : 'false';
      components.push(
        `  - { id: web${v.suffix}, name: Web service${v.suffix}, group: Apps }`,
        `  - { id: lb${v.suffix}, name: Load balancers${v.suffix}, group: Reverse Proxies }`,
        `  - { id: storage${v.suffix}, name: Redis add-on${v.suffix}, group: Add-ons }`,
      );
      probes.push(
        `  - { id: web-home${v.suffix}, kind: http, component: web${v.suffix}, url: "http://127.0.0.1:${web.port}/", interval: ${interval}, timeout: ${timeout}, recheck: ${recheck} }`,
        `  - id: lb-sync${v.suffix}
    kind: lb_sync
    component: lb${v.suffix}
    interval: ${interval}
    timeout: ${timeout}
    recheck: ${recheck}
    instances: [${lb.instances.map((x) => `"${x.address}"`).join(', ')}]
    routes: [{ host: app.bench, path: /, scheme: http }]
    compare: [status, "header:x-config-version"]
    max_lag: ${maxLagMs}ms`,
        `  - { id: redis-addon${v.suffix}, kind: storage, component: storage${v.suffix}, backend: redis, url: "redis://127.0.0.1:${relay.port}/0", expect: { max_latency: 150ms }, interval: ${interval}, timeout: ${timeout}, recheck: ${recheck} }`,
      );
    });
    // Faults back to back are, for `intermittent` (40 % of at least 6 checks failed within 10
    // minutes, 4 changes), a flapping service: a fault every two minutes at a 30 s interval, and
    // at 1 s a stopped target failing about half its checks (fault, draft, restore, resolve every
    // 6-7 s), from its 11th-14th run. The rule then holds the incident open, by design, and the
    // next faults land in it, untimed. What is timed here is a fault's first draft, so the pack
    // runs without that rule (docs/benchmarks.md, section 4).
    const rules = `rules:\n${['outage', 'degraded', 'lb-sync'].map((r) => `  - include: ${join(DEFAULT_PACK_DIR, `${r}.yml`)}`).join('\n')}\n`;
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: bench, role: operator, token_env: ${TOKEN_ENV} }]
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
components:
${components.join('\n')}
probes:
${probes.join('\n')}
${rules}`,
    );
    process.env[TOKEN_ENV] = TOKEN;
    const started = await startTocsinDaemon(configFile, dir);
    daemon = started.daemon;
    const api = new Api(started.url);
    // Healthy first: every probe has an ok result (its first check comes within one interval).
    const names = variants.flatMap((v) => ['web-home', 'lb-sync', 'redis-addon'].map((p) => `${p}${v.suffix}`));
    const healthy = await until(async () => {
      const ok = await Promise.all(
        names.map(async (p) => {
          const latest = await api.latest(p);
          return latest.length > 0 && latest.every((r) => r.ok);
        }),
      );
      return ok.every(Boolean) ? true : undefined;
    }, 20_000 + intervalMs);
    if (!healthy) throw new Error(`probes not healthy at the start: ${daemon.stderr.slice(-2000)}`);
    const faults: Fault[] = [];
    variants.forEach((v, i) => {
      const web = webs[i] as Target;
      const oldInstance = lbs[i]?.instances[2];
      if (!oldInstance) throw new Error('no third LB instance');
      const relay = relays[i] as SlowRelay;
      const named = (name: string) => (v.label ? `${name} (${v.label})` : name);
      faults.push(
        {
          name: named('target stopped'),
          component: `web${v.suffix}`,
          probe: `web-home${v.suffix}`,
          recheckMs: v.recheckMs,
          inject: () => web.stop(),
          repair: () => web.start(),
        },
        {
          name: named('LB left on old config'),
          component: `lb${v.suffix}`,
          probe: `lb-sync${v.suffix}`,
          recheckMs: v.recheckMs,
          inject: () => oldInstance.reload(site(41)),
          repair: () => oldInstance.reload(site(42)),
        },
        {
          name: named('storage slow'),
          component: `storage${v.suffix}`,
          probe: `redis-addon${v.suffix}`,
          recheckMs: v.recheckMs,
          inject: async () => {
            relay.delayMs = STORAGE_DELAY_MS;
          },
          repair: async () => {
            relay.delayMs = 0;
          },
        },
      );
    });
    // Run records (for the plots) of the first variant only, and not in the comparison: at 30 s
    // they would add ten intervals of waiting to its first run.
    const records = new Map<string, Recorded[]>(
      recheckMs > 0
        ? []
        : [
            ['web', webRecord],
            ['storage', storageRecord],
          ],
    );
    results.push(
      ...(await Promise.all(
        faults.map((f) => {
          const deadlines = { detectMs: detectDeadlineMs, resolveMs: resolveDeadlineMs };
          return faultLoop(api, f, runs, intervalMs, records.get(f.component), deadlines);
        }),
      )),
    );
  } finally {
    clearInterval(loadTimer);
    await daemon?.kill();
    for (const relay of relays) await relay.stop();
    await redis?.stop();
    for (const lb of lbs) await lb.close();
    for (const web of webs) await web.stop();
    delete process.env[TOKEN_ENV];
    rmSync(dir, { recursive: true, force: true });
  }

  const rows = results.map((r) => {
    const draft = sortedCopy(r.runs.map((x) => x.draftMs / 1000));
    const seen = sortedCopy(r.runs.map((x) => x.seenMs / 1000));
    const p95 = percentile(draft, 95);
    const seedRatio = (SEED_DELAY_S[0] / percentile(draft, 50)).toFixed(0);
    // With re-checks the two checks after the first failed one come a re-check apart, not an interval.
    const floor = r.recheckMs > 0 ? intervalMs + 2 * Math.max(r.recheckMs, timeoutMs) + timeoutMs : floorMs;
    return [
      r.name,
      `${r.runs.length} / ${r.runs.length + r.missed}`,
      `${fmt(percentile(draft, 50), 2)} / ${fmt(p95, 2)} / ${fmt(draft[draft.length - 1] ?? Number.NaN, 2)}`,
      `${fmt(percentile(seen, 50), 2)} / ${fmt(percentile(seen, 95), 2)}`,
      fmt(floor / 1000, 1),
      `${fmt(p95 - floor / 1000, 2)}`,
      p95 <= (floor + intervalMs) / 1000 && r.missed === 0 ? 'pass' : 'FAIL',
      `${seedRatio}x faster`,
    ];
  });
  printTable(
    [
      'fault',
      'detected',
      'draft p50 / p95 / max (s)',
      'seen in API p50 / p95 (s)',
      'floor (s)',
      'p95 − floor (s)',
      'p95 ≤ floor + 1 interval',
      'p50 vs seeds (10 min)',
    ],
    rows,
    { align: ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'right'] },
  );
  const finite = loads.filter(Number.isFinite);
  process.stdout.write(
    `load average (1 min) during the run: mean ${fmt(finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length), 2)}, max ${fmt(Math.max(...finite), 2)} on ${os.availableParallelism()} CPUs; ` +
      `seeds: ${SEED_DELAY_S[0] / 60}–${SEED_DELAY_S[1] / 60} min from the fault to the first status-page entry\n`,
  );

  // The re-check comparison writes plots of its own, beside the published 1 s ones.
  const tag = recheckMs > 0 ? `-recheck-${intervalMs / 1000}s` : '';
  const svgs: string[] = [];
  svgs.push(
    writeSvg(
      join(IMG_DIR, `detection-delays${tag}.svg`),
      barPlotSvg({
        title: `Fault → draft, ${runs} runs each (interval ${intervalMs / 1000} s, timeout ${timeoutMs / 1000} s)`,
        yLabel: 'seconds',
        categories: results.map((r) => r.name),
        series: [
          { name: 'p50', values: results.map((r) => percentile(sortedCopy(r.runs.map((x) => x.draftMs / 1000)), 50)) },
          { name: 'p95', values: results.map((r) => percentile(sortedCopy(r.runs.map((x) => x.draftMs / 1000)), 95)) },
        ],
        lines: [
          { y: floorMs / 1000, label: `floor ${floorMs / 1000} s` },
          { y: (floorMs + intervalMs) / 1000, label: 'goal: floor + 1 interval' },
        ],
      }),
    ),
  );
  const plotRun = (
    record: Recorded[],
    file: string,
    title: string,
    yLabel: string,
    value: (r: Recorded) => number,
  ): void => {
    const fault = record.find((r) => r.target === '#fault')?.t;
    const draft = record.find((r) => r.target === '#draft')?.t;
    if (fault === undefined) return;
    const checks = record.filter((r) => !r.target.startsWith('#')).sort((a, b) => a.t - b.t);
    const x = (t: number): number => (t - fault) / 1000;
    svgs.push(
      writeSvg(
        join(IMG_DIR, file),
        linePlotSvg({
          title,
          xLabel: 'seconds since the fault',
          yLabel,
          series: [
            { name: 'ok check', dots: true, points: checks.filter((r) => r.ok).map((r) => [x(r.t), value(r)] as const) },
            { name: 'failed check', dots: true, points: checks.filter((r) => !r.ok).map((r) => [x(r.t), value(r)] as const) },
          ],
          markers: [
            { x: 0, label: 'fault injected', color: '#d62728' },
            { x: floorMs / 1000, label: `floor ${floorMs / 1000} s`, color: '#555' },
            ...(draft !== undefined ? [{ x: x(draft), label: `draft opened (${fmt(x(draft), 2)} s)`, color: '#2ca02c' }] : []),
          ],
        }),
      ),
    );
  };
  plotRun(
    storageRecord,
    `detection-storage-run${tag}.svg`,
    `Storage made slow (+${STORAGE_DELAY_MS} ms each way): redis probe duration per check, first run`,
    'check duration (ms)',
    (r) => r.durationMs,
  );
  plotRun(webRecord, `detection-target-run${tag}.svg`, 'Target stopped: HTTP check duration per check, first run', 'check duration (ms)', (r) =>
    Number.isFinite(r.durationMs) ? r.durationMs : 0,
  );
  process.stdout.write(`figures: ${svgs.join(', ')}\n`);
  return results;
}
