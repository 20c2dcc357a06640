import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redisPing } from '../../bench/lib/harness.js';
import { closedPort, LOOPBACK } from './servers.js';

/** Debian's redis-server (installed by .ci/run); tests that need it fail loudly when it is missing. */
export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** `redis://127.0.0.1:PORT` (no password, even when the server requires one). */
  readonly url: string;
  /** What the server logged so far (for failure messages). */
  log(): string;
  /** Stops the server (SIGTERM, SIGKILL after 2 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts a throw-away `redis-server` on a free loopback port: no persistence (`--save ''`,
 * `--appendonly no`), its own temporary directory, `--requirepass` when a password is given.
 * Resolves once it answers PING.
 */
export async function startRedisServer(opts: { password?: string; port?: number } = {}): Promise<RedisServer> {
  for (let attempt = 1; ; attempt++) {
    // A given port restarts a server where clients expect it (outage tests); no retry elsewhere.
    const port = opts.port ?? (await closedPort());
    const dir = mkdtempSync(join(tmpdir(), 'tocsin-redis-'));
    const args = [
      '--port', String(port),
      '--bind', LOOPBACK,
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--daemonize', 'no',
      ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    ];
    const child = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d: Buffer) => {
      log += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let failedToSpawn: Error | undefined;
    child.once('error', (err) => {
      failedToSpawn = err;
    });

    let ready = false;
    for (const end = Date.now() + 10_000; Date.now() < end && child.exitCode === null && !failedToSpawn;) {
      if (await redisPing(port)) {
        ready = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const stop = async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(killer);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    if (!ready) {
      if (failedToSpawn === undefined) await stop();
      else rmSync(dir, { recursive: true, force: true });
      // Another process may take the free port before redis binds it: try another one.
      if (attempt < 3 && opts.port === undefined && /in use/i.test(log)) continue;
      throw new Error(`redis-server did not start: ${failedToSpawn?.message ?? log.trim()}`);
    }
    let stopping: Promise<void> | undefined;
    return {
      host: LOOPBACK,
      port,
      address: `${LOOPBACK}:${port}`,
      url: `redis://${LOOPBACK}:${port}`,
      log: () => log,
      stop() {
        stopping ??= stop();
        return stopping;
      },
    };
  }
}
