/**
 * The idle daemon's memory, as a user starts it: `node bin/tocsin.js run` with the default
 * config (config/ copied to a temporary folder: tocsin.yml and checks.d/, three probes of the
 * daemon's own API; only the listen port is changed to a free one; the SQLite file lands there too), RSS read from
 * /proc/<pid>/status after it has run for `--settle` seconds. `--before PATH` runs another build's
 * bin/tocsin.js in the same run, interleaved (one of each per round). `--heap-snapshot DIR` also
 * has the last round's daemons write a heap snapshot (node --heapsnapshot-signal, SIGUSR2) for
 * `bench heap-summary`.
 *
 *   npm run bench -- idle [--runs 3] [--settle 15] [--before /tmp/before/bin/tocsin.js] [--heap-snapshot DIR]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { checkOptions, numberOption } from './lib/args.js';
import { exitOf } from './lib/child.js';
import { freePort, poll, request, sleep, TOCSIN_BIN } from './lib/harness.js';
import { textOption } from './lib/options.js';
import { procMemoryMB } from './lib/proc.js';
import { machineLine } from './lib/process-stats.js';
import { fmt, percentile, sortedCopy } from './lib/stats.js';
import { printTable } from './lib/table.js';

const DEFAULT_CONFIG = join(TOCSIN_BIN, '..', '..', 'config', 'tocsin.yml');
const READY_TIMEOUT_MS = 30_000;
const SNAPSHOT_TIMEOUT_MS = 60_000;

interface IdleRun {
  readonly rssMB: number;
  readonly snapshot?: string;
}

/**
 * The default config folder copied (its includes, checks.d/, come along), tocsin.yml listening on
 * `port` instead of 9470 (which may be taken on this machine).
 */
function configOn(dir: string, port: number): string {
  cpSync(dirname(DEFAULT_CONFIG), join(dir, 'config'), { recursive: true });
  const text = readFileSync(DEFAULT_CONFIG, 'utf8').replace(/listen: 127\.0\.0\.1:9470/, `listen: 127.0.0.1:${port}`);
  if (!text.includes(`:${port}`)) throw new Error(`${DEFAULT_CONFIG}: no "listen: 127.0.0.1:9470" line to change`);
  const file = join(dir, 'config', 'tocsin.yml');
  writeFileSync(file, text);
  return file;
}

/** A file that has stopped growing (two looks 200 ms apart) and is not empty. */
async function settledSize(file: string): Promise<boolean> {
  const a = statSync(file).size;
  await sleep(200);
  return a > 0 && statSync(file).size === a;
}

async function idleOnce(bin: string, settleMs: number, snapshotDir: string | undefined): Promise<IdleRun> {
  const dir = mkdtempSync(join(os.tmpdir(), 'tocsin-idle-'));
  const port = await freePort();
  const config = configOn(dir, port);
  const flags = snapshotDir ? ['--heapsnapshot-signal=SIGUSR2'] : [];
  // The config's store path (data/tocsin.db) is relative: it lands in the temporary folder.
  const child: ChildProcess = spawn(process.execPath, [...flags, bin, 'run', '--config', config], {
    cwd: dir,
    stdio: 'ignore',
  });
  try {
    await poll('the daemon answering /healthz', READY_TIMEOUT_MS, async () => {
      const r = await request('GET', `http://127.0.0.1:${port}/healthz`, { timeoutMs: 1000 });
      return r.answered && r.status === 200 ? true : undefined;
    });
    await sleep(settleMs);
    const mem = procMemoryMB(child.pid ?? -1);
    if (!mem) throw new Error(`${bin}: the daemon exited while idle`);
    let snapshot: string | undefined;
    if (snapshotDir) {
      child.kill('SIGUSR2');
      // Node writes Heap.*.heapsnapshot into the daemon's working folder, then the daemon goes on.
      const written = await poll('the heap snapshot', SNAPSHOT_TIMEOUT_MS, async () => {
        const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
        return file && (await settledSize(join(dir, file))) ? file : undefined;
      });
      snapshot = join(snapshotDir, `idle-${process.hrtime.bigint()}-${written}`);
      copyFileSync(join(dir, written), snapshot);
    }
    return { rssMB: mem.rssMB, snapshot };
  } finally {
    child.kill('SIGTERM');
    await exitOf(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function idleBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['runs', 'settle', 'before', 'heap-snapshot']);
  const runs = Math.round(numberOption(args, 'runs', 3));
  const settleMs = numberOption(args, 'settle', 15) * 1000;
  const before = textOption(args, 'before');
  if (before !== undefined && !statSync(before, { throwIfNoEntry: false })?.isFile()) {
    throw new Error(`--before ${before}: not a file; give another build's bin/tocsin.js`);
  }
  const snapshotDir = textOption(args, 'heap-snapshot');
  const builds = [...(before ? [{ name: `before (${before})`, bin: before }] : []), { name: 'this build', bin: TOCSIN_BIN }];
  process.stdout.write(
    `\n## idle: tocsin run with config/tocsin.yml (3 probes), RSS after ${settleMs / 1000} s, ${runs} runs per build, interleaved\n${machineLine()}\n`,
  );
  const rss = new Map<string, number[]>(builds.map((b) => [b.name, []]));
  const snapshots: string[] = [];
  for (let round = 0; round < runs; round++) {
    for (const b of builds) {
      const last = round === runs - 1;
      const r = await idleOnce(b.bin, settleMs, last ? snapshotDir : undefined);
      rss.get(b.name)?.push(r.rssMB);
      if (r.snapshot) snapshots.push(`${b.name}: ${r.snapshot}`);
      process.stderr.write(`  round ${round + 1} ${b.name}: ${fmt(r.rssMB, 1)} MB\n`);
    }
  }
  printTable(
    ['build', 'RSS per run (MB)', 'median', 'target'],
    builds.map((b) => {
      const all = rss.get(b.name) ?? [];
      return [b.name, all.map((v) => fmt(v, 1)).join(' / '), `${fmt(percentile(sortedCopy(all), 50), 1)} MB`, '≤ 80 MB'];
    }),
  );
  for (const s of snapshots) process.stdout.write(`heap snapshot, ${s}\n`);
}
