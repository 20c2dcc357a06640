import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Incident } from '../src/events/incident.js';
import {
  APP_HOSTS,
  CONFIG_V42,
  CONFIG_V43,
  type LbInstance,
  type ProcessRegistry,
  isRunning,
  S3_CREDENTIALS,
  Sandbox,
  stopChild,
} from './sandbox.js';

// `npm run demo`: starts the sandbox (demo/sandbox.ts), a daemon configured for it from
// config/demo.yml, and plays S1, S9 and S12 one after the other (docs/demo.md), printing each step
// with its UTC time. One cleanup path: whatever ends the run (the script finishing and Ctrl-C,
// SIGTERM, an error), `main` unwinds to its `finally`, which stops the daemon (SIGTERM, SIGKILL
// after a bound), then every sandbox process, then removes the temporary directory. A second
// signal kills everything at once; an exit handler SIGKILLs any child still alive.

const TOCSIN_BIN = fileURLToPath(new URL('../../bin/tocsin.js', import.meta.url));
const TEMPLATE = fileURLToPath(new URL('../../config/demo.yml', import.meta.url));

/** Probe intervals (config durations) and the script's pauses, per mode. */
interface Timing {
  readonly appInterval: string;
  /** Twice the apps' interval: in S9 the apps are seen failing before the load balancers themselves. */
  readonly lbInterval: string;
  readonly maxLag: string;
  readonly storageInterval: string;
  readonly tlsInterval: string;
  /** How long a fault is left in place once its draft is shown (time to look at the console). */
  readonly holdMs: number;
  /** Pause between two scenarios. */
  readonly pauseMs: number;
  /** Longest wait for a draft or a resolution before the demo gives up (exit 1). */
  readonly waitMs: number;
}

const NORMAL: Timing = {
  appInterval: '1s',
  lbInterval: '2s',
  maxLag: '6s',
  storageInterval: '2s',
  tlsInterval: '5s',
  holdMs: 30_000,
  pauseMs: 10_000,
  waitMs: 90_000,
};
const FAST: Timing = {
  appInterval: '1s',
  lbInterval: '2s',
  maxLag: '2s',
  storageInterval: '1s',
  tlsInterval: '2s',
  holdMs: 0,
  pauseMs: 0,
  waitMs: 30_000,
};

const USAGE = `usage: node dist/demo/demo.js [--fast]   (or: npm run demo [-- --fast])

Starts a loopback sandbox (4 HAProxy load balancers, 4 apps, a TLS edge, s3rver), a Tocsin daemon
configured for it, and plays S1, S9 and S12 one after the other. Ctrl-C stops everything.
  --fast   short lag and no pauses (about 30 s; what the integration test runs)
`;

const ProbeList = z.object({
  probes: z.array(
    z.object({
      id: z.string(),
      targets: z.array(z.string()),
      latest: z.array(z.object({ target: z.string().optional(), ok: z.boolean() })),
    }),
  ),
});
const IncidentList = z.object({ incidents: z.array(Incident) });

/** Thrown to unwind `main` when a signal asked the demo to stop. */
class Stopped extends Error {}

const abort = new AbortController();
/** Set when something the demo depends on died under it (the daemon): every wait stops with it. */
let fatal: Error | undefined;

function utc(): string {
  return new Date().toISOString().slice(11, 19);
}

function say(tag: string, text: string): void {
  process.stdout.write(`${utc()} ${tag}: ${text}\n`);
}

function checkStop(): void {
  if (fatal) throw fatal;
  if (abort.signal.aborted) throw new Stopped();
}

async function sleep(ms: number): Promise<void> {
  checkStop();
  try {
    await sleepFor(ms, undefined, { signal: abort.signal });
  } catch {
    // Aborted: checkStop says why.
  }
  checkStop();
}

function seconds(fromMs: number): string {
  return `${((Date.now() - fromMs) / 1000).toFixed(1)}s`;
}

/** Replaces every {{name}} of the template; an unknown placeholder is a bug in the demo. */
function fillTemplate(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`config/demo.yml: unknown placeholder {{${name}}}`);
    return String(value);
  });
}

/** The `tocsin run` child: its output goes to a log file in the demo's directory. */
class Daemon {
  private constructor(
    readonly child: ChildProcess,
    readonly logFile: string,
  ) {}

