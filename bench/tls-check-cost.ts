/**
 * CPU cost of one tls probe check (`tlsProbe.run`: TCP connect, full handshake, chain inspection,
 * verification, expectations), by the server's key type: RSA 2048, RSA 4096 (seed S2's regenerated
 * certificates) and EC P-256, beside a bare `tls.connect` to the same server in the same run: the
 * floor a verifying client pays (a SecureContext shared as the probe shares its own, node:tls's own
 * verification and name check, ALPN offered, closed cleanly). The TLS server runs in a child
 * process, so process.cpuUsage() here is the client's work only; the server's own CPU per handshake
 * is reported beside it. `--before PATH` adds another build's probe (PATH: its repository root,
 * built) to the same rounds.
 *
 *   npm run build && npm run bench -- tls-cost [--checks 500] [--rounds 10] [--warmup 50] [--before PATH]
 *
 * Checks run one at a time (a handshake's figures, not a queue's), every row a block of checks per
 * round, rows in a rotating order; CPU per check is the median of the rounds, and "vs bare" the
 * median of each round's ratio to the bare client of the same key in the same round (the machine's
 * load drifts less within a round than over a run). Prints figures, asserts nothing.
 */
import { setMaxListeners } from 'node:events';
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as thisSpec from '../probes/shared/tls-spec.js';
import * as thisProbe from '../probes/tls.js';
import { peerCertificates } from '../probes/tls/chain.js';
import { DEFAULT_ALPN_PROTOCOLS } from '../probes/tls/spec.js';
import { createTestPki, type KeyType } from '../test/helpers/certs.js';
import { checkOptions, numberOption } from './lib/args.js';
import { textOption } from './lib/options.js';
import { cpuMsSince, machineLine } from './lib/process-stats.js';
import { fmt, fmtInt, percentile, Samples, sortedCopy } from './lib/stats.js';
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

type ProbeModule = typeof thisProbe;
type SpecModule = typeof thisSpec;

/** A build's tls probe: this one's, or another's loaded from `--before`. */
interface ProbeBuild {
  readonly name: string;
  readonly probe: ProbeModule;
  readonly spec: SpecModule;
}

async function loadBuild(root: string): Promise<ProbeBuild> {
  const load = <T>(path: string): Promise<T> => import(pathToFileURL(join(resolve(root), 'dist', path)).href) as Promise<T>;
  return {
    name: `before (${root})`,
    probe: await load<ProbeModule>('probes/tls.js'),
    spec: await load<SpecModule>('probes/shared/tls-spec.js'),
  };
}

/**
 * A build's check of `target` as the queue runs it (the spec parsed once, as a plan holds it: the
 * probe keeps one SecureContext per `tls` block); it returns the handshake time, undefined on failure.
 */
function probeCheck(build: ProbeBuild, ca: string, target: string): () => Promise<number | undefined> {
  const spec = { ...build.probe.TlsProbeSpec.parse({ targets: [target] }), tls: build.spec.TlsSpec.parse({ ca }) };
  // One stop signal for every check, as the queues hand it (the deadline is the probe's own timer):
  // an AbortSignal.timeout per check would charge the probe's row a timer and a signal the daemon
  // never makes.
  const ctx = { signal: new AbortController().signal, timeoutMs: CHECK_TIMEOUT_MS };
  setMaxListeners(0, ctx.signal);
  return async () => {
    const [result] = await build.probe.tlsProbe.run(spec, [target], ctx);
    const timings = result?.observations?.timings as Record<string, number> | undefined;
    return result?.ok ? timings?.handshake : undefined;
  };
}

/**
 * The floor: a bare `tls.connect` verified by node:tls (chain and name, which reads the peer's chain
 * once), offering the probe's ALPN protocols, over a SecureContext made once as the probe's is, and
 * closed cleanly as the probe closes. Its time includes the TCP connect; nothing else is read.
 */
function bareHandshake(port: number, context: tls.SecureContext): Promise<number | undefined> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      secureContext: context,
      servername: '',
      ALPNProtocols: DEFAULT_ALPN_PROTOCOLS,
    });
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
  /** The bare tls.connect row, the floor the others of the same key are compared with. */
  readonly bare: boolean;
  readonly check: () => Promise<number | undefined>;
}

