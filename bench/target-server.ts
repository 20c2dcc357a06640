/**
 * The loopback HTTP target of the benchmarks, run as a child process (`fork`) so that its CPU is
 * not counted in the measured process. It answers every request `200 ok` with `Connection: close`:
 * the server closes first, so TIME_WAIT lands on the server's side and the client's ephemeral
 * ports are not held for a minute after each check.
 *
 * Protocol (IPC messages):
 * - child → parent `{ type: 'ready', listeners: [{ host, port }] }` once every address listens;
 * - parent → child `{ type: 'stats' }`, answered by `{ type: 'stats', stats: TargetStats }`;
 * - parent → child `{ type: 'stop' }`; the child also exits when the parent goes away.
 *
 * Usage (from lib/target.ts): `fork(target-server.js, ['127.0.0.1,127.0.0.2'])`.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listener {
  readonly host: string;
  readonly port: number;
}

/** Sockets of the benchmark's traffic by state, from /proc/net/tcp (Linux only; zeros elsewhere). */
export interface SocketCounts {
  /** TIME_WAIT whose local port is a target port: the server closed first (the intended case). */
  timeWaitServer: number;
  /** TIME_WAIT whose remote port is a target port: the client closed first, holding its ephemeral port. */
  timeWaitClient: number;
  /** Established connections to or from a target port (both ends counted). */
  established: number;
}

export interface TargetStats {
  readonly requests: number;
  readonly cpuMs: number;
  readonly now: SocketCounts;
  readonly peak: SocketCounts;
}

export type TargetMessage =
  | { readonly type: 'ready'; readonly listeners: readonly Listener[] }
  | { readonly type: 'stats'; readonly stats: TargetStats };

const BODY = Buffer.from('ok\n');
const SAMPLE_EVERY_MS = 2000;

const TCP_ESTABLISHED = '01';
const TCP_TIME_WAIT = '06';

function zeroCounts(): SocketCounts {
  return { timeWaitServer: 0, timeWaitClient: 0, established: 0 };
}

/** Counts the states of sockets touching one of `ports` in /proc/net/tcp (IPv4: all traffic is 127.0.0.x). */
async function countSockets(ports: ReadonlySet<number>): Promise<SocketCounts> {
  const counts = zeroCounts();
  let text: string;
  try {
    text = await readFile('/proc/net/tcp', 'utf8');
  } catch {
    return counts;
  }
  for (const line of text.split('\n')) {
    // "  12: 0100007F:9C41 0200007F:1F90 06 ..." — local, remote, state.
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    const remote = fields[2];
    const state = fields[3];
    if (!local || !remote || (state !== TCP_TIME_WAIT && state !== TCP_ESTABLISHED)) continue;
    const localPort = Number.parseInt(local.slice(local.indexOf(':') + 1), 16);
    const remotePort = Number.parseInt(remote.slice(remote.indexOf(':') + 1), 16);
    if (state === TCP_ESTABLISHED) {
      if (ports.has(localPort) || ports.has(remotePort)) counts.established++;
    } else if (ports.has(localPort)) counts.timeWaitServer++;
    else if (ports.has(remotePort)) counts.timeWaitClient++;
  }
  return counts;
}

function listen(server: http.Server, host: string): Promise<Listener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A deep accept queue: the scale benchmark opens up to `concurrency` connections at once.
    server.listen({ host, port: 0, backlog: 4096 }, () => {
      server.off('error', reject);
      resolve({ host, port: (server.address() as AddressInfo).port });
    });
  });
}

async function main(): Promise<void> {
  const hosts = (process.argv[2] ?? '127.0.0.1').split(',').filter(Boolean);
  let requests = 0;
  const handler: http.RequestListener = (req, res) => {
    requests++;
    // Drain any request body so the parser is done with the socket before it closes.
    req.resume();
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': BODY.length,
      connection: 'close',
    });
    res.end(BODY);
  };
  const servers = hosts.map(() => {
    const server = http.createServer({ keepAlive: false }, handler);
    server.keepAliveTimeout = 0;
    return server;
  });
  const listeners = await Promise.all(servers.map((s, i) => listen(s, hosts[i] ?? '127.0.0.1')));
  const ports = new Set(listeners.map((l) => l.port));

  const cpuStart = process.cpuUsage();
  let now = zeroCounts();
  const peak = zeroCounts();
  const sample = async (): Promise<void> => {
    now = await countSockets(ports);
    peak.timeWaitServer = Math.max(peak.timeWaitServer, now.timeWaitServer);
    peak.timeWaitClient = Math.max(peak.timeWaitClient, now.timeWaitClient);
    peak.established = Math.max(peak.established, now.established);
  };
  const timer = setInterval(() => void sample(), SAMPLE_EVERY_MS);

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    if (process.connected) process.disconnect();
  };
  process.on('disconnect', stop);
  process.on('message', (msg: { type?: string }) => {
    if (msg.type === 'stop') stop();
    else if (msg.type === 'stats') {
      void sample().then(() => {
        const cpu = process.cpuUsage(cpuStart);
        const stats: TargetStats = {
          requests,
          cpuMs: (cpu.user + cpu.system) / 1000,
          now,
          peak: { ...peak },
        };
        process.send?.({ type: 'stats', stats } satisfies TargetMessage);
      });
    }
  });
  process.send?.({ type: 'ready', listeners } satisfies TargetMessage);
}

main().catch((err: unknown) => {
  process.stderr.write(`target-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
