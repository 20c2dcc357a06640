/**
 * Probe cost, Tocsin vs Blackbox exporter (issue item 1): the same local targets, probed at the
 * same rate by `tocsin run` (inline mode, the whole daemon) and by Debian's
 * `prometheus-blackbox-exporter` (driven through `/probe?target=…&module=…` as Prometheus would
 * drive it), both as child processes, both measured the same way: utime + stime from
 * /proc/<pid>/stat over the same window. Phases: HTTP (http_2xx against the bench target server)
 * and TLS (a handshake with verification against a real HAProxy TLS listener).
 *
 * Counted: everything each process does: for Tocsin, probing plus its scheduler, results bus,
 * metrics, rules engine and SQLite writes of the latest results; for the exporter, probing plus
 * serving each /probe request (the HTTP request and its exposition). Not counted: the driver that
 * calls the exporter (Prometheus would pay that, plus its TSDB), and the targets.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestPki, type TestPki } from '../test/helpers/certs.js';
import { type HaproxyFleet, startHaproxyFleet } from '../test/helpers/haproxy.js';
import { checkOptions, numberOption } from './lib/args.js';
import { BLACKBOX_BIN, procCpuMs, procRssMB, requireBinary, type Service, startBlackbox } from './lib/blackbox.js';
import { machineLine } from './lib/process-stats.js';
import { startTocsinDaemon, type TocsinProcess } from './lib/prometheus-stack.js';
import { fmt, fmtInt } from './lib/stats.js';
import { printTable } from './lib/table.js';
import { startTarget, type Target } from './lib/target.js';

interface Phase {
  readonly name: 'http' | 'tls';
  /** What Blackbox exporter's `target` parameter is for probe i. */
  readonly blackboxTarget: (i: number) => string;
  readonly module: string;
  /** The probe's YAML (one flow mapping) for Tocsin's config, for probe i. */
  readonly tocsinProbe: (i: number, interval: string, timeout: string) => string;
}

export interface CostFigures {
  readonly phase: string;
  readonly tool: string;
  readonly probes: number;
  readonly failed: number;
  readonly cpuMs: number;
  readonly rssMB: number;
  readonly peakRssMB: number;
}

/** Sums `tocsin_probe_checks_total` by result from a /metrics text. */
function tocsinChecks(text: string): { success: number; failure: number } {
  const out = { success: 0, failure: 0 };
  for (const line of text.split('\n')) {
    if (!line.startsWith('tocsin_probe_checks_total{')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (line.includes('result="success"')) out.success += value;
    else out.failure += value;
  }
  return out;
}

/**
 * Calls the exporter's /probe for each of `count` targets once per `intervalMs`, each at its own
 * phase of the interval (spread evenly, as Tocsin's hash-phased scheduler and Prometheus's
 * per-target scrape offsets spread them). Keep-alive to the exporter, as a Prometheus scraper has.
 */
class BlackboxDriver {
  done = 0;
  failed = 0;
  #timer: NodeJS.Timeout | undefined;
  #inflight = 0;

  constructor(
    private readonly exporter: Service,
    private readonly phase: Phase,
    private readonly count: number,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const t0 = Date.now();
    let next = 0; // index of the next due probe, over all intervals
    this.#timer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) / this.intervalMs) * this.count);
      for (; next < due; next++) this.#probe(next % this.count);
    }, 5);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    while (this.#inflight > 0) await sleep(20);
  }

  #probe(i: number): void {
    this.#inflight++;
    const url = `${this.exporter.url}/probe?module=${this.phase.module}&target=${encodeURIComponent(this.phase.blackboxTarget(i))}`;
    fetch(url, { signal: AbortSignal.timeout(5000) })
      .then((res) => res.text())
      .then((text) => {
        this.done++;
        if (!/^probe_success 1$/m.test(text)) this.failed++;
      })
      .catch(() => {
        this.done++;
        this.failed++;
      })
      .finally(() => {
        this.#inflight--;
      });
  }
}

