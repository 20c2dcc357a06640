/**
 * Debian's `prometheus-blackbox-exporter` as a child process with a temporary config, on a
 * 127.0.0.1 port picked at run time, plus what the benchmarks need to measure any child process
 * from outside: its CPU time and memory from /proc, the way one would measure a daemon in
 * production (the process's own accounting, not the caller's guess).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const BLACKBOX_BIN = process.env.BLACKBOX_EXPORTER_BIN ?? '/usr/bin/prometheus-blackbox-exporter';

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_S = 100;

/** The install line printed when a Debian tool is missing (benchmarks are not tests: they say so and stop). */
export const APT_HINT =
  'apt-get install prometheus-blackbox-exporter prometheus prometheus-alertmanager (Debian packages)';

export class MissingBinaryError extends Error {}

/** Throws a readable error naming the package when `bin` is not installed. */
export function requireBinary(bin: string): void {
  if (!existsSync(bin)) throw new MissingBinaryError(`${bin} not found: ${APT_HINT}`);
}

/** CPU time (user + system) a process has used so far, in ms, from /proc/<pid>/stat; NaN when gone. */
export function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: fields are counted after its closing paren.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory now and its peak (VmRSS, VmHWM) in MB (10^6 bytes), from /proc/<pid>/status. */
export function procRssMB(pid: number): { rss: number; peak: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { rss: (kb('VmRSS') * 1024) / 1e6, peak: (kb('VmHWM') * 1024) / 1e6 };
  } catch {
    return { rss: Number.NaN, peak: Number.NaN };
  }
}

/** A free port on 127.0.0.1 (bound, then released; the child binds it right after). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** A long-running child process (an exporter, Prometheus, Alertmanager) and its output so far. */
export class Service {
  output = '';
  readonly exited: Promise<unknown>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly url: string,
    private readonly dir: string | undefined,
  ) {
    child.stdout?.on('data', (d) => {
      this.output = (this.output + String(d)).slice(-20_000);
    });
    child.stderr?.on('data', (d) => {
      this.output = (this.output + String(d)).slice(-20_000);
    });
    this.exited = once(child, 'exit');
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  cpuMs(): number {
    return procCpuMs(this.pid);
  }

  /** SIGTERM, SIGKILL after 5 s; removes its temporary directory. Idempotent. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every live service, killed if the benchmark process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Spawns `bin args` and resolves once GET `readyUrl` answers 200 (within `timeoutMs`), or
 * rejects with the child's output. `dir` is removed on stop.
 */
export async function startService(opts: {
  readonly name: string;
  readonly bin: string;
  readonly args: readonly string[];
  readonly url: string;
  readonly readyPath: string;
  readonly dir?: string;
  readonly timeoutMs?: number;
}): Promise<Service> {
  requireBinary(opts.bin);
  const child = spawn(opts.bin, opts.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const service = new Service(opts.name, child, opts.url, opts.dir);
  const end = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await service.stop();
      throw new Error(`${opts.name} exited (${child.exitCode ?? child.signalCode}): ${service.output.trim().slice(-2000)}`);
    }
    try {
      const res = await fetch(`${opts.url}${opts.readyPath}`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return service;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > end) {
      await service.stop();
      throw new Error(`${opts.name} not ready within ${opts.timeoutMs ?? 20_000} ms: ${service.output.trim().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the exporter with `modulesYaml` (the `modules:` document of blackbox.yml) on a free
 * 127.0.0.1 port. `--log.level=warn`: the exporter logs nothing per probe at that level, as in
 * production.
 */
export async function startBlackbox(modulesYaml: string): Promise<Service> {
  requireBinary(BLACKBOX_BIN);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-blackbox-'));
  const configFile = join(dir, 'blackbox.yml');
  writeFileSync(configFile, modulesYaml);
  const port = await freePort();
  return startService({
    name: 'blackbox_exporter',
    bin: BLACKBOX_BIN,
    args: [`--config.file=${configFile}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    url: `http://127.0.0.1:${port}`,
    readyPath: '/-/healthy',
    dir,
  });
}