interface Tally {
  checks: number;
  errors: number;
  serverCpuMs: number;
  wallMs: number;
  /** Client CPU-ms per check, one per round. */
  readonly rounds: number[];
  /** This round's CPU per check over the bare client's of the same key, one per round. */
  readonly ratios: number[];
  readonly handshakeMs: Samples;
}

function median(values: readonly number[]): number {
  return percentile(sortedCopy(values), 50);
}

export async function tlsCheckCostBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['checks', 'rounds', 'warmup', 'before']);
  const checks = numberOption(args, 'checks', 500);
  const rounds = Math.round(numberOption(args, 'rounds', 10));
  const warmup = numberOption(args, 'warmup', 50, 0);
  const beforeRoot = textOption(args, 'before');
  const perRound = Math.ceil(checks / rounds);

  process.stdout.write(
    `\n## tls-check-cost: CPU per tls probe check vs a bare tls.connect, ${perRound * rounds} checks per row in ${rounds} interleaved rounds, one at a time\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const builds: ProbeBuild[] = [{ name: 'tlsProbe.run', probe: thisProbe, spec: thisSpec }];
  if (beforeRoot !== undefined) builds.push(await loadBuild(beforeRoot));

  const pki = await createTestPki();
  let server: ServerProcess | undefined;
  try {
    const specs: ServerSpec[] = [];
    for (const keyType of KEY_TYPES) {
      const pair = await pki.issue(keyType, { keyType });
      specs.push({ keyType, certFile: pair.certFile, keyFile: pair.keyFile });
    }
    server = await ServerProcess.start(specs);
    const ports = server.ports;
    const ca = pki.ca.cert;
    const context = tls.createSecureContext({ ca });
    const rows: Row[] = KEY_TYPES.flatMap((keyType): Row[] => {
      const port = ports[keyType] ?? 0;
      const target = `127.0.0.1:${port}`;
      return [
        ...builds.map((build) => ({
          name: `${build.name}, ${keyType}`,
          keyType,
          bare: false,
          check: probeCheck(build, ca, target),
        })),
        { name: `bare tls.connect, ${keyType}`, keyType, bare: true, check: () => bareHandshake(port, context) },
      ];
    });
    const tallies = new Map<Row, Tally>(
      rows.map((row) => [
        row,
        { checks: 0, errors: 0, serverCpuMs: 0, wallMs: 0, rounds: [], ratios: [], handshakeMs: new Samples() },
      ]),
    );

    // Warm-up: JIT, module loading, OpenSSL's first contexts and the certificate cache stay out of
    // the figures (a daemon has seen its targets' chains after the first interval).
    for (const row of rows) {
      for (let i = 0; i < warmup; i++) await row.check();
    }
    const parsedBefore = peerCertificates.parsed;

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
        tally.rounds.push(clientCpuMs / perRound);
        tally.serverCpuMs += serverAfter.cpuMs - serverBefore.cpuMs;
        tally.wallMs += wallMs;
      }
      for (const row of rows) {
        const bare = rows.find((r) => r.bare && r.keyType === row.keyType);
        const mine = tallies.get(row)?.rounds[round];
        const floor = bare && tallies.get(bare)?.rounds[round];
        if (!row.bare && mine !== undefined && floor) tallies.get(row)?.ratios.push(mine / floor);
      }
    }

    printTable(
      [
        'client, server key',
        'checks',
        'errors',
        'client CPU-ms/check (median round)',
        'min–max round',
        'vs bare (median)',
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
          fmt(median(t.rounds), 3),
          `${fmt(Math.min(...t.rounds), 2)}–${fmt(Math.max(...t.rounds), 2)}`,
          row.bare ? '' : `${fmt(median(t.ratios), 2)}x`,
          fmt(t.serverCpuMs / t.checks, 3),
          fmt(percentile(hs, 50), 2),
          fmt(percentile(hs, 95), 2),
          fmt(t.wallMs / t.checks, 2),
        ];
      }),
    );
    process.stdout.write(
      'handshake: the probe\'s timings.handshake (TCP connect excluded); for the bare client, connect + handshake.\n' +
        `certificates parsed by this build's probe during the rounds: ${fmtInt(peerCertificates.parsed - parsedBefore)} ` +
        `(each distinct certificate is parsed once; ${fmtInt(peerCertificates.size)} kept)\n`,
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
