import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Real HAProxy processes on loopback, standing in for a fleet of load-balancer instances (lb_sync
// tests, S1). Each instance answers from its config alone (`http-request return`, no backend), per
// Host header, with the config version in an `x-config-version` header and on a /version endpoint.
// "Reloading" an instance writes its new config and restarts its process on the same address: a
// restart is simpler than a `-sf` soft reload and shows the same thing to a client that opens a
// fresh connection per request, as probes do.

export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';

/** What one app (Host) answers. */
export interface HaproxyApp {
  readonly host: string;
  /** Default 200. */
  readonly status?: number;
  /** Default `<host> config <version>`. */
  readonly body?: string;
}

/** An instance's whole config: its version and the apps it knows. Unknown hosts get a 404. */
export interface HaproxySite {
  readonly version: string | number;
  readonly apps: readonly HaproxyApp[];
}

export interface HaproxyInstanceOptions {
  /** Loopback address to bind, e.g. 127.0.0.2 (a fleet gives each instance its own). */
  readonly ip: string;
  /** Port of the site listener (TLS when `pem` is given). */
  readonly port: number;
  /** Port of the plain-HTTP admin listener serving GET /version. */
  readonly adminPort: number;
  /** Certificate + key in one PEM file (what HAProxy's `crt` wants); plain HTTP without it. */
  readonly pem?: string | undefined;
  /** Directory for the config file. */
  readonly dir: string;
}

/** A double-quoted HAProxy string (no `$`: HAProxy would expand it as an environment variable). */
function quoted(text: string): string {
  if (/[$\r\n]/.test(text)) throw new Error(`unsupported character in HAProxy string: ${JSON.stringify(text)}`);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The haproxy.cfg of one instance. */
export function renderHaproxyConfig(site: HaproxySite, opts: Omit<HaproxyInstanceOptions, 'dir'>): string {
  const version = String(site.version);
  const hdr = `hdr x-config-version ${quoted(version)}`;
  const bind = `bind ${opts.ip}:${opts.port}${opts.pem ? ` ssl crt ${opts.pem}` : ''}`;
  const apps = site.apps.flatMap((app, i) => [
    `  acl app${i} hdr(host),field(1,:) -i ${app.host}`,
    `  http-request return status ${app.status ?? 200} content-type text/plain string ${quoted(
      app.body ?? `${app.host} config ${version}`,
    )} ${hdr} if app${i}`,
  ]);
  return [
    'global',
    '  nbthread 1',
    '  maxconn 200',
    'defaults',
    '  mode http',
    '  timeout client 5s',
    '  timeout connect 5s',
    '  timeout server 5s',
    'frontend site',
    `  ${bind}`,
    ...apps,
    `  http-request return status 404 content-type text/plain string "no such app" ${hdr}`,
    'frontend admin',
    `  bind ${opts.ip}:${opts.adminPort}`,
    `  http-request return status 200 content-type application/json string ${quoted(
      JSON.stringify({ config: { version: Number.isFinite(Number(version)) ? Number(version) : version } }),
    )}`,
    '',
  ].join('\n');
}

/** Every live HAProxy child, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Resolves once something accepts TCP connections on ip:port. */
async function waitListening(ip: string, port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`haproxy exited (${child.exitCode ?? child.signalCode}): ${stderr().trim()}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: ip, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`haproxy did not listen on ${ip}:${port}: ${stderr().trim()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** One HAProxy process playing one load-balancer instance. */
export class HaproxyInstance {
  private child: ChildProcess | undefined;
  private stderr = '';
  private readonly cfg: string;
  site: HaproxySite;

  private opts: HaproxyInstanceOptions;

  private constructor(opts: HaproxyInstanceOptions, site: HaproxySite) {
    this.opts = opts;
    this.site = site;
    this.cfg = join(opts.dir, `haproxy-${opts.ip}-${opts.port}.cfg`);
  }

  /** `ip:port` of the site listener: the lb_sync instance. */
  get address(): string {
    return `${this.opts.ip}:${this.opts.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  static async start(opts: HaproxyInstanceOptions, site: HaproxySite): Promise<HaproxyInstance> {
    const instance = new HaproxyInstance(opts, site);
    await instance.launch();
    return instance;
  }

  /**
   * Serves `site` from now on: writes the config and restarts the process on the same ports.
   * `pem` swaps the certificate too (a regenerated certificate on this instance only).
   */
  async reload(site: HaproxySite, change: { readonly pem?: string } = {}): Promise<void> {
    this.site = site;
    if (change.pem !== undefined) this.opts = { ...this.opts, pem: change.pem };
    await this.stop();
    await this.launch();
  }

  /** Starts it again with its current config (after `stop`). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the process (SIGTERM, SIGKILL after 2 s). Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  }

  private async launch(): Promise<void> {
    await writeFile(this.cfg, renderHaproxyConfig(this.site, this.opts));
    // -db: foreground, no daemon; -q: quiet except for errors (which go to stderr, kept for messages).
    const child = spawn(HAPROXY_BIN, ['-f', this.cfg, '-db', '-q'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.stderr = '';
    child.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    live.add(child);
    child.once('exit', () => live.delete(child));
    this.child = child;
    try {
      await waitListening(this.opts.ip, this.opts.port, child, () => this.stderr);
      await waitListening(this.opts.ip, this.opts.adminPort, child, () => this.stderr);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }
}

/** Whether ip:port can be bound now. */
function canBind(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, ip, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel picks, free on every one of `ips` (a fleet shares ports, as real LBs share :443). */
export async function freePortOnAll(ips: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, ips[0] ?? '127.0.0.1', () => {
        const addr = server.address();
        server.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const free = await Promise.all(ips.map((ip) => canBind(ip, port)));
    if (port > 0 && free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${ips.join(', ')}`);
}

/** A fleet of instances on 127.0.0.2, 127.0.0.3, ... sharing a site port and an admin port. */
export interface HaproxyFleet {
  readonly dir: string;
  readonly instances: readonly HaproxyInstance[];
  readonly port: number;
  readonly adminPort: number;
  /** lb_sync `version.url` for this fleet. */
  readonly versionUrl: string;
  /** Stops every instance and removes the directory. */
  close(): Promise<void>;
}

export async function startHaproxyFleet(opts: {
  readonly count: number;
  readonly site: HaproxySite;
  /** Certificate and key PEM text: the site listener speaks TLS with them. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
}): Promise<HaproxyFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-haproxy-'));
  const ips = Array.from({ length: opts.count }, (_v, i) => `127.0.0.${i + 2}`);
  const instances: HaproxyInstance[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(instances.map((i) => i.stop()));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    let pem: string | undefined;
    if (opts.tls) {
      pem = join(dir, 'site.pem');
      await writeFile(pem, `${opts.tls.cert.trim()}\n${opts.tls.key.trim()}\n`, { mode: 0o600 });
    }
    const port = await freePortOnAll(ips);
    let adminPort = await freePortOnAll(ips);
    while (adminPort === port) adminPort = await freePortOnAll(ips);
    for (const ip of ips) {
      instances.push(await HaproxyInstance.start({ ip, port, adminPort, pem, dir }, opts.site));
    }
    return { dir, instances, port, adminPort, versionUrl: `http://{host}:${adminPort}/version`, close };
  } catch (err) {
    await close();
    throw err;
  }
}
