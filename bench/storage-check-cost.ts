/**
 * CPU cost of one storage probe check per backend: s3 (PUT + GET + DELETE of `--object-size` bytes,
 * SigV4-signed, SHA-256 compared), redis (connect, PING, SET, GET, DEL) and tcp (connect only).
 * s3rver runs in a child process and redis-server is Debian's, so process.cpuUsage() here is the
 * probe's work only; s3rver's own CPU per check is reported beside it.
 *
 *   npm run build && node dist/bench/storage-check-cost.js [--checks 300] [--warmup 30] [--object-size 1KiB]
 *
 * Checks run one at a time (one check's figures, not a queue's). Prints figures, asserts nothing.
 */
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { CheckContext } from '../probes/probe.js';
import { StorageProbeSpec, storageProbe } from '../probes/storage.js';
import { parseSize } from '../probes/storage/spec.js';
import { startRedisServer } from '../test/helpers/redis-server.js';
import { S3RVER_CREDENTIALS, startS3rver } from '../test/helpers/s3rver.js';

const SERVE_FLAG = '--serve-s3';
const BUCKET = 'bench';
const CHECK_TIMEOUT_MS = 10_000;

type ChildMessage = { type: 'ready'; port: number } | { type: 'cpu'; cpuMs: number };

/** Child side: s3rver on loopback; answers CPU questions over IPC. */
async function serveS3(): Promise<void> {
  const server = await startS3rver({ buckets: [BUCKET] });
  const send = (msg: ChildMessage): void => {
    process.send?.(msg);
  };
  process.on('message', (msg: { type: string }) => {
    if (msg.type === 'cpu') {
      const usage = process.cpuUsage();
      send({ type: 'cpu', cpuMs: (usage.user + usage.system) / 1000 });
    } else if (msg.type === 'stop') {
      void server.stop().then(() => process.exit(0));
    }
  });
  process.on('disconnect', () => void server.stop().then(() => process.exit(0)));
  send({ type: 'ready', port: server.port });
}

class S3Child {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static start(): Promise<S3Child> {
    const child = fork(fileURLToPath(import.meta.url), [SERVE_FLAG], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`s3rver child exited early (code ${code})`)));
      child.on('message', function onReady(msg: ChildMessage) {
        if (msg.type !== 'ready') return;
        child.off('message', onReady);
        resolve(new S3Child(child, msg.port));
      });
    });
  }

  cpuMs(): Promise<number> {
    return new Promise((resolve) => {
      const onMsg = (msg: ChildMessage): void => {
        if (msg.type !== 'cpu') return;
        this.child.off('message', onMsg);
        resolve(msg.cpuMs);
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

interface Row {
  readonly backend: string;
  readonly checks: number;
  readonly failed: number;
  readonly cpuMsPerCheck: number;
  readonly wallMsP50: number;
  readonly wallMsP99: number;
  readonly serverCpuMsPerCheck?: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs `warmup` then `checks` checks of one probe, one at a time, measuring this process's CPU. */
async function measure(
  backend: string,
  raw: Record<string, unknown>,
  checks: number,
  warmup: number,
  serverCpu?: () => Promise<number>,
): Promise<Row> {
  const spec = StorageProbeSpec.parse(raw);
  const targets = storageProbe.targets(spec);
  const once = async (): Promise<{ ok: boolean; detail?: string }> => {
    const ctx: CheckContext = { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS), timeoutMs: CHECK_TIMEOUT_MS };
    const [result] = await storageProbe.run(spec, targets, ctx);
    return { ok: result?.ok ?? false, ...(result?.detail !== undefined ? { detail: result.detail } : {}) };
  };
  for (let i = 0; i < warmup; i++) {
    const r = await once();
    if (!r.ok) throw new Error(`${backend}: warm-up check failed: ${r.detail}`);
  }
  const walls: number[] = [];
  let failed = 0;
  const server0 = serverCpu ? await serverCpu() : 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < checks; i++) {
    const t0 = performance.now();
    if (!(await once()).ok) failed++;
    walls.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const server1 = serverCpu ? await serverCpu() : 0;
  walls.sort((a, b) => a - b);
  return {
    backend,
    checks,
    failed,
    cpuMsPerCheck: (cpu.user + cpu.system) / 1000 / checks,
    wallMsP50: percentile(walls, 50),
    wallMsP99: percentile(walls, 99),
    ...(serverCpu ? { serverCpuMsPerCheck: (server1 - server0) / checks } : {}),
  };
}

function option(args: readonly string[], name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? args[i + 1] : undefined;
  if (i >= 0 && value === undefined) throw new Error(`--${name} needs a value`);
  return value ?? fallback;
}

export async function storageCheckCostBench(args: readonly string[]): Promise<void> {
  const checks = Number(option(args, 'checks', '300'));
  const warmup = Number(option(args, 'warmup', '30'));
  const objectSize = parseSize(option(args, 'object-size', '1KiB'));
  if (!Number.isInteger(checks) || checks < 1 || !Number.isInteger(warmup) || warmup < 0 || objectSize === undefined)
    throw new Error('usage: --checks N (>=1) --warmup N (>=0) --object-size SIZE');

  process.env.TOCSIN_BENCH_S3_ACCESS = S3RVER_CREDENTIALS.accessKeyId;
  process.env.TOCSIN_BENCH_S3_SECRET = S3RVER_CREDENTIALS.secretAccessKey;
  const [s3, redis] = await Promise.all([S3Child.start(), startRedisServer()]);
  try {
    const rows = [
      await measure(
        `s3 (${objectSize} B)`,
        {
          backend: 's3',
          endpoint: `http://127.0.0.1:${s3.port}`,
          bucket: BUCKET,
          access_key_env: 'TOCSIN_BENCH_S3_ACCESS',
          secret_key_env: 'TOCSIN_BENCH_S3_SECRET',
          object_size: objectSize,
        },
        checks,
        warmup,
        () => s3.cpuMs(),
      ),
      await measure('redis', { backend: 'redis', url: redis.url }, checks, warmup),
      await measure('tcp', { backend: 'tcp', address: redis.address }, checks, warmup),
    ];
    const cpus = os.cpus();
    console.log(
      `node ${process.version}, ${os.platform()} ${os.arch()}, ${cpus.length} x ${cpus[0]?.model ?? 'cpu'}; ` +
        `${checks} checks per backend after ${warmup} warm-up, one at a time`,
    );
    console.log('| backend | checks | failed | probe CPU ms/check | wall ms p50 | wall ms p99 | server CPU ms/check |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      const server = r.serverCpuMsPerCheck === undefined ? '(redis-server)' : r.serverCpuMsPerCheck.toFixed(2);
      console.log(
        `| ${r.backend} | ${r.checks} | ${r.failed} | ${r.cpuMsPerCheck.toFixed(3)} | ` +
          `${r.wallMsP50.toFixed(2)} | ${r.wallMsP99.toFixed(2)} | ${server} |`,
      );
    }
  } finally {
    await Promise.all([s3.stop(), redis.stop()]);
  }
}

const invoked = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invoked && process.argv.includes(SERVE_FLAG)) {
  await serveS3();
} else if (invoked) {
  await storageCheckCostBench(process.argv.slice(2));
}
