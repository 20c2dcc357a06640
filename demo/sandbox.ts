import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

// The demo's sandbox: real processes and servers on loopback standing in for a small hosting
// region. Four HAProxy load balancers (127.0.0.2-5, one shared port as real LBs share :443) route
// by Host to four Node HTTP apps; a control plane says which LB config version is current; a TLS
// edge serves a certificate from a private CA made with the openssl CLI; s3rver is the object
// store. Every port is picked at run time. Child processes are spawned detached (their own process
// group): a Ctrl-C in the terminal reaches the demo only, which stops them in order (daemon first,
// then the sandbox); `killAllSync` is the last resort when the demo itself has to exit at once.
// This is runtime code, not test code: it imports nothing from test/ or vitest.

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const LOOPBACK = '127.0.0.1';
export const HAPROXY_BIN = process.env.HAPROXY_BIN ?? '/usr/sbin/haproxy';
/** The bucket the storage probe writes to (created by s3rver at start). */
export const DEMO_BUCKET = 'tocsin-demo';
/** s3rver's built-in account (it checks the key id exists, not the signature). */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
/** Host names the apps answer to, through the load balancers. */
export const APP_HOSTS = {
  db: 'db.demo.test',
  k8s: 'k8s.demo.test',
  iot: 'iot.demo.test',
  shop: 'shop.demo.test',
} as const;
export type AppName = keyof typeof APP_HOSTS;
/** The TLS edge's certificate name. */
export const EDGE_HOST = 'edge.demo.test';

/** Every child process the sandbox (or the demo) started and that may still run. */
export class ProcessRegistry {
  private readonly live = new Set<ChildProcess>();

  add(child: ChildProcess): void {
    this.live.add(child);
    child.once('exit', () => this.live.delete(child));
  }

  /** PIDs of the children still running. */
  pids(): number[] {
    return [...this.live].flatMap((c) => (c.pid === undefined ? [] : [c.pid]));
  }

