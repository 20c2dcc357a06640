/**
 * CPU cost of one tls probe check (`tlsProbe.run`: TCP connect, full handshake, chain inspection,
 * verification, expectations), by the server's key type: RSA 2048, RSA 4096 (seed S2's regenerated
 * certificates) and EC P-256. The TLS server runs in a child process, so process.cpuUsage() here is
 * the probe's work only; the server's own CPU per handshake is reported beside it.
 *
 *   npm run build && node dist/bench/tls-check-cost.js [--checks 500] [--rounds 3] [--warmup 50]
 *
 * Checks run one at a time (a handshake's figures, not a queue's). Prints figures, asserts nothing.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TlsSpec } from '../probes/shared/tls-spec.js';
import { TlsProbeSpec, tlsProbe } from '../probes/tls.js';
import { createTestPki, type KeyType } from '../test/helpers/certs.js';
import { checkOptions, numberOption } from './lib/args.js';
import { cpuMsSince, machineLine } from './lib/process-stats.js';
import { fmt, fmtInt, percentile, Samples } from './lib/stats.js';
import { printTable } from './lib/table.js';

const KEY_TYPES: readonly KeyType[] = ['rsa2048', 'rsa4096', 'ec-p256'];
const CHECK_TIMEOUT_MS = 10_000;
const SERVE_FLAG = '--serve-tls';

interface ServerSpec {
  readonly keyType: KeyType;
  readonly certFile: string;
  readonly keyFile: string;
}

type ServerMessage =
  | { type: 'ready'; ports: Record<string, number> }
  | { type: 'cpu'; cpuMs: number; handshakes: number };

/** Child side: one TLS server per key type on loopback; answers CPU questions over IPC. */
async function serve(specs: readonly ServerSpec[]): Promise<void> {
  let handshakes = 0;
  const servers: tls.Server[] = [];
  const ports: Record<string, number> = {};
  for (const spec of specs) {
    const server = tls.createServer(
      { cert: readFileSync(spec.certFile), key: readFileSync(spec.keyFile), ALPNProtocols: ['h2', 'http/1.1'] },
      (socket) => {
        handshakes++;
        socket.on('error', () => undefined);
        socket.resume();
      },
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[spec.keyType] = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  const send = (msg: ServerMessage): void => {
    process.send?.(msg);
  };
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', cpuMs: (usage.user + usage.system) / 1000, handshakes });
    } else if (msg.type === 'stop') {
      for (const server of servers) server.close();
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', ports });
}

/** Parent side of the child server. */
class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly ports: Record<string, number>,
  ) {}

  static start(specs: readonly ServerSpec[]): Promise<ServerProcess> {
    const script = fileURLToPath(import.meta.url);
    const child = fork(script, [SERVE_FLAG, JSON.stringify(specs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise<ServerProcess>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`tls server exited early (code ${code})`)));
      child.on('message', function onReady(msg: ServerMessage) {
        if (msg.type !== 'ready') return;
        child.off('message', onReady);
        resolve(new ServerProcess(child, msg.ports));
      });
    });
  }

  /** The child's CPU so far (ms) and handshakes completed. */
  cpu(): Promise<{ cpuMs: number; handshakes: number }> {
    return new Promise((resolve) => {
      const onMsg = (msg: ServerMessage): void => {
        if (msg.type !== 'cpu') return;
        this.child.off('message', onMsg);
        resolve(msg);
      };
      this.child.on('message', onMsg);
      this.child.send({ type: 'cpu' });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ type: 'stop' });
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(killer);
  }
}

interface Tally {
  checks: number;
  errors: number;
  clientCpuMs: number;
  serverCpuMs: number;
  wallMs: number;
  bestClientCpuPerCheck: number;
  readonly handshakeMs: Samples;
}

/** One check as the queue runs it; returns the handshake time, or undefined when it failed. */
async function probeCheck(spec: Parameters<typeof tlsProbe.run>[0], target: string): Promise<number | undefined> {
  const [result] = await tlsProbe.run(spec, [target], {
    signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    timeoutMs: CHECK_TIMEOUT_MS,
  });
  const timings = result?.observations?.timings as Record<string, number> | undefined;
  return result?.ok ? timings?.handshake : undefined;
}

/**
 * The floor: a bare `tls.connect` with the same CA, verified by node:tls, closed at once (connect
 * included in its time, no chain inspection). What the probe adds is the difference.
 */
function bareHandshake(port: number, ca: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = tls.connect({ host: '127.0.0.1', port, ca, servername: '' });
    socket.once('secureConnect', () => {
      socket.destroySoon();
      resolve(performance.now() - t0);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(undefined);
    });
  });
}

