/**
 * `tocsin replay` end to end, as users run it: the built CLI as a child process
 * (`node bin/tocsin.js replay --config F --events F`), YAML loading, reading and parsing the
 * JSON-lines events and printing the incidents included. The config and the events are generated
 * into a temporary directory before each child starts (not timed). Cases:
 * - `mixed`: about 10,000 series (1,000 tls probes × 2 targets × 5 vantages, every 30 s) under
 *   hypervisors and zones, with churn: a hypervisor lost, whole components down, one target of a
 *   probe down from a majority of vantages, probes failing from one vantage only (a minority),
 *   intermittent probes and single failed checks;
 * - `storm N` and `healthy N`: N apps (one http probe each, 3 vantages, every 30 s, 20 minutes)
 *   all depending on one zone; in the storm every app fails from minute 5 to minute 15, the
 *   healthy stream has the same events with nothing failing. The ratio storm/healthy is the cost
 *   of the outage itself (target ≤ 2x).
 * Measured for each child: wall time (events/s = events / wall seconds, so Node's start-up and
 * the config load count), CPU-seconds and peak RSS (from /usr/bin/time). The output is parsed and
 * checked, never asserted: a storm must give 1 incident rooted at the zone listing every app.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { numberOption, UsageError } from './lib/args.js';
import { intListOption, splitFlags } from './lib/options.js';
import { ProcSampler } from './lib/proc.js';
import { machineLine } from './lib/process-stats.js';
import { TOCSIN_BIN } from './lib/prometheus-stack.js';
import { fmt, fmtInt } from './lib/stats.js';
import { printTable } from './lib/table.js';
import { prng } from './lib/prng.js';

const TIME_BIN = process.env.TIME_BIN ?? '/usr/bin/time';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const INTERVAL_MS = 30_000;
const ZONE = 'zone-a';
/** The issue's target: a storm costs at most twice the same stream with nothing failing. */
const TARGET_RATIO = 2;

// The mixed stream's layout.
const MIX_TARGETS = 2;
const MIX_VANTAGES = 5;
const PROBES_PER_COMPONENT = 2;
const COMPONENTS_PER_HV = 25;
const ZONES = 4;
/** Fewer rounds leave no room for the episodes (the intermittent one lasts 20 rounds). */
const MIN_ROUNDS = 40;

// The storms.
const STORM_VANTAGES = 3;
const STORM_MINUTES = 20;
const STORM_FROM_MIN = 5;
const STORM_TO_MIN = 15;

/** A random order of 0..n-1: where each check lands in its round, so timestamps are mostly distinct. */
function permutation(n: number, rnd: () => number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = p[i] ?? 0;
    p[i] = p[j] ?? 0;
    p[j] = t;
  }
  return p;
}

/** Writes lines to a file in large chunks (millions of lines, no per-line write). */
class LineWriter {
  readonly #fd: number;
  #lines: string[] = [];
  count = 0;

  constructor(file: string) {
    this.#fd = openSync(file, 'w');
  }