  /** SIGKILL to every child still running: for an exit that cannot wait. */
  killAllSync(): void {
    for (const child of this.live) {
      if (isRunning(child)) child.kill('SIGKILL');
    }
  }
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

/** Stops a child: `signal`, then SIGKILL after `graceMs`. Resolves once it exited. */
export async function stopChild(child: ChildProcess, graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!isRunning(child)) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether something accepts TCP connections on host:port now. */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Resolves once host:port accepts connections; fails when the child exits first or after 10 s. */
async function waitListening(host: string, port: number, child: ChildProcess, what: () => string): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    if (!isRunning(child)) throw new Error(`${what()} exited (${child.exitCode ?? child.signalCode})`);
    if (await accepts(host, port)) return;
    if (Date.now() > end) throw new Error(`${what()} did not listen on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function canBind(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, ip, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel picks that is free on every one of `ips` (and not in `avoid`). */
export async function freePort(ips: readonly string[], avoid: readonly number[] = []): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen(0, ips[0] ?? LOOPBACK, () => {
        const addr = server.address();
        server.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    if (port === 0 || avoid.includes(port)) continue;
    const free = await Promise.all(ips.map((ip) => canBind(ip, port)));
    if (free.every(Boolean)) return port;
  }
  throw new Error(`no port free on all of ${ips.join(', ')}`);
}

/** A double-quoted HAProxy string (no `$`: HAProxy would expand it as an environment variable). */
function quoted(text: string): string {
  if (/[$\r\n]/.test(text)) throw new Error(`unsupported character in HAProxy string: ${JSON.stringify(text)}`);
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** What a load balancer serves: a config version and the apps it routes. Other hosts get a 404. */
export interface LbConfig {
  readonly version: number;
  readonly apps: readonly AppName[];
}

/** The haproxy.cfg of one instance: Host-based routing to the apps, the version on every answer. */
export function renderHaproxyConfig(
  config: LbConfig,
  listen: { readonly ip: string; readonly port: number; readonly adminPort: number },
  appPorts: Readonly<Record<AppName, number>>,
): string {
  const version = String(config.version);
  const routes = config.apps.flatMap((app) => [
    `  acl host_${app} hdr(host),field(1,:) -i ${APP_HOSTS[app]}`,
    `  use_backend app_${app} if host_${app}`,
  ]);
  const backends = config.apps.flatMap((app) => [
    `backend app_${app}`,
    `  server ${app} ${LOOPBACK}:${appPorts[app]}`,
  ]);
  return [
    'global',
    '  nbthread 1',
    '  maxconn 200',
    'defaults',
    '  mode http',
    '  timeout client 5s',
    '  timeout connect 2s',
    '  timeout server 5s',
    'frontend site',
    `  bind ${listen.ip}:${listen.port}`,
    // After-response rules also apply to answers HAProxy makes itself (the 404 of an unknown app).
    `  http-after-response set-header x-config-version ${quoted(version)}`,
    ...routes,
    '  default_backend no_app',
    ...backends,
    'backend no_app',
    '  http-request return status 404 content-type text/plain string "no such app"',
    'frontend admin',
    `  bind ${listen.ip}:${listen.adminPort}`,
    `  http-request return status 200 content-type application/json string ${quoted(
      JSON.stringify({ config: { version: config.version } }),
    )}`,
    '',
  ].join('\n');
}

/** One HAProxy process playing one load-balancer instance. */
export class LbInstance {
  private child: ChildProcess | undefined;
  private stderr = '';
  config: LbConfig;

  constructor(
    readonly name: string,
    readonly ip: string,
    readonly port: number,
    readonly adminPort: number,
    private readonly dir: string,
    private readonly appPorts: Readonly<Record<AppName, number>>,
    private readonly registry: ProcessRegistry,
    config: LbConfig,
  ) {
    this.config = config;
  }

  /** `ip:port` of the site listener: the lb_sync instance and the http probes' `address`. */
  get address(): string {
    return `${this.ip}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  /** Starts the process with its current config. */
  async start(): Promise<void> {
    if (this.running) return;
    const cfg = join(this.dir, `haproxy-${this.name}.cfg`);
    await writeFile(cfg, renderHaproxyConfig(this.config, this, this.appPorts));
    // -db: foreground, no daemon; -q: quiet except for errors (kept for the error message).
    const child = spawn(HAPROXY_BIN, ['-f', cfg, '-db', '-q'], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    this.stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
    this.registry.add(child);
    this.child = child;
    const what = () => `haproxy ${this.name} (${this.stderr.trim() || 'no output'})`;
    try {
      await waitListening(this.ip, this.port, child, what);
      await waitListening(this.ip, this.adminPort, child, what);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops the process (SIGTERM, SIGKILL after 2 s). Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 2000);
  }

  /**
   * Serves `config` from now on: writes it and restarts the process on the same ports. A restart
   * rather than a `-sf` soft reload: a client opening a fresh connection per request, as probes
   * do, sees the same thing.
   */
  async reload(config: LbConfig): Promise<void> {
    this.config = config;
    await this.stop();
    await this.start();
  }
}

/** A loopback HTTP(S) server that destroys its open connections on close. */
export interface LoopbackServer {
  readonly port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<LoopbackServer> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    port: addr.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** An app behind the load balancers: answers every path with a small JSON status. */
function startApp(name: AppName): Promise<LoopbackServer> {
  const body = JSON.stringify({ app: name, status: 'ok' });
  return listen(
    http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }),
  );
}

/** The control plane's view of the LB config: `{"config":{"version":N}}` (lb_sync `expected_version`). */
export class ControlPlane {
  version: number;
  private server: LoopbackServer | undefined;

  constructor(version: number) {
    this.version = version;
  }

  get port(): number {
    return this.server?.port ?? 0;
  }

  async start(): Promise<void> {
    this.server = await listen(
      http.createServer((_req, res) => {
        const body = JSON.stringify({ config: { version: this.version } });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }),
    );
  }