  /** Spawns `tocsin run`; `ready()` waits for its URL. */
  static spawn(configFile: string, cwd: string, registry: ProcessRegistry): Daemon {
    const logFile = join(cwd, 'daemon.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(process.execPath, [TOCSIN_BIN, 'run', '--config', configFile], {
      cwd,
      env: {
        ...process.env,
        TOCSIN_CONFIG: '',
        TOCSIN_DEMO_S3_ACCESS_KEY: S3_CREDENTIALS.accessKeyId,
        TOCSIN_DEMO_S3_SECRET_KEY: S3_CREDENTIALS.secretAccessKey,
      },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    registry.add(child);
    return new Daemon(child, logFile);
  }

  /** The API's URL, from the "tocsin running" log line. */
  async ready(): Promise<string> {
    const end = Date.now() + 30_000;
    for (;;) {
      const log = await readFile(this.logFile, 'utf8');
      const m = /"url":"(http:\/\/[^"]+)"/.exec(log);
      if (m?.[1]) return m[1];
      if (!isRunning(this.child)) {
        const tail = log.trim().split('\n').slice(-10).join('\n');
        throw new Error(`the daemon exited (${this.child.exitCode ?? this.child.signalCode}):\n${tail}`);
      }
      if (Date.now() > end) throw new Error(`the daemon did not start within 30 s (log: ${this.logFile})`);
      await sleep(100);
    }
  }

  /** SIGTERM (the daemon's clean stop), SIGKILL after 10 s. */
  stop(): Promise<void> {
    return stopChild(this.child, 10_000);
  }
}

/** The daemon's HTTP API, with the operator token. */
class Api {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async get<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.token}` },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return schema.parse(await res.json());
  }

  async incidents(): Promise<Incident[]> {
    return (await this.get('/api/v1/incidents?limit=500', IncidentList)).incidents;
  }
}

/** What the scenarios share. */
interface Ctx {
  readonly sandbox: Sandbox;
  readonly api: Api;
  readonly timing: Timing;
  /** Timeline entries already printed, per incident id. */
  readonly printed: Map<string, number>;
  /** Incidents of earlier scenarios. */
  readonly earlier: Set<string>;
}

/** Polls `fn` every 500 ms until it returns a value; fails after `timing.waitMs`. */
async function waitUntil<T>(ctx: Ctx, what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ctx.timing.waitMs;
  for (;;) {
    checkStop();
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`${what} not seen within ${ctx.timing.waitMs / 1000} s`);
    await sleep(500);
  }
}

/** Prints the timeline entries of `inc` not printed yet. */
function follow(ctx: Ctx, tag: string, inc: Incident): void {
  const from = ctx.printed.get(inc.id) ?? 0;
  for (const entry of inc.timeline.slice(from)) say(tag, `  timeline [${entry.kind}] ${entry.text}`);
  ctx.printed.set(inc.id, inc.timeline.length);
}

/** Waits for an incident matching `match`, then prints it and its timeline so far. */
async function waitDraft(ctx: Ctx, tag: string, faultAt: number, match: (i: Incident) => boolean): Promise<Incident> {
  const inc = await waitUntil(ctx, `${tag}'s draft`, async () => (await ctx.api.incidents()).find(match));
  const names = new Map(ctx.sandbox.lbs.map((lb) => [lb.address, lb.name]));
  const comps = inc.components.map((c) => `${c.id} (${c.impact})`).join(', ');
  const again = ctx.earlier.has(inc.id) ? ' (an earlier incident, reopened)' : '';
  say(tag, `draft ${inc.id}${again} ${seconds(faultAt)} after the fault: "${inc.title}"`);
  say(tag, `  root ${inc.root_component}, severity ${inc.severity}, review ${inc.review}; components: ${comps}`);
  for (const s of inc.signals) {
    const targets = s.targets.map((t) => (names.has(t) ? `${names.get(t)} ${t}` : t)).join(', ');
    say(tag, `  signal ${s.rule}/${s.probe} (${s.error ?? 'no error'}): ${targets}`);
  }
  const open = (await ctx.api.incidents()).filter((i) => i.status === 'open').length;
  say(tag, `  open incidents now: ${open}`);
  follow(ctx, tag, inc);
  return inc;
}

/** Leaves the fault in place for `timing.holdMs`, printing the incident's news. */
async function hold(ctx: Ctx, tag: string, id: string): Promise<void> {
  if (ctx.timing.holdMs <= 0) return;
  say(tag, `leaving it broken for ${ctx.timing.holdMs / 1000} s: have a look at the console`);
  const end = Date.now() + ctx.timing.holdMs;
  while (Date.now() < end) {
    await sleep(Math.min(2000, end - Date.now()));
    const inc = (await ctx.api.incidents()).find((i) => i.id === id);
    if (inc) follow(ctx, tag, inc);
  }
}

/** Waits for the incident to resolve, printing its timeline as it grows. */
async function waitResolved(ctx: Ctx, tag: string, id: string, healedAt: number): Promise<void> {
  const inc = await waitUntil(ctx, `${tag}'s resolution`, async () => {
    const found = (await ctx.api.incidents()).find((i) => i.id === id);
    if (found) follow(ctx, tag, found);
    return found?.status === 'resolved' ? found : undefined;
  });
  say(tag, `resolved ${seconds(healedAt)} after the fix (${inc.id})`);
  ctx.earlier.add(id);
}