  push(line: string): void {
    this.#lines.push(line);
    this.count++;
    if (this.#lines.length >= 20_000) this.flush();
  }

  flush(): void {
    if (this.#lines.length > 0) writeSync(this.#fd, `${this.#lines.join('\n')}\n`);
    this.#lines = [];
  }

  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

const okLine = (at: string, probe: string, target: string, vantage: string, ms: number): string =>
  `{"at":"${at}","probe":"${probe}","target":"${target}","vantage":"${vantage}","ok":true,"duration_ms":${ms}}`;
const failLine = (at: string, probe: string, target: string, vantage: string): string =>
  `{"at":"${at}","probe":"${probe}","target":"${target}","vantage":"${vantage}","ok":false,"duration_ms":5000,` +
  '"error":"timeout","detail":"connect: no answer within 5000 ms"}';

const vantageNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);

// ---------------------------------------------------------------------------------------------
// The mixed stream

/** When a probe fails: rounds [from, to), on some targets and vantages (all when absent). */
interface Episode {
  readonly from: number;
  readonly to: number;
  readonly targets?: ReadonlySet<number>;
  readonly vantages?: ReadonlySet<number>;
  /** Intermittent: whether the probe fails in each round of the episode (every vantage and target alike). */
  readonly rounds?: Uint8Array;
}

interface MixedPlan {
  readonly probes: number;
  readonly components: number;
  readonly hypervisors: number;
  readonly rounds: number;
  readonly episodes: readonly (readonly Episode[])[];
  /** Episodes that should open an incident each, and those that should open none. */
  readonly counts: {
    hypervisor: number;
    components: number;
    probeTarget: number;
    intermittent: number;
    minority: number;
  };
}

export function mixedPlan(probes: number, events: number): MixedPlan {
  const components = Math.ceil(probes / PROBES_PER_COMPONENT);
  const hypervisors = Math.ceil(components / COMPONENTS_PER_HV);
  const series = probes * MIX_TARGETS * MIX_VANTAGES;
  const rounds = Math.ceil(events / series);
  if (rounds < MIN_ROUNDS) {
    throw new UsageError(
      `--events ${events} gives ${rounds} rounds of ${fmtInt(series)} series; the mixed stream needs at least ${MIN_ROUNDS} (--events ≥ ${fmtInt(MIN_ROUNDS * series)}, or fewer --probes)`,
    );
  }
  const rnd = prng(7);
  const episodes: Episode[][] = Array.from({ length: probes }, () => []);
  const componentOf = (p: number): number => Math.floor(p / PROBES_PER_COMPONENT);
  const hvOf = (c: number): number => Math.floor(c / COMPONENTS_PER_HV);
  const busy = new Set<number>();
  const span = (minLen: number, maxLen: number): { from: number; to: number } => {
    const len = minLen + Math.floor(rnd() * (maxLen - minLen + 1));
    // Ends at least 4 rounds before the end: the recovery (2 healthy checks) is in the stream.
    const from = Math.floor(rounds * 0.1) + Math.floor(rnd() * Math.max(1, rounds * 0.9 - len - 4));
    return { from, to: from + len };
  };
  const pickProbe = (): number => {
    for (;;) {
      const p = Math.floor(rnd() * probes);
      if (!busy.has(p)) {
        busy.add(p);
        return p;
      }
    }
  };

  // A hypervisor lost (the second one, or the only one): every probe of every component on it.
  const lostHv = Math.min(1, hypervisors - 1);
  const hvFrom = Math.floor(rounds * 0.3);
  for (let p = 0; p < probes; p++) {
    if (hvOf(componentOf(p)) !== lostHv) continue;
    episodes[p]?.push({ from: hvFrom, to: hvFrom + 10 });
    busy.add(p);
  }
  // Whole components down (every probe, target and vantage): 1 % of them.
  const downComponents = Math.max(2, Math.round(components * 0.01));
  let placed = 0;
  for (let tries = 0; placed < downComponents && tries < 10 * components; tries++) {
    const c = Math.floor(rnd() * components);
    const own = Array.from({ length: PROBES_PER_COMPONENT }, (_, i) => c * PROBES_PER_COMPONENT + i)
      .filter((p) => p < probes);
    if (own.some((p) => busy.has(p))) continue;
    const s = span(4, 15);
    for (const p of own) {
      episodes[p]?.push(s);
      busy.add(p);
    }
    placed++;
  }
  // One target of a probe down, seen from 3 of 5 vantages (a majority): partial outage, 1 %.
  const probeTarget = Math.max(2, Math.round(probes * 0.01));
  for (let i = 0; i < probeTarget; i++) {
    episodes[pickProbe()]?.push({ ...span(4, 12), targets: new Set([0]), vantages: new Set([0, 1, 2]) });
  }
  // Failing from one vantage only (the prober's network): opens nothing, 2 %.
  const minority = Math.max(2, Math.round(probes * 0.02));
  for (let i = 0; i < minority; i++) {
    episodes[pickProbe()]?.push({ ...span(5, 30), vantages: new Set([Math.floor(rnd() * MIX_VANTAGES)]) });
  }
  // Intermittent: 3 checks of 5 fail (fail, fail, ok, fail, ok, never 3 in a row) for 20 rounds,
  // from every vantage: one incident each, 0.5 % of the probes.
  const intermittent = Math.max(1, Math.round(probes * 0.005));
  const pattern = [1, 1, 0, 1, 0];
  for (let i = 0; i < intermittent; i++) {
    const s = span(20, 20);
    const phase = Math.floor(rnd() * pattern.length);
    const r = Uint8Array.from({ length: s.to - s.from }, (_, k) => pattern[(k + phase) % pattern.length] ?? 0);
    episodes[pickProbe()]?.push({ ...s, rounds: r });
  }
  return {
    probes,
    components,
    hypervisors,
    rounds,
    episodes,
    counts: { hypervisor: 1, components: placed, probeTarget, intermittent, minority },
  };
}

export function mixedConfig(plan: MixedPlan): string {
  const out = [
    '# Generated by bench/replay.ts: the mixed stream.',
    `queue: { kind: bullmq, redis_url: "redis://127.0.0.1:6379/0", vantages: [${vantageNames(MIX_VANTAGES).join(', ')}] }`,
    'components:',
  ];
  for (let z = 0; z < ZONES; z++) out.push(`  - { id: zone${z}, name: Zone ${z}, group: Infrastructure, region: ${z % 2 ? 'RBX' : 'PAR'} }`);
  for (let h = 0; h < plan.hypervisors; h++) {
    const z = h % ZONES;
    out.push(`  - { id: hv${h}, name: Hypervisor hv${h}, group: Infrastructure, region: ${z % 2 ? 'RBX' : 'PAR'}, depends_on: [zone${z}] }`);
  }
  for (let c = 0; c < plan.components; c++) {
    const h = Math.floor(c / COMPONENTS_PER_HV);
    out.push(`  - { id: app${c}, name: App ${c}, group: Apps, region: ${(h % ZONES) % 2 ? 'RBX' : 'PAR'}, depends_on: [hv${h}] }`);
  }
  out.push('probes:');
  for (let p = 0; p < plan.probes; p++) {
    const c = Math.floor(p / PROBES_PER_COMPONENT);
    const targets = Array.from({ length: MIX_TARGETS }, (_, t) => `"p${p}-${t}.bench:443"`).join(', ');
    out.push(`  - { id: p${p}, kind: tls, component: app${c}, targets: [${targets}], interval: 30s, timeout: 5s }`);
  }
  return `${out.join('\n')}\n`;
}

function failing(episodes: readonly Episode[], k: number, t: number, v: number): boolean {
  for (const e of episodes) {
    if (k < e.from || k >= e.to) continue;
    if (e.targets && !e.targets.has(t)) continue;
    if (e.vantages && !e.vantages.has(v)) continue;
    if (e.rounds && e.rounds[k - e.from] !== 1) continue;
    return true;
  }
  return false;
}

/** Writes the mixed stream; returns the number of events (exactly `events`). */
export function writeMixedEvents(file: string, plan: MixedPlan, events: number): number {
  const rnd = prng(13);
  const vantages = vantageNames(MIX_VANTAGES);
  const units = plan.probes * MIX_VANTAGES;
  const order = permutation(units, rnd);
  const targets = Array.from({ length: plan.probes }, (_, p) => Array.from({ length: MIX_TARGETS }, (_, t) => `p${p}-${t}.bench:443`));
  const w = new LineWriter(file);
  try {
    for (let k = 0; k < plan.rounds && w.count < events; k++) {
      for (let i = 0; i < units && w.count < events; i++) {
        const unit = order[i] ?? 0;
        const p = Math.floor(unit / MIX_VANTAGES);
        const v = unit % MIX_VANTAGES;
        // Every check of a round lands at its own millisecond of the 30 s round.
        const at = new Date(T0 + k * INTERVAL_MS + Math.floor((i * INTERVAL_MS) / units)).toISOString();
        const eps = plan.episodes[p] ?? [];
        for (let t = 0; t < MIX_TARGETS && w.count < events; t++) {
          const target = targets[p]?.[t] ?? '';
          // A single failed check between successes now and then (0.1 %): opens nothing.
          const down = (eps.length > 0 && failing(eps, k, t, v)) || rnd() < 0.001;
          w.push(down ? failLine(at, `p${p}`, target, vantages[v] ?? '') : okLine(at, `p${p}`, target, vantages[v] ?? '', 8 + Math.floor(rnd() * 40)));
        }
      }
    }
  } finally {
    w.close();
  }
  return w.count;
}

// ---------------------------------------------------------------------------------------------
// Storms

export function stormConfig(apps: number): string {
  const out = [
    `# Generated by bench/replay.ts: ${apps} apps in one zone.`,
    `queue: { kind: bullmq, redis_url: "redis://127.0.0.1:6379/0", vantages: [${vantageNames(STORM_VANTAGES).join(', ')}] }`,
    'components:',
    `  - { id: ${ZONE}, name: Zone A, group: Infrastructure, region: PAR }`,
  ];
  for (let i = 0; i < apps; i++) out.push(`  - { id: app${i}, name: App ${i}, group: Apps, region: PAR, depends_on: [${ZONE}] }`);
  out.push('probes:');
  for (let i = 0; i < apps; i++) {
    out.push(`  - { id: app${i}-http, kind: http, component: app${i}, url: "http://app${i}.bench/", interval: 30s, timeout: 5s }`);
  }
  return `${out.join('\n')}\n`;
}

/** 20 minutes of checks of every app from 3 vantages; with `storm`, all fail from minute 5 to 15. */
export function writeStormEvents(file: string, apps: number, storm: boolean): number {
  const rnd = prng(apps);
  const vantages = vantageNames(STORM_VANTAGES);
  const units = apps * STORM_VANTAGES;
  const order = permutation(units, rnd);
  const rounds = (STORM_MINUTES * 60_000) / INTERVAL_MS;
  const from = (STORM_FROM_MIN * 60_000) / INTERVAL_MS;
  const to = (STORM_TO_MIN * 60_000) / INTERVAL_MS;
  const w = new LineWriter(file);
  try {
    for (let k = 0; k < rounds; k++) {
      const down = storm && k >= from && k < to;
      for (let i = 0; i < units; i++) {
        const unit = order[i] ?? 0;
        const app = Math.floor(unit / STORM_VANTAGES);
        const vantage = vantages[unit % STORM_VANTAGES] ?? '';
        const at = new Date(T0 + k * INTERVAL_MS + Math.floor((i * INTERVAL_MS) / units)).toISOString();
        const probe = `app${app}-http`;
        const target = `http://app${app}.bench/`;
        const ms = 8 + Math.floor(rnd() * 40);
        w.push(down ? failLine(at, probe, target, vantage) : okLine(at, probe, target, vantage, ms));
      }
    }
  } finally {
    w.close();
  }
  return w.count;
}

// ---------------------------------------------------------------------------------------------
// Running the CLI

interface ChildRun {
  readonly wallS: number;
  readonly cpuS: number;
  readonly peakRssMB: number;
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly stderr: string;
}

const haveTime = (): boolean => existsSync(TIME_BIN);

/**
 * Runs `node bin/tocsin.js replay` under /usr/bin/time (user + system CPU and the peak RSS of the
 * node process itself, as the kernel reports them at its exit), stdout to `outFile`. In its own
 * process group, so that a timeout kills node and not only `time`. Without /usr/bin/time, CPU
 * and RSS come from /proc samples every 200 ms (the last samples before the exit).
 */
async function runReplay(
  configFile: string,
  eventsFile: string,
  outFile: string,
  timeoutMs: number,
): Promise<ChildRun> {
  const usageFile = `${outFile}.usage`;
  const node = [process.execPath, TOCSIN_BIN, 'replay', '--config', configFile, '--events', eventsFile];
  const timed = haveTime();
  const [cmd, ...args] = timed ? [TIME_BIN, '-f', '%U %S %M', '-o', usageFile, ...node] : node;
  const out = openSync(outFile, 'w');
  const start = process.hrtime.bigint();
  let child: ChildProcess;
  try {
    child = spawn(cmd ?? process.execPath, args, {
      detached: true,
      stdio: ['ignore', out, 'pipe'],
      env: { ...process.env, TOCSIN_CONFIG: '' },
    });
  } finally {
    closeSync(out);
  }
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-20_000);
  });
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // Ctrl-C while a child runs: it is in its own group, so stop it before leaving.
  const onSignal = (): void => {
    killGroup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sampler = timed || !child.pid ? undefined : new ProcSampler(child.pid, 200);
  sampler?.start();
  let cpuS = Number.NaN;
  const cpuTimer = sampler
    ? setInterval(() => {
        const c = sampler.cpuSeconds();
        if (Number.isFinite(c)) cpuS = c;
      }, 200)
    : undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);
  const [code] = await exited;
  const wallS = Number(process.hrtime.bigint() - start) / 1e9;
  clearTimeout(timer);
  clearInterval(cpuTimer);
  sampler?.stop();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  // Nothing of the group may outlive the run (a killed `time` leaves node behind otherwise).
  killGroup();

  let peakRssMB = sampler?.hwmMB ?? Number.NaN;
  if (timed && !timedOut) {
    // "Command exited with non-zero status 1" may come first; the figures are on the last line.
    const last = readFileSync(usageFile, 'utf8').trim().split('\n').at(-1) ?? '';
    const [user, sys, maxKiB] = last.split(' ').map(Number);
    cpuS = (user ?? Number.NaN) + (sys ?? Number.NaN);
    peakRssMB = ((maxKiB ?? Number.NaN) * 1024) / 1e6;
  }
  return { wallS, cpuS, peakRssMB, code, timedOut, stderr };
}

