/**
 * The fleet's bad day, with real processes: two `tocsin run` on the Redis store (a leader and a
 * standby), workers at two vantages, three targets that go down and up on a schedule, and
 * operators writing notes all along, while the harness kills a worker (-9), restarts Redis
 * (SIGKILL, AOF with fsync always) and kills the leader (-9), one fault per outage.
 *
 * What it reports, for the test (test/integration/fleet-chaos.test.ts) to assert and the
 * benchmark to print: incidents per target (each outage must be exactly one), whether each was
 * resolved by the detector, how long each took to draft from its fault, and the notes' fate
 * (every acknowledged note in its timeline once, no refused note applied).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../../src/events/incident.js';
import {
  AofRedis,
  type Daemon,
  DEFAULT_REDIS_BIN,
  ErrorDigest,
  FatalWait,
  freePort,
  getIncident,
  listIncidents,
  type NoteVerification,
  operatorToken,
  poll,
  request,
  sleep,
  spawnDaemon,
  spawnWorker,
  startWriters,
  Target,
  verifyNotes,
  waitReady,
  type Writers,
} from './harness.js';

export type ChaosFault = 'worker-kill' | 'redis-restart' | 'sentinel-failover' | 'leader-kill';

/**
 * The Redis of a chaos run and its fault: by default one redis-server with AOF, killed and
 * restarted on its port and data; a test may bring a Sentinel deployment whose fault is a
 * kill -9 of the primary (the replica is promoted).
 */
export interface ChaosRedis {
  /** `store.url` and `queue.redis_url` (without a database: `/0` is not appended). */
  readonly url: string;
  readonly fault: 'redis-restart' | 'sentinel-failover';
  /** Injects the fault and returns once Redis can be reached again (or is being failed over to). */
  inject(): Promise<void>;
  log(): string;
}

export interface ChaosOutage {
  readonly component: string;
  readonly fault: ChaosFault;
  /** Incidents whose root is this component at the end (exactly 1 expected). */
  readonly incidents: number;
  /** From the target going down to its draft being listed by the API, ms. */
  readonly draftMs: number;
  readonly resolved: boolean;
  /** The notes written on this outage's incident, from its draft to the end of the run. */
  readonly notes: NoteVerification;
}

export interface ChaosResult {
  readonly outages: readonly ChaosOutage[];
  /** Every incident in the store at the end. */
  readonly incidentsAtEnd: number;
  /** Acknowledged confirmations (one per outage) missing from their incident. */
  readonly confirmsLost: number;
  readonly daemonErrors: readonly { readonly message: string; readonly count: number }[];
  readonly elapsedMs: number;
}

export interface ChaosOptions {
  readonly log?: (line: string) => void;
  /** Upper bound of every wait (readiness, a draft, resolution), ms. Default 60 s. */
  readonly waitTimeoutMs?: number;
  /** How long Redis stays down in the Redis round, ms. Default 4000. */
  readonly redisOutageMs?: number;
  readonly redisBin?: string;
  /** Another Redis (a Sentinel deployment); default an AOF redis-server restarted in the Redis round. */
  readonly redis?: ChaosRedis;
}

const OUTAGES = 3;
const VANTAGES = ['a', 'b'] as const;

/** True when the daemon's log says it runs the rules engine now (its last transition). */
function leads(d: Daemon): boolean {
  return d.running && d.log.lastIndexOf('leader: rules engine running') > d.log.lastIndexOf('standby: rules engine stopped');
}