  async stop(): Promise<void> {
    await this.server?.close();
  }
}

/** Paths of the demo PKI: a private CA and a leaf for EDGE_HOST (EC P-256: generated in milliseconds). */
export interface DemoCerts {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

async function openssl(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`);
  }
}

/** Makes the CA and the edge certificate with the openssl CLI, in `dir`. */
export async function makeCerts(dir: string): Promise<DemoCerts> {
  await mkdir(dir, { recursive: true });
  // An explicit config, so that the system's openssl.cnf defaults do not add or clash with extensions.
  await writeFile(
    join(dir, 'openssl.cnf'),
    `[ req ]
distinguished_name = dn
prompt = no
x509_extensions = v3_ca
[ dn ]
CN = Tocsin demo CA
[ v3_ca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = DNS:${EDGE_HOST}
`,
  );
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await openssl(['req', '-config', 'openssl.cnf', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '7'], dir);
  await openssl(
    ['req', '-config', 'openssl.cnf', '-new', ...ec, '-keyout', 'edge.key', '-out', 'edge.csr', '-subj', `/CN=${EDGE_HOST}`],
    dir,
  );
  await openssl(
    ['x509', '-req', '-in', 'edge.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30']
      .concat(['-extfile', 'openssl.cnf', '-extensions', 'leaf', '-out', 'edge.pem']),
    dir,
  );
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'edge.pem'), keyFile: join(dir, 'edge.key') };
}

/** The TLS edge: an HTTPS server with the demo certificate. */
async function startTlsEdge(certs: DemoCerts): Promise<LoopbackServer> {
  const [cert, key] = await Promise.all([readFile(certs.certFile), readFile(certs.keyFile)]);
  return listen(
    https.createServer({ cert, key }, (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('edge ok\n');
    }),
  );
}

/** s3rver in a child process, on a fixed port so that it comes back where the probe looks. */
export class S3Store {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    readonly port: number,
    private readonly directory: string,
    private readonly registry: ProcessRegistry,
  ) {}

  get endpoint(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && isRunning(this.child);
  }

  async start(): Promise<void> {
    if (this.running) return;
    await mkdir(this.directory, { recursive: true });
    const bin = require.resolve('s3rver/bin/s3rver.js');
    const args = ['-d', this.directory, '-a', LOOPBACK, '-p', String(this.port), '--silent', '--configure-bucket', DEMO_BUCKET];
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.output = '';
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.registry.add(child);
    this.child = child;
    try {
      await waitListening(LOOPBACK, this.port, child, () => `s3rver (${this.output.trim() || 'no output'})`);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops the process (SIGTERM, SIGKILL after 2 s); its bucket stays on disk for the next start. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child) await stopChild(child, 2000);
  }
}

/** The LB config before S1, and the one S1 rolls out (it adds the shop app). */
export const CONFIG_V42: LbConfig = { version: 42, apps: ['db', 'k8s', 'iot'] };
export const CONFIG_V43: LbConfig = { version: 43, apps: ['db', 'k8s', 'iot', 'shop'] };

/** Everything the demo's daemon probes. Build with `new Sandbox(dir)`, then `start()`; `stop()` always. */
export class Sandbox {
  readonly registry = new ProcessRegistry();
  readonly lbs: LbInstance[] = [];
  readonly controlPlane = new ControlPlane(CONFIG_V42.version);
  lbAdminPort = 0;
  appPorts: Record<AppName, number> = { db: 0, k8s: 0, iot: 0, shop: 0 };
  tlsPort = 0;
  certs: DemoCerts | undefined;
  s3: S3Store | undefined;
  private readonly servers: LoopbackServer[] = [];

  constructor(readonly dir: string) {}

  /**
   * Starts every piece, in order; what started before a failure is stopped by `stop()`. `step`
   * is called before each piece (the demo prints it, and stops early on Ctrl-C by throwing).
   */
  async start(step: (what: string) => void = () => undefined): Promise<void> {
    if (!existsSync(HAPROXY_BIN)) {
      throw new Error(`${HAPROXY_BIN} not found: install HAProxy (apt-get install haproxy) or set HAPROXY_BIN`);
    }
    step('apps');
    for (const name of Object.keys(APP_HOSTS) as AppName[]) {
      const server = await startApp(name);
      this.servers.push(server);
      this.appPorts[name] = server.port;
    }
    step('control plane');
    await this.controlPlane.start();
    this.servers.push({ port: this.controlPlane.port, close: () => this.controlPlane.stop() });

    step('certificates');
    this.certs = await makeCerts(join(this.dir, 'pki'));
    const edge = await startTlsEdge(this.certs);
    this.servers.push(edge);
    this.tlsPort = edge.port;

    step('load balancers');
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'];
    const port = await freePort(ips);
    this.lbAdminPort = await freePort(ips, [port]);
    const lbDir = join(this.dir, 'haproxy');
    await mkdir(lbDir, { recursive: true });
    for (const [i, ip] of ips.entries()) {
      const lb = new LbInstance(`lb-${i + 1}`, ip, port, this.lbAdminPort, lbDir, this.appPorts, this.registry, CONFIG_V42);
      this.lbs.push(lb);
      step(`load balancer ${lb.name}`);
      await lb.start();
    }

    step('object store');
    this.s3 = new S3Store(await freePort([LOOPBACK]), join(this.dir, 's3rver'), this.registry);
    await this.s3.start();
  }

  /** Stops everything started; idempotent and never throws. */
  async stop(): Promise<void> {
    const results = await Promise.allSettled([
      ...this.lbs.map((lb) => lb.stop()),
      this.s3?.stop(),
      ...this.servers.map((s) => s.close()),
    ]);
    // Whatever would not stop politely is killed: nothing is left behind.
    if (results.some((r) => r.status === 'rejected')) this.registry.killAllSync();
  }
}