// ---------------------------------------------------------------------------------------------
// Reading the output

/** What this benchmark reads of an incident document (CONTRACT §4). */
interface IncidentDoc {
  readonly status: string;
  readonly root_component: string;
  readonly components: readonly { id: string }[];
}

interface Outcome {
  readonly incidents: number;
  readonly open: number;
  readonly biggest?: { root: string; components: number; apps: number };
  readonly outputMB: number;
}

function readOutcome(outFile: string): Outcome | string {
  const outputMB = statSync(outFile).size / 1e6;
  let parsed: { incidents?: IncidentDoc[] };
  try {
    parsed = JSON.parse(readFileSync(outFile, 'utf8')) as { incidents?: IncidentDoc[] };
  } catch (err) {
    return `stdout is not JSON (${(err as Error).message})`;
  }
  const incidents = parsed.incidents ?? [];
  let biggest: IncidentDoc | undefined;
  for (const i of incidents) if (!biggest || i.components.length > biggest.components.length) biggest = i;
  return {
    incidents: incidents.length,
    open: incidents.filter((i) => i.status === 'open').length,
    biggest: biggest && {
      root: biggest.root_component,
      components: biggest.components.length,
      apps: biggest.components.filter((c) => c.id.startsWith('app')).length,
    },
    outputMB,
  };
}

