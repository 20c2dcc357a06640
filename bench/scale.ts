/**
 * The embedded daemon at scale: N HTTP probes on one interval, run for a while through the real
 * inline queue (scheduler, bounded concurrency, runCheck, the real http probe kind, the results
 * bus with the metrics recorder and the latest-results map) against loopback targets served by a
 * child process. Measures sustained checks/s, scheduler lag, skipped checks, failures, RSS and
 * CPU per 1,000 checks, beside the targets of the issue.
 */
import os from 'node:os';
import v8 from 'node:v8';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { PROBE_KINDS } from '../probes/index.js';
import { firstRoundMs, holdStartUpHeap, releaseOldGenerationAfter, releaseYoungGeneration } from '../src/cli/start-up-heap.js';
import { systemClock } from '../src/clock.js';
import type { Plan } from '../src/config/plan.js';
import { createLogger } from '../src/log.js';
import { probeMetricsRecorder } from '../src/metrics/probe-metrics.js';
import { Exposition } from '../src/metrics/exposition.js';
import { createMetrics } from '../src/metrics/registry.js';
import { VERSION } from '../src/package-info.js';
import { InlineQueue } from '../src/queue/inline.js';
import { ResultsBus } from '../src/results/bus.js';
import { LatestResults } from '../src/results/latest.js';
import { checkOptions, numberOption, UsageError } from './lib/args.js';
import { textOption } from './lib/options.js';
import { cpuMsSince, machineLine, maxRssMB, ProcessSampler, retainedHeapMB } from './lib/process-stats.js';
import { fmt, fmtInt, percentile, Samples } from './lib/stats.js';
import { printTable } from './lib/table.js';
import { httpProbesPlan } from './lib/http-plan.js';
import { type Listener, startTarget } from './lib/target.js';

const PROGRESS_EVERY_MS = 10_000;
const STOP_GRACE_MS = 10_000;

/** The issue's targets for this machine (2 cores): no backlog, lag p99 ≤ 250 ms, RSS ≤ 300 MB. */
const TARGET_LAG_P99_MS = 250;
const TARGET_RSS_MB = 300;
/** "No backlog": the checks completed per second keep up with the checks due per second. */
const BACKLOG_TOLERANCE = 0.99;

function buildPlan(count: number, intervalMs: number, timeoutMs: number, listeners: readonly Listener[]): Plan {
  const queue: Plan['queue'] = { kind: 'inline', concurrency: 256 };
  return httpProbesPlan({ file: 'bench/scale.ts', count, intervalMs, timeoutMs, listeners, vantage: 'local', queue });
}

const mark = (ok: boolean): string => (ok ? 'pass' : 'FAIL');

/**
 * One scrape as GET /metrics serves it: the exposition's pieces rendered as they are read and let
 * go once counted (the route writes each to the socket). Returns the text's size in bytes.
 */
async function scrape(exposition: Exposition): Promise<number> {
  let bytes = 0;
  for await (const piece of exposition.stream()) bytes += Buffer.byteLength(piece);
  return bytes;
}

