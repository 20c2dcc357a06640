/**
 * Fleet mode throughput and cost: the same N http probes run (1) inline, in this process, and
 * (2) through BullMQ — the adapter in this process, as inside `tocsin run`, and one then two
 * `tocsin worker` child processes on one vantage — against the same child-process target.
 * Reports checks/s completed, mean scheduler lag, and CPU-ms per check of each process (this
 * one, the workers, redis-server), hence the queue's overhead per check over inline mode.
 *
 *   npm run build && node dist/bench/fleet.js [--probes 1000 --interval 1 --seconds 20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { PROBE_KINDS } from '../probes/index.js';
import { systemClock } from '../src/clock.js';
import { exitOf } from './lib/child.js';
import type { Plan } from '../src/config/plan.js';
import { createLogger } from '../src/log.js';
import { probeMetricsRecorder } from '../src/metrics/probe-metrics.js';
import { createMetrics } from '../src/metrics/registry.js';
import { VERSION } from '../src/package-info.js';
import { BullmqQueue } from '../src/queue/bullmq.js';
import { InlineQueue } from '../src/queue/inline.js';
import type { ProbeQueue } from '../src/queue/port.js';
import { ResultsBus } from '../src/results/bus.js';
import { checkOptions, numberOption, UsageError } from './lib/args.js';
import { cpuMsSince, machineLine } from './lib/process-stats.js';
import { fmt, fmtInt } from './lib/stats.js';
import { printTable } from './lib/table.js';
import { httpProbesPlan } from './lib/http-plan.js';
import { type Listener, startTarget } from './lib/target.js';

const TOCSIN_BIN = fileURLToPath(new URL('../../bin/tocsin.js', import.meta.url));
const VANTAGE = 'bench';
const CLOCK_TICKS_PER_S = 100;

interface Run {
  readonly mode: string;
  readonly checksPerS: number;
  readonly lagMeanMs: number;
  readonly failures: number;
  readonly selfCpuPerCheck: number;
  readonly workerCpuPerCheck: number;
  readonly redisCpuPerCheck: number;
}

/** CPU ms (user + system) a process spent so far, from /proc (Linux). */
function procCpuMs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}

function buildPlan(count: number, intervalMs: number, listeners: readonly Listener[], redisUrl: string): Plan {
  const timeoutMs = Math.min(10_000, intervalMs / 2);
  const queue: Plan['queue'] = { kind: 'bullmq', redis_url: redisUrl, vantages: [VANTAGE], concurrency: 256, buffer: { max_results: 200_000, max_age: 600_000 } };
  return httpProbesPlan({ file: 'bench/fleet.ts', count, intervalMs, timeoutMs, listeners, vantage: VANTAGE, queue });
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

async function startRedis(dir: string): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
  probe.on('error', () => {});
  for (const end = Date.now() + 10_000; ;) {
    if ((await probe.ping().catch(() => '')) === 'PONG') break;
    if (Date.now() > end) throw new Error('redis-server did not start');
    await sleep(50);
  }
  probe.disconnect();
  return {
    url,
    child,
    async stop() {
      child.kill('SIGTERM');
      await exitOf(child);
    },
  };
}

function startWorkers(n: number, configFile: string): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const child = spawn(process.execPath, [TOCSIN_BIN, 'worker', '--config', configFile, '--vantage', VANTAGE, '--log-level', 'info'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr?.on('data', (d) => {
        log += d;
      });
      for (const end = Date.now() + 15_000; !log.includes('tocsin worker ready');) {
        if (Date.now() > end || child.exitCode !== null) throw new Error(`worker did not start: ${log}`);
        await sleep(50);
      }
      return child;
    }),
  );
}

async function stopWorkers(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (c) => {
      if (c.exitCode !== null) return;
      c.kill('SIGTERM');
      const killer = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exitOf(c);
      clearTimeout(killer);
    }),
  );
}