/** One row of the table: a client and the server key it talks to. */
interface Row {
  readonly name: string;
  readonly keyType: KeyType;
  readonly check: () => Promise<number | undefined>;
}

export async function tlsCheckCostBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['checks', 'rounds', 'warmup']);
  const checks = numberOption(args, 'checks', 500);
  const rounds = numberOption(args, 'rounds', 3);
  const warmup = numberOption(args, 'warmup', 50);
  const perRound = Math.ceil(checks / rounds);

  process.stdout.write(
    `\n## tls-check-cost: CPU per tls probe check, ${perRound * rounds} checks per key type in ${rounds} interleaved rounds, one at a time\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const pki = await createTestPki();
  let server: ServerProcess | undefined;
  try {
    const specs: ServerSpec[] = [];
    for (const keyType of KEY_TYPES) {
      const pair = await pki.issue(keyType, { keyType });
      specs.push({ keyType, certFile: pair.certFile, keyFile: pair.keyFile });
    }
    server = await ServerProcess.start(specs);
    const probeSpec = {
      ...TlsProbeSpec.parse({ targets: ['127.0.0.1:1'] }),
      tls: TlsSpec.parse({ ca: pki.ca.cert }),
    };
    const ports = server.ports;
    const targetOf = (keyType: KeyType): string => `127.0.0.1:${ports[keyType] ?? 0}`;
    const rows: Row[] = [
      ...KEY_TYPES.map((keyType) => ({
        name: `tlsProbe.run, ${keyType}`,
        keyType,
        check: () => probeCheck(probeSpec, targetOf(keyType)),
      })),
      { name: 'bare tls.connect, rsa2048', keyType: 'rsa2048', check: () => bareHandshake(ports.rsa2048 ?? 0, pki.ca.cert) },
    ];
    const tallies = new Map<Row, Tally>(
      rows.map((row) => [
        row,
        {
          checks: 0,
          errors: 0,
          clientCpuMs: 0,
          serverCpuMs: 0,
          wallMs: 0,
          bestClientCpuPerCheck: Infinity,
          handshakeMs: new Samples(),
        },
      ]),
    );

    // Warm-up: JIT, module loading and OpenSSL's first contexts stay out of the figures.
    for (const row of rows) {
      for (let i = 0; i < warmup; i++) await row.check();
    }

    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no row always runs first.
      for (let k = 0; k < rows.length; k++) {
        const row = rows[(round + k) % rows.length];
        const tally = row && tallies.get(row);
        if (!row || !tally) continue;
        const serverBefore = await server.cpu();
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        for (let i = 0; i < perRound; i++) {
          const handshake = await row.check();
          if (handshake === undefined) tally.errors++;
          else tally.handshakeMs.push(handshake);
        }
        const wallMs = performance.now() - t0;
        const clientCpuMs = cpuMsSince(cpu);
        const serverAfter = await server.cpu();
        tally.checks += perRound;
        tally.clientCpuMs += clientCpuMs;
        tally.serverCpuMs += serverAfter.cpuMs - serverBefore.cpuMs;
        tally.wallMs += wallMs;
        tally.bestClientCpuPerCheck = Math.min(tally.bestClientCpuPerCheck, clientCpuMs / perRound);
      }
    }

    printTable(
      [
        'client, server key',
        'checks',
        'errors',
        'client CPU-ms/check',
        'best round',
        'server CPU-ms/check',
        'handshake p50 ms',
        'handshake p95 ms',
        'wall ms/check',
      ],
      rows.map((row) => {
        const t = tallies.get(row);
        if (!t) return [row.name];
        const hs = t.handshakeMs.sorted();
        return [
          row.name,
          fmtInt(t.checks),
          fmtInt(t.errors),
          fmt(t.clientCpuMs / t.checks, 3),
          fmt(t.bestClientCpuPerCheck, 3),
          fmt(t.serverCpuMs / t.checks, 3),
          fmt(percentile(hs, 50), 2),
          fmt(percentile(hs, 95), 2),
          fmt(t.wallMs / t.checks, 2),
        ];
      }),
    );
    process.stdout.write(
      'handshake: the probe\'s timings.handshake (TCP connect excluded); for the bare client, connect + handshake.\n',
    );
  } finally {
    await server?.stop();
    await pki.cleanup();
  }
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const args = process.argv.slice(2);
  const run =
    args[0] === SERVE_FLAG ? serve(JSON.parse(args[1] ?? '[]') as ServerSpec[]) : tlsCheckCostBench(args);
  run.catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