export async function scaleBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['probes', 'seconds', 'interval', 'concurrency', 'addresses', 'scrape', 'heap-snapshot', 'heap-hold']);
  const count = Math.round(numberOption(args, 'probes', 10_000));
  const seconds = numberOption(args, 'seconds', 150);
  const intervalMs = numberOption(args, 'interval', 30) * 1000;
  const concurrency = Math.round(numberOption(args, 'concurrency', 256));
  const addresses = Math.min(254, Math.round(numberOption(args, 'addresses', 8)));
  // Render /metrics every N seconds during the run, as a Prometheus scrape would (0: never).
  const scrapeMs = numberOption(args, 'scrape', 0, 0) * 1000;
  // A heap snapshot at the end of the measured window, for `bench heap-summary` (bench/README.md).
  const heapSnapshot = textOption(args, 'heap-snapshot');
  // The config's default: 10 s, or half the interval when that is shorter.
  const timeoutMs = Math.min(10_000, intervalMs / 2);
  // The daemon's start-up heap holds (src/cli/start-up-heap.ts), as `tocsin run` applies them;
  // `--heap-hold 0` leaves V8's sizing alone, for the figure without them.
  const heapHold = numberOption(args, 'heap-hold', 1, 0) !== 0;
  if (heapHold) holdStartUpHeap();
  const durationMs = seconds * 1000;
  if (durationMs <= intervalMs)
    throw new UsageError('--seconds must be longer than --interval (the first interval is warm-up)');

  process.stdout.write(
    `\n## scale: ${fmtInt(count)} http probes every ${intervalMs / 1000} s, ${seconds} s, inline queue concurrency ${concurrency}, ${addresses} loopback target addresses, ` +
      `${scrapeMs > 0 ? `/metrics rendered every ${scrapeMs / 1000} s` : 'no /metrics scrape'}\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const hosts = Array.from({ length: addresses }, (_, i) => `127.0.0.${i + 1}`);
  const target = await startTarget(hosts);
  const logger = createLogger('warn');
  let started: InlineQueue | undefined;
  try {
    const plan = buildPlan(count, intervalMs, timeoutMs, target.listeners);
    const metrics = createMetrics({ version: VERSION });
    const bus = new ResultsBus((err) => logger.error({ err }, 'results listener failed'));
    const latest = new LatestResults();
    // The daemon's in-memory consumers (the store's batch writer is left out: no disk in this figure).
    bus.subscribe(probeMetricsRecorder(plan, metrics));
    bus.subscribe((r) => latest.record(r));

    let startedAt = 0;
    let steadyAt = Number.POSITIVE_INFINITY;
    let endAt = Number.POSITIVE_INFINITY;
    let results = 0;
    let steadyResults = 0;
    const errors = new Map<string, { count: number; detail: string }>();
    bus.subscribe((r) => {
      const now = Date.now();
      if (now > endAt) return;
      results++;
      if (now >= steadyAt) steadyResults++;
      if (!r.ok) {
        const code = r.error ?? 'unknown';
        const e = errors.get(code);
        if (e) e.count++;
        else errors.set(code, { count: 1, detail: r.detail ?? '' });
      }
    });

    // Raw lag samples, taken where the queue records its histogram (src/ stays untouched).
    const lagAll = new Samples();
    const lagSteady = new Samples();
    const lag = metrics.schedulerLag;
    const observe = lag.observe.bind(lag) as (value: number) => void;
    lag.observe = ((value: number) => {
      const ms = value * 1000;
      lagAll.push(ms);
      if (Date.now() >= steadyAt) lagSteady.push(ms);
      observe(value);
    }) as typeof lag.observe;

    const queue = new InlineQueue({
      kinds: PROBE_KINDS,
      bus,
      metrics,
      clock: systemClock,
      logger,
      vantage: 'local',
      concurrency,
    });
    started = queue;
    await queue.sync(plan);
    const heapBase = retainedHeapMB();

    const eld = monitorEventLoopDelay({ resolution: 10 });
    const sampler = new ProcessSampler(1000);
    const loadStart = os.loadavg();
    sampler.start();
    eld.enable();
    const cpuStart = process.cpuUsage();
    startedAt = Date.now();
    await queue.start();
    if (heapHold) {
      releaseYoungGeneration();
      releaseOldGenerationAfter(firstRoundMs(plan));
    }

    let cpuSteady = process.cpuUsage();
    let lastResults = 0;
    let lastAt = startedAt;
    const progress = setInterval(() => {
      const now = Date.now();
      const s = queue.stats();
      const rate = ((results - lastResults) * 1000) / (now - lastAt);
      lastResults = results;
      lastAt = now;
      // Where RSS goes: V8's heap (committed and used) and memory outside it (Buffers, sockets).
      const mem = process.memoryUsage();
      const mb = (n: number) => fmtInt(n / 1048576);
      process.stderr.write(
        `  t=${fmt((now - startedAt) / 1000, 0)}s results=${fmtInt(results)} (${fmtInt(rate)}/s) inflight=${s.inflight} waiting=${s.waiting} ` +
          `rss=${fmtInt(sampler.lastRssMB)}MB heap=${mb(mem.heapUsed)}/${mb(mem.heapTotal)}MB external=${mb(mem.external)}MB ` +
          `load=${fmt(os.loadavg()[0] ?? 0, 2)}\n`,
      );
    }, PROGRESS_EVERY_MS);

    // What GET /metrics serves (src/metrics/exposition.ts), not prom-client's one-piece render.
    const exposition = new Exposition(metrics.registry);
    const scrapes = new Samples();
    let scraping = false;
    const scraper =
      scrapeMs > 0
        ? setInterval(() => {
            // A slow render must not overlap the next one (Prometheus would time out, not pile up).
            if (scraping) return;
            scraping = true;
            const t = performance.now();
            void scrape(exposition)
              .then(() => scrapes.push(performance.now() - t))
              .finally(() => {
                scraping = false;
              });
          }, scrapeMs)
        : undefined;

    await sleep(intervalMs);
    steadyAt = Date.now();
    cpuSteady = process.cpuUsage();
    await sleep(Math.max(0, startedAt + durationMs - Date.now()));
    endAt = Date.now();
    const cpuSteadyMs = cpuMsSince(cpuSteady);
    const cpuTotalMs = cpuMsSince(cpuStart);
    clearInterval(progress);
    clearInterval(scraper);
    eld.disable();
    sampler.stop();
    const peakRss = Math.max(maxRssMB(), sampler.peakRssMB);
    const rssEnd = sampler.lastRssMB;
    const heapEnd = process.memoryUsage().heapUsed / 1e6;
    const loadEnd = os.loadavg();
    const atEnd = queue.stats();
    if (heapSnapshot) process.stderr.write(`  heap snapshot: ${v8.writeHeapSnapshot(heapSnapshot)}\n`);
    await queue.stop(STOP_GRACE_MS);
    // Outside the measured window: what is retained (not garbage), and what one scrape costs.
    const heapRetained = retainedHeapMB();
    const renderStart = performance.now();
    const expositionBytes = await scrape(exposition);
    const renderMs = performance.now() - renderStart;

    const steadySeconds = (endAt - steadyAt) / 1000;
    const totalSeconds = (endAt - startedAt) / 1000;
    const due = (count * 1000) / intervalMs;
    const sustained = steadyResults / steadySeconds;
    const skipped = (await metrics.schedulerSkipped.get()).values.reduce((a, v) => a + v.value, 0);
    const failures = [...errors.values()].reduce((a, e) => a + e.count, 0);
    const lagS = lagSteady.sorted();
    const lagA = lagAll.sorted();
    const cpuPer1000 = (cpuSteadyMs / 1000 / Math.max(1, steadyResults)) * 1000;
    const p99 = percentile(lagS, 99);

    printTable(
      ['measure', 'measured', 'target', ''],
      [
        [
          `checks/s sustained (after ${intervalMs / 1000} s warm-up, ${fmt(steadySeconds, 0)} s)`,
          fmt(sustained, 1),
          `≥ ${fmt(due, 1)} (due/s)`,
          mark(sustained >= due * BACKLOG_TOLERANCE),
        ],
        [
          `checks/s overall (${fmt(totalSeconds, 0)} s, incl. warm-up)`,
          fmt(results / totalSeconds, 1),
          '',
          '',
        ],
        ['checks completed (window / total)', `${fmtInt(steadyResults)} / ${fmtInt(results)}`, '', ''],
        ['skipped checks (schedulerSkipped)', fmtInt(skipped), '0', mark(skipped === 0)],
        [
          'queue at end: inflight / waiting',
          `${atEnd.inflight} / ${atEnd.waiting}`,
          `waiting ≈ 0`,
          mark(atEnd.waiting < concurrency),
        ],
        ['scheduler lag p50 (steady)', `${fmt(percentile(lagS, 50), 1)} ms`, '', ''],
        [
          'scheduler lag p99 (steady)',
          `${fmt(p99, 1)} ms`,
          `≤ ${TARGET_LAG_P99_MS} ms`,
          mark(p99 <= TARGET_LAG_P99_MS),
        ],
        ['scheduler lag max (steady)', `${fmt(lagS[lagS.length - 1] ?? Number.NaN, 1)} ms`, '', ''],
        [
          'scheduler lag p50 / p99 / max (whole run)',
          `${fmt(percentile(lagA, 50), 1)} / ${fmt(percentile(lagA, 99), 1)} / ${fmt(lagA[lagA.length - 1] ?? Number.NaN, 1)} ms`,
          '',
          '',
        ],
        [
          'event-loop delay p99 / max',
          `${fmt(eld.percentile(99) / 1e6, 1)} / ${fmt(eld.max / 1e6, 1)} ms`,
          '',
          '',
        ],
        ['failed checks', fmtInt(failures), '≈ 0', mark(failures <= results * 0.001)],
        [
          'peak RSS (maxRSS, sampled every 1 s)',
          `${fmt(peakRss, 0)} MB`,
          `≤ ${TARGET_RSS_MB} MB`,
          mark(peakRss <= TARGET_RSS_MB),
        ],
        ['RSS at end / heap used at end', `${fmt(rssEnd, 0)} / ${fmt(heapEnd, 0)} MB`, '', ''],
        [
          'heap retained after full GC: before start / at end',
          `${fmt(heapBase, 0)} / ${fmt(heapRetained, 0)} MB`,
          '',
          '',
        ],
        [
          '/metrics exposition after the run: size / render',
          `${fmt(expositionBytes / 1e6, 1)} MB / ${fmtInt(renderMs)} ms`,
          '',
          '',
        ],
        ...(scrapeMs > 0
          ? [
              [
                `/metrics renders during the run: count, p50 / max`,
                `${scrapes.length}, ${fmtInt(percentile(scrapes.sorted(), 50))} / ${fmtInt(percentile(scrapes.sorted(), 100))} ms`,
                '',
                '',
              ],
            ]
          : []),
        ['CPU-s per 1,000 checks (steady)', fmt(cpuPer1000, 3), '', ''],
        [
          'CPU of this process (steady / whole run)',
          `${fmt((cpuSteadyMs / (steadySeconds * 1000)) * 100, 0)} % / ${fmt((cpuTotalMs / (totalSeconds * 1000)) * 100, 0)} % of one core`,
          '',
          '',
        ],
      ],
      { align: ['left', 'right', 'left', 'left'] },
    );
    if (errors.size > 0) {
      printTable(
        ['error', 'count', 'first detail'],
        [...errors.entries()]
          .sort((a, b) => b[1].count - a[1].count)
          .map(([code, e]) => [code, fmtInt(e.count), e.detail]),
        { align: ['left', 'right', 'left'] },
      );
    }
    const ts = await target.stats();
    process.stdout.write(
      `load average (1 min) at start ${fmt(loadStart[0] ?? Number.NaN, 2)}, during the run mean ${fmt(sampler.loadMean, 2)} max ${fmt(sampler.loadMax, 2)}, ` +
        `at end ${loadEnd.map((l) => fmt(l, 2)).join(' ')} (1/5/15 min) on ${os.availableParallelism()} CPUs\n` +
        `target (child process): ${fmtInt(ts.requests)} requests, ${fmt(ts.cpuMs / 1000, 1)} CPU-s of its own; ` +
        `sockets peak: TIME_WAIT server-side ${fmtInt(ts.peak.timeWaitServer)}, client-side ${fmtInt(ts.peak.timeWaitClient)}, established ${fmtInt(ts.peak.established)}\n`,
    );
  } finally {
    // Normally stopped already; this is for a run cut short by an error.
    if (started?.running) await started.stop(0);
    await target.stop();
    logger.flush();
  }
}
