import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';

// `npm run demo` as users run it (the built dist/demo/demo.js, a child process) in its --fast mode:
// the sandbox's HAProxy instances, s3rver and the daemon are real processes; the scenarios' drafts
// are read back through the daemon's API with the token the demo prints; SIGINT must stop every
// process the demo started and exit 0.

const DEMO = fileURLToPath(new URL('../../dist/demo/demo.js', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

interface DemoRun {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the output once `pattern` appears in it; fails if the demo exits first. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  readonly exited: Promise<number | null>;
}

function startDemo(): DemoRun {
  const child = spawn(process.execPath, [DEMO, '--fast'], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`the demo exited (${child.exitCode ?? child.signalCode}) before ${pattern}:\n${out}`);
        }
        if (Date.now() > end) throw new Error(`${pattern} not printed within ${timeoutMs} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

/**
 * Runs a procps tool whose exit status 1 means "no process matched": that is an empty answer. Any
 * other failure (the tool missing, a bad option) is thrown, or every "nothing left running" check
 * below would pass without looking (procps: scripts/install-test-deps.sh).
 */
function procps(cmd: 'ps' | 'pgrep', args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' });
  } catch (err) {
    if ((err as { status?: number | null }).status === 1) return '';
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(err as Error).message} (Debian package procps)`);
  }
}

/** The demo's child processes: pid and command name (`ps --ppid`). */
function children(pid: number): { pid: number; comm: string }[] {
  const text = procps('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)]);
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [p = '', comm = ''] = line.trim().split(/\s+/);
      return { pid: Number(p), comm };
    });
}