const LB_COMPONENT = 'lb-par';

/** S1: one load balancer instance stops taking config updates. */
async function playS1(ctx: Ctx): Promise<void> {
  const [stale, ...rest] = ctx.sandbox.lbs;
  if (!stale) throw new Error('no load balancer');
  const names = (lbs: readonly LbInstance[]) => lbs.map((lb) => lb.name).join(', ');
  say('S1', 'one load balancer instance stops taking config updates (seed 000, Nov 2023)');
  ctx.sandbox.controlPlane.version = CONFIG_V43.version;
  say('S1', `the control plane publishes config v${CONFIG_V43.version} (it adds ${APP_HOSTS.shop})`);
  say('S1', `reloading ${names(rest)} with config v${CONFIG_V43.version}; ${stale.name} stays on v${CONFIG_V42.version}`);
  for (const lb of rest) await lb.reload(CONFIG_V43);
  const faultAt = Date.now();
  const inc = await waitDraft(
    ctx,
    'S1',
    faultAt,
    (i) => i.status === 'open' && i.root_component === LB_COMPONENT && i.signals.some((s) => s.rule === 'lb-sync'),
  );
  await hold(ctx, 'S1', inc.id);
  say('S1', `fixing it: restarting ${stale.name} with config v${CONFIG_V43.version}`);
  await stale.reload(CONFIG_V43);
  await waitResolved(ctx, 'S1', inc.id, Date.now());
}

/** S9: the load balancer tier fails and the apps behind it with it. */
async function playS9(ctx: Ctx): Promise<void> {
  const lbs = ctx.sandbox.lbs;
  say('S9', 'a bad API call invalidates the load balancers; databases, Kubernetes and IoT Hub sit behind them (seed 003)');
  say('S9', `stopping ${lbs.map((lb) => lb.name).join(', ')}`);
  await Promise.all(lbs.map((lb) => lb.stop()));
  const faultAt = Date.now();
  const want = [LB_COMPONENT, 'db-par', 'k8s-par', 'iot-par'];
  const inc = await waitDraft(
    ctx,
    'S9',
    faultAt,
    (i) =>
      i.status === 'open' &&
      i.root_component === LB_COMPONENT &&
      want.every((c) => i.components.some((x) => x.id === c)) &&
      i.signals.some((s) => s.probe === 'lb-sync-par' && s.until === null),
  );
  await hold(ctx, 'S9', inc.id);
  say('S9', `fixing it: starting ${lbs.map((lb) => lb.name).join(', ')} again (config v${CONFIG_V43.version})`);
  await Promise.all(lbs.map((lb) => lb.start()));
  await waitResolved(ctx, 'S9', inc.id, Date.now());
}

/** S12: the storage cluster is unreachable from everywhere. */
async function playS12(ctx: Ctx): Promise<void> {
  const s3 = ctx.sandbox.s3;
  if (!s3) throw new Error('no object store');
  say('S12', `object storage unreachable after a patch (seed 000): stopping s3rver on ${s3.endpoint}`);
  await s3.stop();
  const faultAt = Date.now();
  const inc = await waitDraft(
    ctx,
    'S12',
    faultAt,
    (i) => i.status === 'open' && i.root_component === 'storage-par' && i.components.some((c) => c.impact === 'major_outage'),
  );
  await hold(ctx, 'S12', inc.id);
  say('S12', `fixing it: rolling back, s3rver starts again on ${s3.endpoint}`);
  await s3.start();
  await waitResolved(ctx, 'S12', inc.id, Date.now());
}

/** Waits until every probe has reported every target healthy once. */
async function waitGreen(ctx: Ctx): Promise<void> {
  await waitUntil(ctx, 'every probe healthy', async () => {
    const { probes } = await ctx.api.get('/api/v1/probes', ProbeList);
    const green = probes.every((p) => p.targets.every((t) => p.latest.some((r) => r.target === t && r.ok)));
    return green ? true : undefined;
  });
}