async function runPhase(
  phase: Phase,
  opts: { count: number; intervalMs: number; seconds: number; blackboxModules: string },
): Promise<CostFigures[]> {
  const dir = mkdtempSync(join(tmpdir(), `tocsin-bench-blackbox-${phase.name}-`));
  const interval = `${opts.intervalMs}ms`;
  const timeout = `${Math.min(1000, opts.intervalMs / 2)}ms`;
  const configFile = join(dir, 'tocsin.yml');
  writeFileSync(
    configFile,
    [
      'server: { listen: 127.0.0.1:0 }',
      `store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }`,
      'components:',
      '  - { id: bench, name: Benchmark targets }',
      'probes:',
      ...Array.from({ length: opts.count }, (_, i) => `  - ${phase.tocsinProbe(i, interval, timeout)}`),
      '',
    ].join('\n'),
  );
  let daemon: TocsinProcess | undefined;
  let exporter: Service | undefined;
  try {
    const started = await startTocsinDaemon(configFile, dir);
    daemon = started.daemon;
    const tocsinPid = daemon.pid;
    exporter = await startBlackbox(opts.blackboxModules);
    const driver = new BlackboxDriver(exporter, phase, opts.count, opts.intervalMs);
    driver.start();
    // Warm-up: one interval for both schedulers to spread their first slots, plus JIT and caches.
    await sleep(opts.intervalMs + 3000);
    const metricsUrl = `${started.url}/metrics`;
    const t0 = tocsinChecks(await (await fetch(metricsUrl)).text());
    const b0 = { done: driver.done, failed: driver.failed };
    const cpuT0 = procCpuMs(tocsinPid);
    const cpuB0 = exporter.cpuMs();
    await sleep(opts.seconds * 1000);
    const cpuT1 = procCpuMs(tocsinPid);
    const cpuB1 = exporter.cpuMs();
    const b1 = { done: driver.done, failed: driver.failed };
    const t1 = tocsinChecks(await (await fetch(metricsUrl)).text());
    const memT = procRssMB(tocsinPid);
    const memB = procRssMB(exporter.pid);
    await driver.stop();
    return [
      {
        phase: phase.name,
        tool: 'tocsin run (inline)',
        probes: t1.success + t1.failure - t0.success - t0.failure,
        failed: t1.failure - t0.failure,
        cpuMs: cpuT1 - cpuT0,
        rssMB: memT.rss,
        peakRssMB: memT.peak,
      },
      {
        phase: phase.name,
        tool: `blackbox_exporter (${phase.module})`,
        probes: b1.done - b0.done,
        failed: b1.failed - b0.failed,
        cpuMs: cpuB1 - cpuB0,
        rssMB: memB.rss,
        peakRssMB: memB.peak,
      },
    ];
  } finally {
    await daemon?.kill();
    await exporter?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function blackboxBench(args: readonly string[]): Promise<CostFigures[]> {
  checkOptions(args, ['targets', 'interval', 'seconds']);
  const count = Math.round(numberOption(args, 'targets', 100));
  const intervalMs = numberOption(args, 'interval', 1) * 1000;
  const seconds = numberOption(args, 'seconds', 45);
  requireBinary(BLACKBOX_BIN);

  process.stdout.write(
    `\n## blackbox: probe cost, tocsin run (inline) vs prometheus-blackbox-exporter, ${count} targets every ${intervalMs / 1000} s each (${fmt((count * 1000) / intervalMs, 0)} probes/s per tool), ${seconds} s measured per phase\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  let target: Target | undefined;
  let pki: TestPki | undefined;
  let lb: HaproxyFleet | undefined;
  const figures: CostFigures[] = [];
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0] ?? Number.NaN), 1000);
  try {
    target = await startTarget(['127.0.0.1']);
    const http = target.listeners[0];
    if (!http) throw new Error('no target listener');
    pki = await createTestPki();
    const leaf = await pki.issue('bench-tls', { dns: ['localhost'], ips: ['127.0.0.1', '127.0.0.2'] });
    lb = await startHaproxyFleet({
      count: 1,
      site: { version: 1, apps: [{ host: 'localhost' }] },
      tls: { cert: leaf.cert, key: leaf.key },
    });
    const tlsAddress = lb.instances[0]?.address ?? '';
    const caFile = pki.ca.certFile;
    const modules = [
      'modules:',
      '  http_2xx:',
      '    prober: http',
      '    timeout: 1s',
      '    http: { preferred_ip_protocol: ip4, valid_status_codes: [] }',
      '  tls_connect:',
      '    prober: tcp',
      '    timeout: 1s',
      `    tcp: { preferred_ip_protocol: ip4, tls: true, tls_config: { ca_file: ${caFile} } }`,
      '',
    ].join('\n');
    const phases: Phase[] = [
      {
        name: 'http',
        module: 'http_2xx',
        blackboxTarget: (i) => `http://${http.host}:${http.port}/p/${i}`,
        tocsinProbe: (i, interval, timeout) =>
          `{ id: http-${i}, kind: http, component: bench, url: "http://${http.host}:${http.port}/p/${i}", interval: ${interval}, timeout: ${timeout} }`,
      },
      {
        name: 'tls',
        module: 'tls_connect',
        // One TLS listener: each probe is its own check of it, as N services behind one terminator.
        blackboxTarget: () => tlsAddress,
        tocsinProbe: (i, interval, timeout) =>
          `{ id: tls-${i}, kind: tls, component: bench, targets: ["${tlsAddress}"], tls: { ca_file: "${caFile}" }, interval: ${interval}, timeout: ${timeout} }`,
      },
    ];
    for (const phase of phases) {
      process.stderr.write(`  blackbox: ${phase.name} phase…\n`);
      figures.push(...(await runPhase(phase, { count, intervalMs, seconds, blackboxModules: modules })));
    }
  } finally {
    clearInterval(loadTimer);
    await lb?.close();
    await pki?.cleanup();
    await target?.stop();
  }

  const per1000 = (f: CostFigures): number => (f.cpuMs / 1000 / Math.max(1, f.probes)) * 1000;
  const rows = figures.map((f) => {
    const other = figures.find((g) => g.phase === f.phase && g !== f);
    const isTocsin = f.tool.startsWith('tocsin');
    return [
      f.phase,
      f.tool,
      fmtInt(f.probes),
      fmtInt(f.failed),
      fmt(f.probes / seconds, 1),
      fmt(f.cpuMs / 1000, 2),
      fmt(per1000(f), 3),
      `${fmt(f.rssMB, 0)} / ${fmt(f.peakRssMB, 0)}`,
      isTocsin && other ? `${fmt(per1000(f) / per1000(other), 2)}x` : '',
    ];
  });
  printTable(
    ['phase', 'process', 'probes', 'failed', 'probes/s', 'CPU-s', 'CPU-s / 1,000 probes', 'RSS / peak MB', 'Tocsin/Blackbox'],
    rows,
    { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] },
  );
  const finite = loads.filter(Number.isFinite);
  process.stdout.write(
    `load average (1 min) during the run: mean ${fmt(finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length), 2)}, max ${fmt(Math.max(...finite), 2)} on ${os.availableParallelism()} CPUs; ` +
      'CPU from /proc/<pid>/stat (utime+stime) of each child process over the same window; the driver calling /probe and the targets are not counted\n',
  );
  return figures;
}