/** Processes whose command line mentions `dir` (the demo's temporary directory): HAProxy, s3rver, the daemon. */
function processesUsing(dir: string): string[] {
  return procps('pgrep', ['-a', '-f', dir]).trim().split('\n').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function api<T>(url: string, token: string, path: string): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** Every host:port the demo printed for its sandbox and daemon. */
function printedAddresses(output: string): { host: string; port: number }[] {
  return [...output.matchAll(/\b(127\.0\.0\.\d+):(\d+)\b/g)].map((m) => ({ host: m[1] ?? '', port: Number(m[2]) }));
}

describe('npm run demo --fast (the built demo as a child process)', () => {
  let run: DemoRun | undefined;
  let started: number[] = [];

  afterEach(async () => {
    // Whatever the test's outcome, nothing it started outlives it.
    if (run && run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.exited;
    }
    for (const pid of started) if (alive(pid)) process.kill(pid, 'SIGKILL');
    run = undefined;
    started = [];
  });

  it('plays S1, S9 and S12 into the expected drafts, then SIGINT stops every process it started', async () => {
    run = startDemo();
    const demo = run;
    const [, url = ''] = await demo.waitFor(/ console: (http:\/\/127\.0\.0\.1:\d+)\//, 30_000);
    const [, token = ''] = await demo.waitFor(/ token: (\S+) {2}\(from (\S+)\/data\/operator\.token\)/, 10_000);
    const [, dir = ''] = await demo.waitFor(/ demo: sandbox in (\S+)/, 10_000);
    expect(existsSync(dir)).toBe(true);
    await demo.waitFor(/ done: the sandbox and the console stay up/, 80_000);

    // The sandbox's processes, children of this demo run: 4 HAProxy, s3rver and the daemon (node).
    const kids = children(demo.child.pid ?? 0);
    started = kids.map((k) => k.pid);
    expect(kids.filter((k) => k.comm === 'haproxy')).toHaveLength(4);
    expect(kids.filter((k) => k.comm === 'node')).toHaveLength(2);
    expect(processesUsing(dir)).toHaveLength(6);

    const { probes } = await api<{ probes: { id: string; targets: string[] }[] }>(url, token, '/api/v1/probes');
    const lbTargets = probes.find((p) => p.id === 'lb-sync-par')?.targets ?? [];
    expect(lbTargets).toHaveLength(4);
    const stale = lbTargets[0]; // lb-1, the instance S1 leaves on the old config

    const { incidents } = await api<{ incidents: Incident[] }>(url, token, '/api/v1/incidents');
    // One incident per scenario (S9's four failing components are one), all resolved after healing.
    expect(incidents).toHaveLength(3);
    const [s12, s9, s1] = incidents; // newest first
    expect(incidents.map((i) => [i.status, i.review])).toEqual([
      ['resolved', 'pending'],
      ['resolved', 'pending'],
      ['resolved', 'pending'],
    ]);

    // S1: rooted at the load balancers, naming the stale instance only; resolved as back in sync.
    expect(s1?.root_component).toBe('lb-par');
    expect(s1?.components.map((c) => c.id)).toEqual(['lb-par']);
    expect(s1?.signals).toEqual([
      expect.objectContaining({ rule: 'lb-sync', probe: 'lb-sync-par', targets: [stale], error: 'config_out_of_sync' }),
    ]);
    expect(s1?.title).toBe('Network [PAR]: 1 of 4 load balancers out of sync');
    expect(s1?.timeline.map((t) => t.text)).toContain('Load balancers: all load balancers back in sync');

    // S9: one incident rooted at the load balancer tier, the apps behind it as affected components.
    expect(s9?.root_component).toBe('lb-par');
    expect(s9?.components.map((c) => c.id).sort()).toEqual(['db-par', 'iot-par', 'k8s-par', 'lb-par']);
    // Every app's outage and the load balancers' own failure; a signal of another rule may join
    // when a probe also flapped (intermittency taking over at the end), but never one twice.
    const pairs = (s9?.signals ?? []).map((s) => `${s.rule}/${s.probe}`);
    expect(new Set(pairs).size, pairs.join(', ')).toBe(pairs.length);
    expect([...new Set(s9?.signals.map((s) => s.probe))].sort(), pairs.join(', ')).toEqual(['db-via-lb', 'iot-via-lb', 'k8s-via-lb', 'lb-sync-par']);
    expect(s9?.severity).toBe('critical');
    expect(s9?.timeline.map((t) => t.kind)).toContain('rerooted');
    expect(s9?.id).not.toBe(s1?.id);

    // S12: storage unreachable: a major outage, severity critical.
    expect(s12?.root_component).toBe('storage-par');
    expect(s12?.components).toEqual([{ id: 'storage-par', impact: 'major_outage' }]);
    expect(s12?.severity).toBe('critical');
    expect(s12?.signals[0]).toMatchObject({ probe: 'storage-s3', error: 'connect_refused' });

    // What the script printed for each draft.
    expect(demo.output()).toMatch(/ S1: {3}signal lb-sync\/lb-sync-par \(config_out_of_sync\): lb-1 127\.0\.0\.2:\d+\n/);
    expect(demo.output()).toMatch(/ S9: {3}open incidents now: 1\n/);

    const addresses = printedAddresses(demo.output());
    expect(addresses.length).toBeGreaterThan(8);
    expect(await accepts('127.0.0.1', Number(new URL(url).port))).toBe(true);

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toMatch(/ demo: stopped everything it started .*; nothing left running\n$/);
    expect(started.filter(alive)).toEqual([]);
    expect(processesUsing(dir)).toEqual([]);
    // Nothing listens any more where the sandbox and the daemon did; the temporary directory is gone.
    const listening = await Promise.all(addresses.map(async (a) => ((await accepts(a.host, a.port)) ? a : undefined)));
    expect(listening.filter(Boolean)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 100_000);

  it('stops every process on SIGINT in the middle of a scenario, and exits 0', async () => {
    run = startDemo();
    const demo = run;
    const [, dir = ''] = await demo.waitFor(/ demo: sandbox in (\S+)/, 10_000);
    await demo.waitFor(/ S1: reloading lb-2, lb-3, lb-4 with config v43; lb-1 stays on v42\n/, 40_000);
    const kids = children(demo.child.pid ?? 0);
    started = kids.map((k) => k.pid);
    expect(kids.filter((k) => k.comm === 'haproxy').length).toBeGreaterThanOrEqual(3);

    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.output()).toContain('demo: SIGINT: stopping the daemon and the sandbox');
    expect(started.filter(alive)).toEqual([]);
    expect(processesUsing(dir)).toEqual([]);
    const addresses = printedAddresses(demo.output());
    const listening = await Promise.all(addresses.map(async (a) => ((await accepts(a.host, a.port)) ? a : undefined)));
    expect(listening.filter(Boolean)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});