async function main(args: readonly string[], sandbox: Sandbox, dir: string): Promise<void> {
  const timing = args.includes('--fast') ? FAST : NORMAL;
  const started = Date.now();
  say('demo', `sandbox in ${dir}${timing === FAST ? ' (--fast)' : ''}`);
  await sandbox.start((what) => {
    checkStop();
    if (what.startsWith('load balancer ')) return;
    say('sandbox', `starting ${what}`);
  });
  const apps = Object.entries(sandbox.appPorts).map(([name, port]) => `${name} :${port}`).join(', ');
  say('sandbox', `load balancers (HAProxy): ${sandbox.lbs.map((lb) => `${lb.name} ${lb.address}`).join(', ')}`);
  say('sandbox', `  admin /version on :${sandbox.lbAdminPort}; control plane 127.0.0.1:${sandbox.controlPlane.port}`);
  say('sandbox', `apps on 127.0.0.1 (behind the load balancers): ${apps}`);
  say('sandbox', `TLS edge 127.0.0.1:${sandbox.tlsPort}; s3rver ${sandbox.s3?.endpoint ?? '?'} (bucket tocsin-demo)`);

  const template = await readFile(TEMPLATE, 'utf8');
  const [lb1, lb2, lb3, lb4] = sandbox.lbs.map((lb) => lb.address);
  const configFile = join(dir, 'tocsin.yml');
  await writeFile(
    configFile,
    fillTemplate(template, {
      lb_1: lb1 ?? '',
      lb_2: lb2 ?? '',
      lb_3: lb3 ?? '',
      lb_4: lb4 ?? '',
      lb_admin_port: sandbox.lbAdminPort,
      control_port: sandbox.controlPlane.port,
      s3_port: sandbox.s3?.port ?? 0,
      tls_port: sandbox.tlsPort,
      app_interval: timing.appInterval,
      lb_interval: timing.lbInterval,
      max_lag: timing.maxLag,
      storage_interval: timing.storageInterval,
      tls_interval: timing.tlsInterval,
    }),
  );
  checkStop();
  // Known to the cleanup path from the moment it exists, before it is ready.
  const daemon = Daemon.spawn(configFile, dir, sandbox.registry);
  daemonRef = daemon;
  daemon.child.once('exit', (code, signal) => {
    if (!stopping) fatal = new Error(`the daemon exited unexpectedly (${code ?? signal})`);
  });
  const url = await daemon.ready();
  const tokenFile = join(dir, 'data', 'operator.token');
  const token = (await readFile(tokenFile, 'utf8')).trim();
  say('daemon', `tocsin run --config ${configFile} (pid ${daemon.child.pid}, log ${daemon.logFile})`);
  say('console', `${url}/  (sign in with the operator token)`);
  say('token', `${token}  (from ${tokenFile})`);
  const ctx: Ctx = { sandbox, api: new Api(url, token), timing, printed: new Map(), earlier: new Set() };
  await waitGreen(ctx);
  say('demo', `every probe healthy, ${seconds(started)} after the start`);

  for (const play of [playS1, playS9, playS12]) {
    await play(ctx);
    if (play !== playS12 && timing.pauseMs > 0) await sleep(timing.pauseMs);
  }
  const all = await ctx.api.incidents();
  say('done', `S1, S9 and S12 played and healed in ${seconds(started)}: ${all.length} incidents, all drafts for review`);
  for (const inc of [...all].reverse()) {
    say('done', `  ${inc.id}  ${inc.status}  ${inc.severity}  root ${inc.root_component}  "${inc.title}"`);
  }
  say('done', `the sandbox and the console stay up (${url}/); Ctrl-C stops everything`);
  await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  checkStop();
}

let daemonRef: Daemon | undefined;
let stopping = false;

async function run(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const unknown = args.filter((a) => a !== '--fast');
  if (unknown.length > 0) {
    process.stderr.write(`unknown argument ${unknown[0]}\n${USAGE}`);
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-demo-'));
  const sandbox = new Sandbox(dir);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals === 1) {
      process.stdout.write('\n');
      say('demo', `${signal}: stopping the daemon and the sandbox (again to kill at once)`);
      abort.abort();
      return;
    }
    // A second signal: no more waiting.
    sandbox.registry.killAllSync();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  // Last resort, whatever the exit path: no child outlives the demo.
  process.once('exit', () => sandbox.registry.killAllSync());

  let code = 0;
  try {
    await main(args, sandbox, dir);
  } catch (err) {
    if (!(err instanceof Stopped)) {
      say('demo', `failed: ${err instanceof Error ? err.message : String(err)}`);
      const log = daemonRef ? await readFile(daemonRef.logFile, 'utf8').catch(() => '') : '';
      if (log) say('demo', `the daemon's last log lines:\n${log.trim().split('\n').slice(-20).join('\n')}`);
      code = 1;
    }
  } finally {
    stopping = true;
    await daemonRef?.stop();
    await sandbox.stop();
    if (sandbox.registry.pids().length > 0) {
      // Something would not stop politely: no child outlives the demo, and none writes in the directory removed next.
      sandbox.registry.killAllSync();
      await sleepFor(200);
    }
    rmSync(dir, { recursive: true, force: true });
    const left = sandbox.registry.pids();
    say('demo', left.length === 0 ? 'stopped everything it started (daemon, load balancers, s3rver, apps); nothing left running' : `still running: ${left.join(', ')}`);
  }
  return code;
}

process.exit(await run());