// ---------------------------------------------------------------------------------------------

interface CaseResult {
  readonly name: string;
  readonly events: number;
  readonly run?: ChildRun;
  readonly outcome?: Outcome | string;
  readonly note?: string;
  /** The same config with no events: Node's start-up, loading the CLI and the config, printing nothing. */
  readonly startup?: ChildRun;
}

const warnings: string[] = [];
const warn = (line: string): void => {
  warnings.push(line);
  process.stderr.write(`  WARNING ${line}\n`);
};

async function runCase(
  dir: string,
  name: string,
  configFile: string,
  write: (file: string) => number,
  timeoutMs: number,
  startup: ChildRun | undefined,
): Promise<CaseResult> {
  const eventsFile = join(dir, `${name.replace(/\W+/g, '-')}.jsonl`);
  const outFile = join(dir, 'out.json');
  const genStart = Date.now();
  const events = write(eventsFile);
  const sizeMB = statSync(eventsFile).size / 1e6;
  process.stderr.write(
    `  ${name}: ${fmtInt(events)} events (${fmt(sizeMB, 0)} MB) generated in ${fmt((Date.now() - genStart) / 1000, 1)} s; replaying…\n`,
  );
  try {
    const run = await runReplay(configFile, eventsFile, outFile, timeoutMs);
    if (run.timedOut) {
      process.stderr.write(`  ${name}: timeout after ${fmt(run.wallS, 0)} s (killed)\n`);
      return { name, events, run, startup };
    }
    if (run.code !== 0) {
      warn(`${name}: tocsin replay exited with ${run.code}: ${run.stderr.trim().split('\n').slice(-5).join(' | ')}`);
      return { name, events, run, startup };
    }
    const outcome = readOutcome(outFile);
    process.stderr.write(`  ${name}: ${fmt(run.wallS, 1)} s, ${fmtInt(events / run.wallS)} events/s\n`);
    if (typeof outcome === 'string') warn(`${name}: ${outcome}`);
    return { name, events, run, outcome, startup };
  } finally {
    rmSync(eventsFile, { force: true });
    rmSync(outFile, { force: true });
    rmSync(`${outFile}.usage`, { force: true });
  }
}

