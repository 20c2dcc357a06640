/**
 * The usual monitoring stack as child processes, from Debian's packages: Prometheus (scraping
 * Blackbox exporter, evaluating alert rules) and Alertmanager (grouping, notifying a webhook).
 * Temporary configs and data directories; every listener on 127.0.0.1, on ports picked at run time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, requireBinary, type Service, startService } from './blackbox.js';

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = process.env.ALERTMANAGER_BIN ?? '/usr/bin/prometheus-alertmanager';

/** Checks the stack's binaries before a benchmark starts anything (a clear message, not a stack trace). */
export function requireStack(): void {
  requireBinary(PROMETHEUS_BIN);
  requireBinary(ALERTMANAGER_BIN);
}

/**
 * Alertmanager with `configYaml` (its whole alertmanager.yml), clustering off (one instance, no
 * gossip port), its data in a temporary directory.
 */
export async function startAlertmanager(configYaml: string): Promise<Service> {
  requireBinary(ALERTMANAGER_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-alertmanager-'));
  const configFile = join(dir, 'alertmanager.yml');
  writeFileSync(configFile, configYaml);
  const port = await freePort();
  return startService({
    name: 'alertmanager',
    bin: ALERTMANAGER_BIN,
    args: [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    url: `http://127.0.0.1:${port}`,
    readyPath: '/-/ready',
    dir,
  });
}

/**
 * Prometheus with `configYaml` (prometheus.yml; `rule_files: [rules.yml]` finds `rulesYaml` beside
 * it), its TSDB in a temporary directory.
 */
export async function startPrometheus(configYaml: string, rulesYaml: string): Promise<Service> {
  requireBinary(PROMETHEUS_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, configYaml);
  writeFileSync(join(dir, 'rules.yml'), rulesYaml);
  const port = await freePort();
  return startService({
    name: 'prometheus',
    bin: PROMETHEUS_BIN,
    args: [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    url: `http://127.0.0.1:${port}`,
    readyPath: '/-/ready',
    dir,
    timeoutMs: 30_000,
  });
}

/** Alerts Prometheus holds now (pending and firing), from its HTTP API. */
export async function prometheusAlerts(
  prometheus: Service,
): Promise<{ labels: Record<string, string>; state: string; activeAt: string }[]> {
  const res = await fetch(`${prometheus.url}/api/v1/alerts`, { signal: AbortSignal.timeout(2000) });
  const body = (await res.json()) as {
    data: { alerts: { labels: Record<string, string>; state: string; activeAt: string }[] };
  };
  return body.data.alerts;
}

/** The repository's CLI (this file runs as dist/bench/lib/prometheus-stack.js), run as users run it. */
export const TOCSIN_BIN = fileURLToPath(new URL('../../../bin/tocsin.js', import.meta.url));

/** A `tocsin run` or `tocsin worker` child process. */
export class TocsinProcess {
  stderr = '';
  readonly exited: Promise<unknown>;

  constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => {
      // The daemon logs as JSON lines; the start line (with its URL) is kept, the tail is enough after.
      this.stderr = this.stderr.length > 200_000 ? this.stderr.slice(-100_000) + String(d) : this.stderr + String(d);
    });
    this.exited = once(child, 'exit');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** SIGKILL if still running, then waits for the exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}

function spawnTocsin(args: readonly string[], cwd: string): TocsinProcess {
  const child = spawn(process.execPath, [TOCSIN_BIN, ...args], {
    cwd,
    env: { ...process.env, TOCSIN_CONFIG: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return new TocsinProcess(child);
}

async function waitForLog<T>(p: TocsinProcess, what: string, match: (log: string) => T | undefined): Promise<T> {
  const end = Date.now() + 30_000;
  for (;;) {
    const found = match(p.stderr);
    if (found !== undefined) return found;
    if (p.child.exitCode !== null || p.child.signalCode !== null) throw new Error(`${what} exited: ${p.stderr.slice(-2000)}`);
    if (Date.now() > end) throw new Error(`${what} not ready within 30 s: ${p.stderr.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `tocsin run --config F` in `cwd`; resolves with its API URL once it logs that it listens. */
export async function startTocsinDaemon(
  configFile: string,
  cwd: string,
): Promise<{ daemon: TocsinProcess; url: string }> {
  const daemon = spawnTocsin(['run', '--config', configFile], cwd);
  try {
    const url = await waitForLog(daemon, 'tocsin run', (log) => /"url":"(http:\/\/[^"]+)"/.exec(log)?.[1]);
    return { daemon, url };
  } catch (err) {
    await daemon.kill();
    throw err;
  }
}

/** `tocsin worker` for one vantage, its probe connections bound to `source`; resolves once ready. */
export async function startTocsinWorker(
  configFile: string,
  cwd: string,
  vantage: string,
  source: string,
): Promise<TocsinProcess> {
  const worker = spawnTocsin(['worker', '--config', configFile, '--vantage', vantage, '--source-address', source], cwd);
  try {
    await waitForLog(worker, `tocsin worker ${vantage}`, (log) => (log.includes('tocsin worker ready') ? true : undefined));
    return worker;
  } catch (err) {
    await worker.kill();
    throw err;
  }
}