export async function runChaos(opts: ChaosOptions = {}): Promise<ChaosResult> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.waitTimeoutMs ?? 60_000;
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-chaos-'));
  const errors = new ErrorDigest();
  const targets = Array.from({ length: OUTAGES }, () => new Target());
  const daemons: Daemon[] = [];
  const workers = new Map<string, Daemon>();
  const writers: Writers[] = [];
  const prefixes: string[] = [];
  let aof: AofRedis | undefined;
  try {
    for (const t of targets) await t.start();
    let redis: ChaosRedis | undefined = opts.redis;
    if (!redis) {
      const redisDir = join(dir, 'redis');
      mkdirSync(redisDir);
      const server = new AofRedis(opts.redisBin ?? DEFAULT_REDIS_BIN, redisDir, await freePort());
      aof = server;
      await server.start(timeoutMs);
      redis = {
        url: `${server.url}/0`,
        fault: 'redis-restart',
        inject: async () => {
          await server.stop('SIGKILL');
          await sleep(opts.redisOutageMs ?? 4000);
          await server.start(timeoutMs);
        },
        log: () => server.log,
      };
    }
    const r = redis;
    const faults: ChaosFault[] = ['worker-kill', r.fault, 'leader-kill'];
    const token = operatorToken();
    const env = { TOCSIN_CHAOS_TOKEN: token };
    const ports = [await freePort(), await freePort()];
    const configFiles = ports.map((port, i) => {
      const file = join(dir, `tocsin-${i}.yml`);
      writeFileSync(
        file,
        `server: { listen: "127.0.0.1:${port}", tokens: [{ name: ops, role: operator, token_env: TOCSIN_CHAOS_TOKEN }] }
store: { kind: redis, url: "${r.url}" }
queue: { kind: bullmq, redis_url: "${r.url}", vantages: [${VANTAGES.join(', ')}], concurrency: 16 }
components:
${targets.map((_, j) => `  - { id: c${j + 1}, name: Service ${j + 1} }`).join('\n')}
probes:
${targets.map((t, j) => `  - { id: p${j + 1}, kind: http, component: c${j + 1}, url: "http://127.0.0.1:${t.port}/", interval: 500ms, timeout: 400ms }`).join('\n')}
`,
      );
      return file;
    });
    const startDaemon = (i: number): Daemon => {
      const d = spawnDaemon({ configFile: configFiles[i] as string, cwd: dir, port: ports[i] as number, env, name: `tocsin run ${'AB'[i]}`, errors });
      daemons[i] = d;
      return d;
    };
    const startWorker = (name: string, vantage: string): Daemon => {
      const w = spawnWorker({ configFile: configFiles[0] as string, cwd: dir, vantage, env, name: `worker ${name}`, errors });
      workers.set(name, w);
      return w;
    };
    for (const i of [0, 1]) await waitReady(startDaemon(i), timeoutMs);
    for (const [name, vantage] of [['a1', 'a'], ['a2', 'a'], ['b1', 'b']] as const) startWorker(name, vantage);
    const ctx = (): string =>
      [...daemons.map((d) => d.tail(12)), ...[...workers.values()].map((w) => w.tail(6)), `--- redis:\n${r.log().trim().split('\n').slice(-6).join('\n')}`].join('\n');
    await poll('every worker ready', timeoutMs, async () => ([...workers.values()].every((w) => w.log.includes('tocsin worker ready')) ? true : undefined), { context: ctx });
    await poll('a leader', timeoutMs, async () => (daemons.some(leads) ? true : undefined), { context: ctx });
    const urls = (): string[] => daemons.filter((d) => d.running).map((d) => d.url);

    const found: { id: string; draftMs: number; fault: ChaosFault; component: string; confirmed: boolean }[] = [];
    for (const [j, fault] of faults.entries()) {
      const component = `c${j + 1}`;
      const target = targets[j] as Target;
      target.failing = true;
      const faultAt = performance.now();
      let restart: (() => Promise<void>) | undefined;
      if (fault === 'worker-kill') {
        await sleep(300);
        await workers.get('a1')?.kill();
        restart = async () => {
          startWorker('a1', 'a');
        };
      } else if (fault === r.fault) {
        await sleep(300);
        await r.inject();
      } else {
        const leader = daemons.findIndex(leads);
        if (leader < 0) throw new Error(`no leader to kill\n${ctx()}`);
        await daemons[leader]?.kill();
        restart = async () => {
          await waitReady(startDaemon(leader), timeoutMs);
        };
      }
      const draft = await poll(
        `outage ${j + 1} (${fault}): a draft rooted at ${component}`,
        timeoutMs,
        async () => {
          for (const url of urls()) {
            const list = await listIncidents(url, token).catch(() => undefined);
            const doc = list?.find((i) => i.root_component === component && i.status === 'open');
            if (doc) return doc;
          }
          return undefined;
        },
        { everyMs: 100, context: ctx },
      );
      const draftMs = performance.now() - faultAt;
      log(`outage ${j + 1} (${fault}): draft ${draft.id} after ${(draftMs / 1000).toFixed(1)} s`);
      // Notes on this incident from now to the end of the run: later faults hit them too.
      const prefix = `chaos-${j + 1}-${randomBytes(3).toString('hex')}`;
      prefixes.push(prefix);
      // Both daemons' addresses, whichever is up: a killed one refuses (an unknown outcome).
      const both = ports.map((port) => `http://127.0.0.1:${port}`);
      const on = { urls: both, incidentId: draft.id, token, prefix, t0 };
      writers.push(startWriters({ writers: 2, writerPauseMs: 50 }, on));
      const confirmed = await poll(
        `outage ${j + 1}: confirm answered 2xx`,
        timeoutMs,
        async () => {
          for (const url of urls()) {
            const x = await request('POST', `${url}/api/v1/incidents/${draft.id}/confirm?components=0&signals=0`, {
              token,
              body: { note: `chaos confirm ${j + 1}` },
              timeoutMs: 10_000,
            });
            if (x.answered && x.status >= 200 && x.status < 300) return true;
          }
          return undefined;
        },
        { everyMs: 250, context: ctx },
      );
      found.push({ id: draft.id, draftMs, fault, component, confirmed });
      await sleep(1000);
      await restart?.();
      target.failing = false;
      await poll(
        `outage ${j + 1}: ${draft.id} resolved by the detector`,
        timeoutMs,
        async () => {
          for (const url of urls()) {
            const doc = await getIncident(url, token, draft.id).catch(() => undefined);
            if (doc?.status === 'resolved') return true;
          }
          return undefined;
        },
        { everyMs: 250, context: ctx },
      );
      log(`outage ${j + 1}: resolved`);
      for (const d of daemons) if (!d.running) throw new FatalWait(`${d.name} exited\n${ctx()}`);
    }
    for (const w of writers) await w.stop();
    const readUrl = await poll('a daemon answering', timeoutMs, async () => urls()[0], { context: ctx });
    const all = await listIncidents(readUrl, token);
    const outages: ChaosOutage[] = [];
    let confirmsLost = 0;
    for (const [j, f] of found.entries()) {
      const doc: Incident = await getIncident(readUrl, token, f.id);
      if (f.confirmed && doc.review !== 'confirmed') confirmsLost++;
      outages.push({
        component: f.component,
        fault: f.fault,
        incidents: all.filter((i) => i.root_component === f.component).length,
        draftMs: f.draftMs,
        resolved: doc.status === 'resolved',
        notes: verifyNotes((writers[j] as Writers).outcomes, doc.timeline, prefixes[j] as string),
      });
    }
    const elapsedMs = performance.now() - t0;
    return { outages, incidentsAtEnd: all.length, confirmsLost, daemonErrors: errors.list(), elapsedMs };
  } finally {
    for (const w of writers) await w.stop();
    for (const d of daemons) await d?.kill();
    for (const w of workers.values()) await w.kill();
    await aof?.stop('SIGKILL');
    for (const t of targets) await t.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