/** The config loaded and nothing replayed: what every run pays before its first event. */
async function measureStartup(dir: string, configFile: string, timeoutMs: number): Promise<ChildRun | undefined> {
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const outFile = join(dir, 'startup.json');
  try {
    const run = await runReplay(configFile, empty, outFile, timeoutMs);
    return run.timedOut || run.code !== 0 ? undefined : run;
  } finally {
    rmSync(outFile, { force: true });
    rmSync(`${outFile}.usage`, { force: true });
  }
}

/** Figures net of the start-up only where the events took at least as long as the start-up (noise otherwise). */
const HEADER = [
  'case',
  'events',
  'wall s',
  'events/s',
  'CPU s',
  'peak RSS MB',
  'start-up wall / CPU s',
  'events/s after start-up',
  'stdout MB',
  'incidents',
  'biggest: root, components',
  'storm/healthy wall / CPU',
];

function row(r: CaseResult, ratio?: { wall: number; cpu: number }): string[] {
  const run = r.run;
  const o = typeof r.outcome === 'object' ? r.outcome : undefined;
  const blank = HEADER.slice(3).map(() => '-');
  if (!run) return [r.name, fmtInt(r.events), r.note ?? '-', ...blank];
  if (run.timedOut) return [r.name, fmtInt(r.events), `timeout (${fmt(run.wallS, 0)})`, ...blank];
  const up = r.startup;
  return [
    r.name,
    fmtInt(r.events),
    fmt(run.wallS, 2),
    fmtInt(r.events / run.wallS),
    fmt(run.cpuS, 2),
    fmtInt(run.peakRssMB),
    up ? `${fmt(up.wallS, 2)} / ${fmt(up.cpuS, 2)}` : '-',
    up && run.wallS >= 2 * up.wallS ? fmtInt(r.events / (run.wallS - up.wallS)) : '-',
    o ? fmt(o.outputMB, 2) : '-',
    o ? `${o.incidents} (${o.open} open)` : run.code === 0 ? '?' : `exit ${run.code}`,
    o?.biggest ? `${o.biggest.root}: ${fmtInt(o.biggest.components)}` : '-',
    ratio ? `${fmt(ratio.wall, 2)}x / ${fmt(ratio.cpu, 2)}x` : '',
  ];
}

