/**
 * The target of the storm benchmark, run as a child process (`fork`): N apps at `/p/<i>` on one
 * loopback port, which all fail at once when the parent says so, as when the zone they run in is
 * lost. Healthy, it answers `200 ok` with `Connection: close` (as bench/target-server.ts does).
 * Failing modes:
 * - `503`: every request answered `503 Service Unavailable` (the check fails at once);
 * - `refuse`: the server stops listening (connection refused);
 * - `hang`: connections accepted, never answered (every check runs into its timeout).
 *
 * Protocol (IPC messages):
 * - child → parent `{ type: 'ready', port }`;
 * - parent → child `{ type: 'mode', mode }`, answered `{ type: 'mode', mode }` once applied;
 * - parent → child `{ type: 'stats' }`, answered `{ type: 'stats', stats: StormTargetStats }`;
 * - parent → child `{ type: 'stop' }`; the child also exits when the parent goes away.
 *
 * Usage (from bench/storm.ts): `fork(storm-target.js, [String(apps)])`.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type StormMode = 'ok' | '503' | 'refuse' | 'hang';

export interface StormTargetStats {
  /** Requests received (answered or not). */
  readonly requests: number;
  /** Apps (paths `/p/<i>`) answered `200` at least once. */
  readonly appsOk: number;
  readonly mode: StormMode;
}

export type StormTargetMessage =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'mode'; readonly mode: StormMode }
  | { readonly type: 'stats'; readonly stats: StormTargetStats };

const OK = Buffer.from('ok\n');
const DOWN = Buffer.from('zone unavailable\n');

function main(): void {
  const apps = Math.max(1, Number(process.argv[2] ?? '1'));
  const seenOk = new Uint8Array(apps);
  let appsOk = 0;
  let requests = 0;
  let mode: StormMode = 'ok';
  let port = 0;
  const sockets = new Set<Socket>();
  const hung = new Set<http.ServerResponse>();

  const server = http.createServer({ keepAlive: false }, (req, res) => {
    requests++;
    req.resume();
    if (mode === 'hang') {
      hung.add(res);
      res.once('close', () => hung.delete(res));
      return;
    }
    const healthy = mode === 'ok';
    if (healthy) {
      const i = Number(/^\/p\/(\d+)/.exec(req.url ?? '')?.[1] ?? Number.NaN);
      if (i >= 0 && i < apps && seenOk[i] === 0) {
        seenOk[i] = 1;
        appsOk++;
      }
    }
    const body = healthy ? OK : DOWN;
    res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain', 'content-length': body.length, connection: 'close' });
    res.end(body);
  });
  server.keepAliveTimeout = 0;
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port, backlog: 4096 }, () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });

  const setMode = async (next: StormMode): Promise<void> => {
    const wasListening = mode !== 'refuse';
    mode = next;
    if (next === 'refuse' && wasListening) {
      // Stop accepting at once (close() alone would only stop after the last connection).
      server.close();
      for (const s of sockets) s.destroy();
    } else if (next !== 'refuse' && !wasListening) {
      await listen();
    }
    if (next !== 'hang') {
      for (const res of hung) res.destroy();
      hung.clear();
    }
  };

  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    server.close();
    for (const s of sockets) s.destroy();
    if (process.connected) process.disconnect();
  };
  process.on('disconnect', stop);
  process.on('message', (msg: { type?: string; mode?: StormMode }) => {
    if (msg.type === 'stop') stop();
    else if (msg.type === 'mode' && msg.mode) {
      const wanted = msg.mode;
      void setMode(wanted).then(() => process.send?.({ type: 'mode', mode: wanted } satisfies StormTargetMessage));
    } else if (msg.type === 'stats') {
      process.send?.({ type: 'stats', stats: { requests, appsOk, mode } } satisfies StormTargetMessage);
    }
  });
  listen().then(
    () => process.send?.({ type: 'ready', port } satisfies StormTargetMessage),
    (err: unknown) => {
      process.stderr.write(`storm-target: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

main();
