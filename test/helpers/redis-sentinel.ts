import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { REDIS_SERVER_BIN } from './redis-server.js';
import { closedPort, LOOPBACK } from './servers.js';

/**
 * A Redis Sentinel deployment on loopback, all real processes: a primary, one replica
 * (`--replicaof`) and three Sentinels (`redis-server sentinel.conf --sentinel`, each with its
 * own conf file since a Sentinel rewrites it) monitoring the primary with quorum 2. Sentinel
 * timings are small (down after 1 s, failover timeout 5 s) so a failover takes seconds.
 */
export interface SentinelDeployment {
  /** The master name the Sentinels monitor. */
  readonly name: string;
  /** `redis+sentinel://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/<name>`. */
  readonly url: string;
  /** Data node ports, primary first (as started; after a failover the roles are swapped). */
  readonly dataPorts: readonly number[];
  readonly sentinelPorts: readonly number[];
  /** kill -9 of the data node on `port` (no shutdown, no goodbye to the replica); resolves once it exited. */
  kill(port: number): Promise<void>;
  /** The primary the Sentinels announce now (`SENTINEL get-master-addr-by-name`), from the first that answers. */
  primaryPort(): Promise<number | undefined>;
  /** What every process logged so far, for failure messages. */
  log(): string;
  /** Stops every process (SIGTERM, SIGKILL after 2 s) and removes the directory. Idempotent. */
  stop(): Promise<void>;
}

interface Proc {
  readonly label: string;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  log: string;
}

function start(label: string, args: string[]): Proc {
  const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = { label, child, exited: new Promise((resolve) => child.once('exit', () => resolve())), log: '' };
  const append = (d: Buffer): void => {
    proc.log += d.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.once('error', (err) => {
    proc.log += `spawn failed: ${err.message}\n`;
  });
  return proc;
}

async function stopProc(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const killer = setTimeout(() => p.child.kill('SIGKILL'), 2000);
  await p.exited;
  clearTimeout(killer);
}

/** A client for polling: one try per command, no reconnect loop, short timeouts. */
function probeClient(port: number): Redis {
  const c = new Redis({
    host: LOOPBACK,
    port,
    lazyConnect: true,
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 1000,
  });
  c.on('error', () => undefined);
  return c;
}

async function ask<T>(port: number, command: (c: Redis) => Promise<T>): Promise<T | undefined> {
  const c = probeClient(port);
  try {
    await c.connect();
    return await command(c);
  } catch {
    return undefined;
  } finally {
    c.disconnect();
  }
}

/** Polls `check` every 100 ms until it answers true; throws with `what` after `timeoutMs`. */
export async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  for (const end = Date.now() + timeoutMs; ;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts the deployment and resolves once it can fail over: the replica's link is up and every
 * Sentinel knows the replica and the two other Sentinels (else a failover may not get a quorum).
 */
export async function startSentinelDeployment(opts: { name?: string } = {}): Promise<SentinelDeployment> {
  const name = opts.name ?? 'tocsin-test';
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-sentinel-'));
  const procs: Proc[] = [];
  const dataPorts: number[] = [];
  const sentinelPorts: number[] = [];
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all(procs.map(stopProc));
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const log = (): string => procs.map((p) => `--- ${p.label}\n${p.log.trim()}`).join('\n');

  const dataNode = (label: string, port: number, extra: string[]): Proc => {
    return start(label, [
      '--port', String(port),
      '--bind', LOOPBACK,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--dbfilename', `${label}.rdb`,
      '--daemonize', 'no',
      // Full syncs start at once (the default waits 5 s for more replicas).
      '--repl-diskless-sync', 'yes',
      '--repl-diskless-sync-delay', '0',
      ...extra,
    ]);
  };

  try {
    // Ports are picked free then bound by redis; a clash fails the start loudly (rare).
    for (let i = 0; i < 2; i++) dataPorts.push(await closedPort());
    for (let i = 0; i < 3; i++) sentinelPorts.push(await closedPort());
    const [primary = 0, replica = 0] = dataPorts;
    procs.push(dataNode('primary', primary, []));
    await until('the primary to answer PING', 10_000, async () => (await ask(primary, (c) => c.ping())) === 'PONG');
    procs.push(dataNode('replica', replica, ['--replicaof', LOOPBACK, String(primary)]));
    await until('the replica to sync with the primary', 15_000, async () => {
      const info = await ask(replica, (c) => c.info('replication'));
      return info?.includes('master_link_status:up') ?? false;
    });
    for (const [i, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${i}.conf`);
      writeFileSync(
        conf,
        [
          `port ${port}`,
          `bind ${LOOPBACK}`,
          `dir ${dir}`,
          'daemonize no',
          `sentinel monitor ${name} ${LOOPBACK} ${primary} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      procs.push(start(`sentinel-${i}`, [conf, '--sentinel']));
    }
    for (const port of sentinelPorts) {
      await until(`sentinel ${port} to know the replica and the other sentinels`, 20_000, async () => {
        const known = await ask(port, async (c) => {
          const replicas = (await c.call('SENTINEL', 'REPLICAS', name)) as unknown[];
          const others = (await c.call('SENTINEL', 'SENTINELS', name)) as unknown[];
          return replicas.length >= 1 && others.length >= 2;
        });
        return known === true;
      });
    }
  } catch (err) {
    const text = log();
    await stop();
    throw new Error(`${(err as Error).message}\n${text}`);
  }

  return {
    name,
    url: `redis+sentinel://${sentinelPorts.map((p) => `${LOOPBACK}:${p}`).join(',')}/${name}`,
    dataPorts,
    sentinelPorts,
    async kill(port) {
      const proc = procs[dataPorts.indexOf(port)];
      if (!proc) throw new Error(`no data node on port ${port}`);
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async primaryPort() {
      for (const port of sentinelPorts) {
        const addr = await ask(port, (c) => c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name) as Promise<string[] | null>);
        if (addr?.[1]) return Number(addr[1]);
      }
      return undefined;
    },
    log,
    stop,
  };
}