export async function replayBench(args: readonly string[]): Promise<void> {
  const { rest, set } = splitFlags(args, ['quick'], ['events', 'probes', 'storms', 'timeout']);
  const quick = set.has('quick');
  const events = Math.round(numberOption(rest, 'events', quick ? 50_000 : 1_000_000, 0));
  const probes = Math.round(numberOption(rest, 'probes', quick ? 100 : 1000));
  const storms = intListOption(rest, 'storms', quick ? [50, 100] : [100, 300, 1000, 10_000]).sort((a, b) => a - b);
  const timeoutMs = numberOption(rest, 'timeout', quick ? 120 : 600) * 1000;
  const mixed = events > 0 ? mixedPlan(probes, events) : undefined;

  process.stdout.write(
    `\n## replay: \`tocsin replay\` end to end (child process: node bin/tocsin.js replay), timeout ${timeoutMs / 1000} s per run\n`,
  );
  process.stdout.write(`${machineLine()}\n`);
  if (!haveTime()) {
    process.stdout.write(`(${TIME_BIN} not found: CPU and peak RSS from /proc samples every 200 ms; apt-get install time for exact figures)\n`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'tocsin-bench-replay-'));
  const results: CaseResult[] = [];
  const ratios = new Map<number, { healthy: CaseResult; storm: CaseResult }>();
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0] ?? Number.NaN), 1000);
  try {
    if (mixed) {
      const c = mixed.counts;
      process.stdout.write(
        `mixed: ${fmtInt(mixed.probes)} tls probes × ${MIX_TARGETS} targets × ${MIX_VANTAGES} vantages = ${fmtInt(mixed.probes * MIX_TARGETS * MIX_VANTAGES)} series, ` +
          `${mixed.components} apps on ${mixed.hypervisors} hypervisors in ${ZONES} zones, ${mixed.rounds} rounds of 30 s; ` +
          `episodes that should each open an incident (unless correlation merges those under one hypervisor or zone): ` +
          `hypervisor lost ${c.hypervisor} (${COMPONENTS_PER_HV} apps), apps down ${c.components}, one target from a majority ${c.probeTarget}, intermittent ${c.intermittent}; ` +
          `that should open none: one vantage only ${c.minority}, single failed checks (0.1 % of checks)\n`,
      );
      const configFile = join(dir, 'mixed.yml');
      writeFileSync(configFile, mixedConfig(mixed));
      const startup = await measureStartup(dir, configFile, timeoutMs);
      const r = await runCase(dir, 'mixed', configFile, (f) => writeMixedEvents(f, mixed, events), timeoutMs, startup);
      results.push(r);
      if (typeof r.outcome === 'object' && r.outcome.incidents === 0) warn('mixed: no incident at all');
    }
    let stormTimedOut: number | undefined;
    for (const apps of storms) {
      const configFile = join(dir, `storm-${apps}.yml`);
      writeFileSync(configFile, stormConfig(apps));
      const startup = await measureStartup(dir, configFile, timeoutMs);
      const healthy = await runCase(
        dir,
        `healthy ${apps}`,
        configFile,
        (f) => writeStormEvents(f, apps, false),
        timeoutMs,
        startup,
      );
      results.push(healthy);
      if (typeof healthy.outcome === 'object' && healthy.outcome.incidents !== 0) {
        warn(`healthy ${apps}: ${healthy.outcome.incidents} incidents, expected none`);
      }
      let storm: CaseResult;
      if (stormTimedOut !== undefined) {
        storm = { name: `storm ${apps}`, events: healthy.events, note: `skipped (storm ${stormTimedOut} timed out)` };
      } else {
        storm = await runCase(dir, `storm ${apps}`, configFile, (f) => writeStormEvents(f, apps, true), timeoutMs, startup);
        if (storm.run?.timedOut) stormTimedOut = apps;
      }
      results.push(storm);
      ratios.set(apps, { healthy, storm });
      const o = storm.outcome;
      if (typeof o === 'object') {
        const b = o.biggest;
        if (o.incidents !== 1 || b?.root !== ZONE || b.apps !== apps) {
          warn(
            `storm ${apps}: ${o.incidents} incidents, the biggest ${b ? `rooted at ${b.root} with ${b.apps} apps` : 'absent'}; ` +
              `expected 1 incident rooted at ${ZONE} with all ${apps} apps`,
          );
        }
      }
      rmSync(configFile, { force: true });
    }
  } finally {
    clearInterval(loadTimer);
    rmSync(dir, { recursive: true, force: true });
  }

  const ratioOf = (r: CaseResult): { wall: number; cpu: number } | undefined => {
    const m = /^storm (\d+)$/.exec(r.name);
    const pair = m ? ratios.get(Number(m[1])) : undefined;
    const h = pair?.healthy.run;
    const s = pair?.storm.run;
    if (!h || !s || h.timedOut || s.timedOut || h.code !== 0 || s.code !== 0) return undefined;
    return { wall: s.wallS / h.wallS, cpu: s.cpuS / h.cpuS };
  };
  printTable(
    HEADER,
    results.map((r) => row(r, ratioOf(r))),
    { align: HEADER.map((h) => (h === 'case' || h.startsWith('biggest') ? 'left' : 'right')) },
  );
  const pairs = [...ratios.entries()];
  if (pairs.length > 0) {
    printTable(
      [
        'apps in the storm',
        'healthy events/s',
        'storm events/s',
        'storm/healthy wall',
        'storm/healthy CPU',
        'wall after start-up',
        `wall ≤ ${TARGET_RATIO}x`,
      ],
      pairs.map(([apps, { healthy, storm }]) => {
        const r = ratioOf(storm);
        const rate = (c: CaseResult): string =>
          c.run ? (c.run.timedOut ? 'timeout' : fmtInt(c.events / c.run.wallS)) : (c.note ?? '-');
        const up = healthy.startup?.wallS;
        const net =
          r && up !== undefined && healthy.run && storm.run && healthy.run.wallS >= 2 * up
            ? (storm.run.wallS - up) / (healthy.run.wallS - up)
            : Number.NaN;
        return [
          fmtInt(apps),
          rate(healthy),
          rate(storm),
          r ? `${fmt(r.wall, 2)}x` : '-',
          r ? `${fmt(r.cpu, 2)}x` : '-',
          Number.isFinite(net) ? `${fmt(net, 2)}x` : '-',
          r ? (r.wall <= TARGET_RATIO ? 'pass' : 'FAIL') : storm.run?.timedOut ? 'FAIL' : '-',
        ];
      }),
      { align: ['right', 'right', 'right', 'right', 'right', 'right', 'left'] },
    );
  }
  const finite = loads.filter(Number.isFinite);
  process.stdout.write(
    `storms: ${STORM_VANTAGES} vantages, ${STORM_MINUTES} min of checks every 30 s, every app failing (timeout) from minute ${STORM_FROM_MIN} to ${STORM_TO_MIN}; ` +
      `load average (1 min) during the runs: mean ${fmt(finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length), 2)}, max ${fmt(Math.max(...finite), 2)} on ${os.availableParallelism()} CPUs\n`,
  );
  for (const w of warnings) process.stdout.write(`WARNING ${w}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  replayBench(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