async function measure(
  mode: string,
  plan: Plan,
  makeQueue: (bus: ResultsBus, metrics: ReturnType<typeof createMetrics>) => ProbeQueue,
  opts: { warmupMs: number; durationMs: number; workers: readonly ChildProcess[]; redisPid?: number | undefined },
): Promise<Run> {
  const metrics = createMetrics({ version: VERSION, processMetrics: false });
  const bus = new ResultsBus();
  bus.subscribe(probeMetricsRecorder(plan, metrics));
  let counting = false;
  let checks = 0;
  let failures = 0;
  bus.subscribe((r) => {
    if (!counting) return;
    checks++;
    if (!r.ok) failures++;
  });
  const queue = makeQueue(bus, metrics);
  await queue.sync(plan);
  await queue.start();
  await sleep(opts.warmupMs);
  const lagBefore = (await metrics.schedulerLag.get()).values;
  const sumOf = (vals: typeof lagBefore, suffix: string) =>
    vals.find((v) => v.metricName === `tocsin_scheduler_lag_seconds_${suffix}`)?.value ?? 0;
  const lagSum0 = sumOf(lagBefore, 'sum');
  const lagCount0 = sumOf(lagBefore, 'count');
  const self0 = process.cpuUsage();
  const workers0 = opts.workers.map((w) => procCpuMs(w.pid));
  const redis0 = procCpuMs(opts.redisPid);
  counting = true;
  await sleep(opts.durationMs);
  counting = false;
  const selfMs = cpuMsSince(self0);
  const workerMs = opts.workers.reduce((s, w, i) => s + procCpuMs(w.pid) - (workers0[i] ?? 0), 0);
  const redisMs = procCpuMs(opts.redisPid) - redis0;
  const lagAfter = (await metrics.schedulerLag.get()).values;
  const lagN = sumOf(lagAfter, 'count') - lagCount0;
  await queue.stop(1000);
  const per = (ms: number) => (checks > 0 ? ms / checks : Number.NaN);
  return {
    mode,
    checksPerS: checks / (opts.durationMs / 1000),
    lagMeanMs: lagN > 0 ? ((sumOf(lagAfter, 'sum') - lagSum0) / lagN) * 1000 : Number.NaN,
    failures,
    selfCpuPerCheck: per(selfMs),
    workerCpuPerCheck: per(workerMs),
    redisCpuPerCheck: per(redisMs),
  };
}

export async function fleetBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['probes', 'interval', 'seconds', 'warmup']);
  const count = Math.round(numberOption(args, 'probes', 1000));
  const intervalMs = numberOption(args, 'interval', 1) * 1000;
  const durationMs = numberOption(args, 'seconds', 20) * 1000;
  const warmupMs = numberOption(args, 'warmup', 5) * 1000;
  if (warmupMs < intervalMs) throw new UsageError('--warmup must be at least one --interval');
  process.stdout.write(
    `\n## fleet: ${fmtInt(count)} http probes every ${intervalMs / 1000} s (${fmtInt((count * 1000) / intervalMs)} checks/s due), ` +
      `${durationMs / 1000} s measured after ${warmupMs / 1000} s warm-up, concurrency 256 per process\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-fleet-'));
  const target = await startTarget(['127.0.0.1']);
  const redis = await startRedis(dir);
  const logger = createLogger('warn');
  const runs: Run[] = [];
  try {
    const plan = buildPlan(count, intervalMs, target.listeners, redis.url);
    const configFile = join(dir, 'fleet.yml');
    // Workers read only redis_url and the vantage list from it; probes travel with the jobs.
    writeFileSync(
      configFile,
      `queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [${VANTAGE}], concurrency: 256 }
components: [{ id: bench, name: Bench }]
probes: [{ id: unused, kind: http, component: bench, url: "http://127.0.0.1:1/" }]
`,
    );
    const inlinePlan: Plan = { ...plan, queue: { kind: 'inline', concurrency: 256 } };
    runs.push(
      await measure(
        'inline (1 process)',
        inlinePlan,
        (bus, metrics) =>
          new InlineQueue({
            kinds: PROBE_KINDS,
            bus,
            metrics,
            clock: systemClock,
            logger,
            vantage: VANTAGE,
            concurrency: 256,
          }),
        { warmupMs, durationMs, workers: [] },
      ),
    );
    for (const n of [1, 2]) {
      const flush = new Redis(redis.url);
      await flush.flushall();
      flush.disconnect();
      const workers = await startWorkers(n, configFile);
      try {
        runs.push(
          await measure(
            `bullmq, ${n} worker${n > 1 ? 's' : ''}`,
            plan,
            (bus, metrics) =>
              new BullmqQueue({ kinds: PROBE_KINDS, bus, metrics, clock: systemClock, logger, redisUrl: redis.url }),
            { warmupMs, durationMs, workers, redisPid: redis.child.pid },
          ),
        );
      } finally {
        await stopWorkers(workers);
      }
    }
  } finally {
    await redis.stop();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const inline = runs[0];
  printTable(
    ['mode', 'checks/s', 'lag mean ms', 'failures', 'CPU-ms/check run', 'workers', 'redis', 'total', 'overhead vs inline'],
    runs.map((r) => {
      const total = r.selfCpuPerCheck + r.workerCpuPerCheck + r.redisCpuPerCheck;
      const base = inline ? inline.selfCpuPerCheck : Number.NaN;
      return [
        r.mode,
        fmt(r.checksPerS, 0),
        fmt(r.lagMeanMs, 1),
        fmtInt(r.failures),
        fmt(r.selfCpuPerCheck, 3),
        fmt(r.workerCpuPerCheck, 3),
        fmt(r.redisCpuPerCheck, 3),
        fmt(total, 3),
        r === inline ? '-' : `+${fmt(total - base, 3)}`,
      ];
    }),
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  fleetBench(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`${err instanceof UsageError ? err.message : String((err as Error)?.stack ?? err)}\n`);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  });
}
