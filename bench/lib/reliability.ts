/**
 * Reliability harness with real processes: "nothing acknowledged is ever lost, nothing
 * unacknowledged is ever applied, and the detector comes back by itself".
 *
 * - runEmbeddedKillRounds: one `tocsin run` (SQLite) killed with SIGKILL while three writers post
 *   notes, restarted, N times;
 * - runRedisRestartRounds: two `tocsin run` on the Redis store (leader and standby) while
 *   redis-server (AOF, appendfsync always) is stopped and started again on the same port and data
 *   directory, N times;
 * - measureReadyWithOpenIncidents: spawn → /readyz 200 → first accepted note with N open drafts
 *   seeded in the SQLite file.
 *
 * Every note gets a unique text and one outcome: `acked` (2xx), `failed` (a definitive HTTP answer,
 * 4xx/5xx: per docs/api.md a request that fails changes nothing) or `unknown` (no answer:
 * connection refused or reset, timeout; or 503 OUTCOME_UNKNOWN, the daemon saying it cannot
 * tell). At the end the incident's whole timeline is read back
 * and compared with the outcomes. The functions return counts and timings and the offending notes
 * with the HTTP answers they got; they throw only when the harness cannot go on (a wait ran out,
 * a process would not start), with the daemon's last log lines in the message.
 *
 * Notes go over node:http with a fresh connection each (`agent: false`): no keep-alive socket and
 * no client retry can turn one POST into two, so a duplicate in the timeline is the daemon's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Incident } from '../../src/incidents/incident.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { prng } from './prng.js';

// ---------------------------------------------------------------------------------------------
// Results

export type NoteOutcomeKind = 'acked' | 'failed' | 'unknown';

/** One note a writer posted, and what came back. */
export interface NoteOutcome {
  readonly text: string;
  readonly writer: number;
  /** The round it was posted in (0: before the first fault). */
  readonly round: number;
  /** The daemon's base URL it was posted to. */
  readonly url: string;
  readonly outcome: NoteOutcomeKind;
  /** The HTTP status when an answer came. */
  readonly status?: number;
  /** The first 300 characters of the answer's body (errors), or of the client error. */
  readonly detail: string;
  /** For an ack: the document it answered held the note in its timeline (the daemon said it applied it). */
  readonly echoed?: boolean;
  /** ms since the run's start (monotonic): when the request was sent and when it ended. */
  readonly sentMs: number;
  readonly endedMs: number;
}

/** What the stored timeline says about the notes. */
export interface NoteVerification {
  readonly posted: number;
  readonly acked: number;
  /** Acked, but not in the timeline. */
  readonly lost: number;
  readonly failed: number;
  /** Failed (a definitive 4xx/5xx), yet in the timeline. */
  readonly failedApplied: number;
  readonly unknown: number;
  /** Unknown outcome, in the timeline (allowed; for information). */
  readonly unknownApplied: number;
  /** Note texts of this run found more than once. */
  readonly duplicates: number;
  /** Note entries in the timeline whose text no writer sent (should be 0). */
  readonly strangers: number;
  /** HTTP statuses of the failed notes, e.g. `{ "503": 12 }`. */
  readonly failedStatuses: Readonly<Record<string, number>>;
  /** The first answer body seen per failed status. */
  readonly failedSamples: Readonly<Record<string, string>>;
  readonly lostNotes: readonly NoteOutcome[];
  readonly failedAppliedNotes: readonly (NoteOutcome & { readonly copies: number })[];
  readonly duplicateNotes: readonly { readonly text: string; readonly copies: number; readonly outcome: NoteOutcomeKind | 'stranger' }[];
}

/** A verb's answer (confirm). */
export interface VerbAnswer {
  readonly status: number | null;
  readonly detail: string;
}

export interface RoundTiming {
  readonly round: number;
  /** When the fault was injected, ms into the round. */
  readonly faultAfterMs: number;
  /** When the fault was injected, ms since the run's start (the clock of NoteOutcome). */
  readonly faultAtMs: number;
  /** How long the fault lasted (Redis down), ms; 0 for kill -9 (restarted at once). */
  readonly outageMs: number;
  /** From spawn (daemon) or restart (Redis) to the first /readyz 200. */
  readonly readyMs: number;
  /** From spawn or restart to the first note acknowledged after it. */
  readonly firstAckMs: number;
}

interface RunResultBase {
  readonly rounds: number;
  readonly incidentId: string;
  readonly notes: NoteVerification;
  readonly confirm: VerbAnswer;
  readonly resolved: boolean;
  /** The incident's status and review at the end, and why waiting for `resolved` gave up. */
  readonly finalStatus: string;
  readonly resolveProblem?: string;
  /** Every incident in the store at the end (a duplicate draft after a restart shows here). */
  readonly incidentsAtEnd: number;
  readonly timings: readonly RoundTiming[];
  /** The daemons' error log lines (level ≥ 50), by message, with counts: why a 500 or a stall happened. */
  readonly daemonErrors: readonly { readonly message: string; readonly count: number }[];
  readonly seed: number;
  readonly elapsedMs: number;
}

export type EmbeddedKillResult = RunResultBase;

export interface RedisRestartResult extends RunResultBase {
  readonly signal: 'SIGTERM' | 'SIGKILL';
}

export interface ReadyWithIncidentsResult {
  readonly incidents: number;
  readonly probes: number;
  /** Seeding through SqliteStore (not part of the start-up). */
  readonly seedMs: number;
  readonly readyMs: number;
  readonly firstNoteMs: number;
  /** The status of the note that was accepted (2xx), or the last answer when none was. */
  readonly noteStatus: number | null;
  /** Open incidents the API lists right after the first note (should equal `incidents`). */
  readonly openListed: number;
  /** Every incident the API lists then, by `status/review` (e.g. `{ "open/pending": 1000 }`). */
  readonly listed: Readonly<Record<string, number>>;
}

// ---------------------------------------------------------------------------------------------
// Options

export interface CommonOptions {
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
  /** Seed of the random fault moments (default: random, reported in the result). */
  readonly seed?: number;
  /** Concurrent note writers (default 3). */
  readonly writers?: number;
  /** Pause of each writer between two notes, ms (default 25); after a refusal, 50 ms at least. */
  readonly writerPauseMs?: number;
  /** Fault moment in each round: uniform in [min, max] ms (default 300–1500). */
  readonly faultAfterMs?: readonly [number, number];
  /** Upper bound of every wait for readiness, a draft, an ack, resolution, ms (default 60 s). */
  readonly waitTimeoutMs?: number;
  /** Writers keep writing this long after the first ack of a round before the next one, ms (default 300). */
  readonly settleMs?: number;
}

export interface EmbeddedKillOptions extends CommonOptions {
  readonly rounds: number;
}

export interface RedisRestartOptions extends CommonOptions {
  readonly rounds: number;
  /** How Redis is stopped (default SIGTERM: with appendfsync always it fsyncs and exits). */
  readonly signal?: 'SIGTERM' | 'SIGKILL';
  /** How long Redis stays down: uniform in [min, max] ms (default 3000–8000). */
  readonly outageMs?: readonly [number, number];
  /** The redis-server binary (default /usr/bin/redis-server, as test/helpers/redis-server.ts). */
  readonly redisBin?: string;
}

export interface ReadyWithIncidentsOptions {
  readonly incidents: number;
  /** Probes in the config, one per component from the first (default: as many as incidents). */
  readonly probes?: number;
  readonly log?: (line: string) => void;
  readonly waitTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// Small tools

const DEFAULT_WAIT_MS = 60_000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function between(rand: () => number, [min, max]: readonly [number, number]): number {
  return Math.round(min + rand() * (max - min));
}

/** The repository root: where bin/tocsin.js is, from src (vitest) as from dist (benchmarks). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin', 'tocsin.js')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`bin/tocsin.js not found above ${fileURLToPath(import.meta.url)}`);
}

export const TOCSIN_BIN = join(repoRoot(), 'bin', 'tocsin.js');
const DEFAULT_REDIS_BIN = '/usr/bin/redis-server';

/** Polls `fn` every `everyMs` until it returns a value, or throws `what` after `timeoutMs`. */
async function poll<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T | undefined>,
  opts: { everyMs?: number; context?: () => string } = {},
): Promise<T> {
  const end = performance.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      if (err instanceof FatalWait) throw err;
      lastErr = err;
    }
    if (performance.now() > end) {
      const last = lastErr === undefined ? '' : ` (last error: ${lastErr instanceof Error ? lastErr.message : String(lastErr)})`;
      const context = opts.context?.() ?? '';
      throw new Error(`${what}: not within ${timeoutMs} ms${last}${context ? `\n${context}` : ''}`);
    }
    await sleep(opts.everyMs ?? 50);
  }
}

/** Stops a poll at once (a process it waits for has exited). */
class FatalWait extends Error {}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no free port');
  return addr.port;
}

/** An HTTP exchange's outcome: an answer (any status) or none (refused, reset, timeout). */
type Exchange =
  | { readonly answered: true; readonly status: number; readonly body: string }
  | { readonly answered: false; readonly error: string };

/** One request on a fresh connection; never throws. */
function request(
  method: 'GET' | 'POST',
  url: string,
  opts: { token?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<Exchange> {
  return new Promise((resolve) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = { connection: 'close' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    let settled = false;
    const done = (x: Exchange): void => {
      if (settled) return;
      settled = true;
      resolve(x);
    };
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ answered: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      // The status line and headers came: the daemon answered, even if the body is cut short.
      res.on('error', () => done({ answered: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('aborted', () => done({ answered: true, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(opts.timeoutMs ?? 10_000, () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => done({ answered: false, error: err.code ?? err.message }));
    req.end(payload);
  });
}

const excerpt = (text: string, n = 300): string => (text.length > n ? `${text.slice(0, n)}…` : text);

// ---------------------------------------------------------------------------------------------
// Processes

/** Every child started here, killed if the process exits without stopping them (a crash, ^C). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * The daemons' error lines (pino JSON, level ≥ 50) of a run, counted by message and error
 * message, across every incarnation (a killed daemon's log goes with it otherwise).
 */
class ErrorDigest {
  readonly #counts = new Map<string, number>();

  /** A feeder for one stream (it keeps that stream's unfinished last line). */
  feeder(): (chunk: string) => void {
    let partial = '';
    return (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) this.#line(line);
    };
  }

  #line(line: string): void {
    if (!line.startsWith('{') || !line.includes('"level":')) return;
    try {
      const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
      if ((rec.level ?? 0) < 50) return;
      // Counts in messages ("13 stored, 9 given") would make every line its own group.
      const key = `${rec.msg ?? ''}${rec.err?.message ? `: ${rec.err.message}` : ''}`.replace(/\b\d+\b/g, 'N').slice(0, 400);
      this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    } catch {
      // Not a JSON log line (a stack trace on a crash): the daemon's tail shows it.
    }
  }

  list(): { message: string; count: number }[] {
    return [...this.#counts].map(([message, count]) => ({ message, count })).sort((x, y) => y.count - x.count);
  }
}

/** A `tocsin run` child process and the tail of its log. */
class Daemon {
  log = '';
  readonly exited: Promise<void>;
  readonly spawnedAt = performance.now();

  constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly name: string,
    errors: ErrorDigest | undefined,
  ) {
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-40_000);
    };
    if (errors) {
      const feed = errors.feeder();
      child.stderr?.on('data', (d: Buffer) => feed(d.toString()));
    }
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  tail(lines = 25): string {
    return `--- ${this.name} (${this.running ? 'running' : `exited ${this.child.exitCode ?? this.child.signalCode}`}), last log lines:\n${this.log.trim().split('\n').slice(-lines).join('\n')}`;
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (clean stop), SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const killer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(killer);
  }
}

function spawnDaemon(opts: {
  configFile: string;
  cwd: string;
  port: number;
  env: Record<string, string>;
  name: string;
  errors?: ErrorDigest;
}): Daemon {
  const child = spawn(process.execPath, [TOCSIN_BIN, 'run', '--config', opts.configFile], {
    cwd: opts.cwd,
    env: { ...process.env, TOCSIN_CONFIG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Daemon(child, `http://127.0.0.1:${opts.port}`, opts.name, opts.errors);
}

/** Polls GET /readyz until 200; ms from the daemon's spawn. Throws with its log if it exits or never gets ready. */
async function waitReady(daemon: Daemon, timeoutMs: number): Promise<number> {
  await poll(
    `${daemon.name}: GET ${daemon.url}/readyz → 200`,
    timeoutMs,
    async () => {
      if (!daemon.running) throw new FatalWait(`${daemon.name} exited before it was ready\n${daemon.tail()}`);
      const x = await request('GET', `${daemon.url}/readyz`, { timeoutMs: 2000 });
      return x.answered && x.status === 200 ? true : undefined;
    },
    { everyMs: 20, context: () => daemon.tail() },
  );
  return performance.now() - daemon.spawnedAt;
}

/** A redis-server with AOF (appendfsync always) in `dir` on `port`, restartable on both. */
class AofRedis {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  log = '';

  constructor(
    readonly bin: string,
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs: number): Promise<void> {
    if (!existsSync(this.bin)) throw new Error(`${this.bin} not found (Debian: apt-get install redis-server)`);
    const child = spawn(
      this.bin,
      [
        '--port', String(this.port),
        '--bind', '127.0.0.1',
        '--dir', this.dir,
        '--appendonly', 'yes',
        '--appendfsync', 'always',
        '--save', '',
        '--daemonize', 'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    live.add(child);
    child.once('exit', () => live.delete(child));
    const keep = (d: Buffer): void => {
      this.log = (this.log + d.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.#child = child;
    await poll(
      `redis-server on 127.0.0.1:${this.port} answering PING`,
      timeoutMs,
      async () => {
        if (child.exitCode !== null) throw new FatalWait(`redis-server exited (${child.exitCode}): ${this.log.trim().slice(-2000)}`);
        return (await redisPing(this.port)) ? true : undefined;
      },
      { everyMs: 20, context: () => this.log.trim().slice(-2000) },
    );
  }

  async stop(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(killer);
  }
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** The probe target: answers 200, or 503 while `failing` (the http probe reports `status`). */
class Target {
  failing = false;
  readonly #server = http.createServer((_req, res) => {
    if (this.failing) res.writeHead(503, { 'content-type': 'text/plain', connection: 'close' }).end('down\n');
    else res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' }).end('ok\n');
  });

  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    const addr = this.#server.address();
    if (addr === null || typeof addr === 'string') throw new Error('target has no port');
    this.port = addr.port;
  }

  async stop(): Promise<void> {
    if (!this.#server.listening) return;
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------------------------
// Writers

/** Starts the writers of a run: `opts.writers` of them (3), pausing `opts.writerPauseMs` (25 ms). */
function startWriters(
  opts: { readonly writers?: number; readonly writerPauseMs?: number },
  on: { urls: readonly string[]; incidentId: string; token: string; prefix: string; t0: number },
): Writers {
  const writers = new Writers({ count: opts.writers ?? 3, pauseMs: opts.writerPauseMs ?? 25, ...on });
  writers.start();
  return writers;
}

class Writers {
  readonly outcomes: NoteOutcome[] = [];
  round = 0;
  #stopping = false;
  #loops: Promise<void>[] = [];
  readonly #t0: number;

  constructor(
    private readonly opts: {
      count: number;
      urls: readonly string[];
      incidentId: string;
      token: string;
      prefix: string;
      pauseMs: number;
      t0: number;
    },
  ) {
    this.#t0 = opts.t0;
  }

  start(): void {
    for (let w = 0; w < this.opts.count; w++) this.#loops.push(this.#loop(w));
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#loops);
  }

  /** ms (since t0) of the first ack that ended after `sinceMs`. */
  firstAckAfter(sinceMs: number): number | undefined {
    let best: number | undefined;
    for (let i = this.outcomes.length - 1; i >= 0; i--) {
      const o = this.outcomes[i];
      if (!o || o.endedMs < sinceMs) break;
      if (o.outcome === 'acked' && (best === undefined || o.endedMs < best)) best = o.endedMs;
    }
    return best;
  }

  async #loop(w: number): Promise<void> {
    const { urls, incidentId, token, prefix, pauseMs } = this.opts;
    for (let n = 0; !this.#stopping; n++) {
      const url = urls[(n + w) % urls.length] ?? '';
      const round = this.round;
      const text = `${prefix} w${w} r${round} n${n}`;
      const sentMs = performance.now() - this.#t0;
      const x = await request('POST', `${url}/api/v1/incidents/${incidentId}/notes`, { token, body: { text }, timeoutMs: 10_000 });
      const endedMs = performance.now() - this.#t0;
      const base = { text, writer: w, round, url, sentMs, endedMs };
      let outcome: NoteOutcome;
      if (!x.answered) {
        outcome = { ...base, outcome: 'unknown', detail: x.error };
      } else if (x.status === 503 && x.body.includes('"OUTCOME_UNKNOWN"')) {
        // The daemon says it cannot tell (the store went away with the write in flight): an answer
        // that is no answer, like a connection reset.
        outcome = { ...base, outcome: 'unknown', status: x.status, detail: excerpt(x.body) };
      } else if (x.status >= 200 && x.status < 300) {
        const echoed = x.body.includes(JSON.stringify(text));
        outcome = { ...base, outcome: 'acked', status: x.status, detail: '', echoed };
      } else {
        outcome = { ...base, outcome: 'failed', status: x.status, detail: excerpt(x.body) };
      }
      this.outcomes.push(outcome);
      await sleep(outcome.outcome === 'acked' ? pauseMs : Math.max(50, pauseMs));
    }
  }
}

/** Compares the outcomes with the note entries of the stored timeline. */
export function verifyNotes(outcomes: readonly NoteOutcome[], timeline: Incident['timeline'], prefix: string): NoteVerification {
  const copies = new Map<string, number>();
  for (const e of timeline) {
    if (e.kind !== 'note' || !e.text.startsWith(prefix)) continue;
    copies.set(e.text, (copies.get(e.text) ?? 0) + 1);
  }
  const byText = new Map(outcomes.map((o) => [o.text, o]));
  const lostNotes: NoteOutcome[] = [];
  const failedAppliedNotes: (NoteOutcome & { copies: number })[] = [];
  const failedStatuses: Record<string, number> = {};
  const failedSamples: Record<string, string> = {};
  let acked = 0;
  let failed = 0;
  let unknown = 0;
  let unknownApplied = 0;
  for (const o of outcomes) {
    const n = copies.get(o.text) ?? 0;
    if (o.outcome === 'acked') {
      acked++;
      if (n === 0) lostNotes.push(o);
    } else if (o.outcome === 'failed') {
      failed++;
      failedStatuses[String(o.status)] = (failedStatuses[String(o.status)] ?? 0) + 1;
      failedSamples[String(o.status)] ??= o.detail;
      if (n > 0) failedAppliedNotes.push({ ...o, copies: n });
    } else {
      unknown++;
      if (n > 0) unknownApplied++;
    }
  }
  const duplicateNotes = [...copies]
    .filter(([, n]) => n > 1)
    .map(([text, n]) => ({ text, copies: n, outcome: byText.get(text)?.outcome ?? ('stranger' as const) }));
  const strangers = [...copies.keys()].filter((t) => !byText.has(t)).length;
  return {
    posted: outcomes.length,
    acked,
    lost: lostNotes.length,
    failed,
    failedApplied: failedAppliedNotes.length,
    unknown,
    unknownApplied,
    duplicates: duplicateNotes.length,
    strangers,
    failedStatuses,
    failedSamples,
    lostNotes,
    failedAppliedNotes,
    duplicateNotes,
  };
}

/** The offending notes of a run, one per line (for a failing test or the benchmark's output). */
export function describeProblems(result: RunResultBase, max = 20): string {
  const v = result.notes;
  const lines: string[] = [];
  // When a note was sent and answered, and where that was from its round's fault (kill -9, Redis stop).
  const at = (o: NoteOutcome): string => {
    const fault = result.timings[Math.max(0, o.round - 1)]?.faultAtMs;
    const rel = fault === undefined ? '' : `, answered ${Math.round(o.endedMs - fault)} ms from the fault of round ${Math.max(1, o.round)}`;
    return `sent ${(o.sentMs / 1000).toFixed(3)} s, answered ${(o.endedMs / 1000).toFixed(3)} s${rel}`;
  };
  if (v.lost > 0) {
    lines.push(`LOST: ${v.lost} acknowledged note(s) missing from the timeline of ${result.incidentId}:`);
    for (const o of v.lostNotes.slice(0, max)) {
      const echo = o.echoed ? 'its answer held the note' : 'its answer did not hold the note';
      lines.push(`  "${o.text}" → ${o.status} from ${o.url} (${at(o)}; ${echo})`);
    }
  }
  if (v.failedApplied > 0) {
    lines.push(`FAILED BUT APPLIED: ${v.failedApplied} note(s) refused with an error yet in the timeline:`);
    for (const o of v.failedAppliedNotes.slice(0, max)) {
      const copies = `${o.copies} cop${o.copies === 1 ? 'y' : 'ies'}`;
      lines.push(`  "${o.text}" → ${o.status} ${o.detail} from ${o.url} (${at(o)}; ${copies})`);
    }
  }
  if (v.duplicates > 0) {
    lines.push(`DUPLICATES: ${v.duplicates} note text(s) stored more than once:`);
    for (const d of v.duplicateNotes.slice(0, max)) lines.push(`  "${d.text}" ×${d.copies} (its outcome: ${d.outcome})`);
  }
  if (v.strangers > 0) lines.push(`STRANGERS: ${v.strangers} note(s) of this run in the timeline that no writer sent`);
  if (result.confirm.status === null || result.confirm.status < 200 || result.confirm.status >= 300) {
    lines.push(`CONFIRM: ${result.confirm.status ?? 'no answer'} ${result.confirm.detail}`);
  }
  if (!result.resolved) lines.push(`NOT RESOLVED: ${result.finalStatus}; ${result.resolveProblem ?? ''}`);
  if (result.incidentsAtEnd !== 1) lines.push(`INCIDENTS: ${result.incidentsAtEnd} in the store at the end (expected 1)`);
  if (v.failed > 0) {
    lines.push('failed notes by status (first answer of each):');
    for (const [status, n] of Object.entries(v.failedStatuses)) lines.push(`  ${status} ×${n}: ${v.failedSamples[status] ?? ''}`);
  }
  if (result.daemonErrors.length > 0) {
    lines.push('daemon error log lines (level ≥ 50), by message:');
    for (const e of result.daemonErrors.slice(0, max)) lines.push(`  ×${e.count} ${e.message}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Shared steps

async function listIncidents(url: string, token: string): Promise<Incident[]> {
  const all: Incident[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const q = `limit=500&components=0&signals=0${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const x = await request('GET', `${url}/api/v1/incidents?${q}`, { token, timeoutMs: 30_000 });
    if (!x.answered) throw new Error(`GET ${url}/api/v1/incidents: no answer (${x.error})`);
    if (x.status !== 200) throw new Error(`GET ${url}/api/v1/incidents: ${x.status} ${excerpt(x.body)}`);
    const body = JSON.parse(x.body) as { incidents: Incident[]; next_cursor: string | null };
    all.push(...body.incidents);
    cursor = body.next_cursor;
    if (!cursor) return all;
  }
  throw new Error(`GET ${url}/api/v1/incidents: more than 100 pages`);
}

async function getIncident(url: string, token: string, id: string): Promise<Incident> {
  const x = await request('GET', `${url}/api/v1/incidents/${id}?components=0&signals=0`, { token, timeoutMs: 30_000 });
  if (!x.answered) throw new Error(`GET ${url}/api/v1/incidents/${id}: no answer (${x.error})`);
  if (x.status !== 200) throw new Error(`GET ${url}/api/v1/incidents/${id}: ${x.status} ${excerpt(x.body)}`);
  return JSON.parse(x.body) as Incident;
}

async function waitDraft(
  urls: readonly string[],
  token: string,
  timeoutMs: number,
  context: () => string,
): Promise<Incident> {
  return poll(
    'a draft incident in GET /api/v1/incidents',
    timeoutMs,
    async () => {
      for (const url of urls) {
        const open = (await listIncidents(url, token)).filter((i) => i.status === 'open' && i.review === 'pending');
        if (open[0]) return open[0];
      }
      return undefined;
    },
    { everyMs: 250, context },
  );
}

/**
 * The end of a run: confirm (must be 2xx), the target healthy again, the incident resolved by
 * the detector, the timeline read back and compared with the writers' outcomes.
 */
async function finish(opts: {
  urls: () => readonly string[];
  token: string;
  incidentId: string;
  target: Target;
  writers: Writers;
  prefix: string;
  timeoutMs: number;
  context: () => string;
  log: (line: string) => void;
}): Promise<Omit<RunResultBase, 'rounds' | 'timings' | 'seed' | 'elapsedMs' | 'daemonErrors'>> {
  const { token, incidentId, target, writers, prefix, timeoutMs, context, log } = opts;
  // Any daemon that is ready confirms; the answer is what counts.
  const confirmUrl = await poll(
    'a daemon ready to confirm',
    timeoutMs,
    async () => {
      for (const url of opts.urls()) {
        const x = await request('GET', `${url}/readyz`, { timeoutMs: 2000 });
        if (x.answered && x.status === 200) return url;
      }
      return undefined;
    },
    { context },
  );
  const c = await request('POST', `${confirmUrl}/api/v1/incidents/${incidentId}/confirm?components=0&signals=0`, {
    token,
    body: { note: `${prefix} confirm` },
    timeoutMs: 30_000,
  });
  const confirm: VerbAnswer = c.answered ? { status: c.status, detail: c.status < 300 ? '' : excerpt(c.body) } : { status: null, detail: c.error };
  log(`confirm → ${confirm.status ?? 'no answer'} ${confirm.detail}`);

  target.failing = false;
  let resolved = false;
  let resolveProblem: string | undefined;
  let finalStatus = '?';
  try {
    await poll(
      `incident ${incidentId} resolved by the detector after the target came back`,
      timeoutMs,
      async () => {
        for (const url of opts.urls()) {
          const doc = await getIncident(url, token, incidentId).catch(() => undefined);
          if (doc) {
            finalStatus = `${doc.status}/${doc.review}`;
            if (doc.status === 'resolved') return true;
          }
        }
        return undefined;
      },
      { everyMs: 250, context },
    );
    resolved = true;
  } catch (err) {
    resolveProblem = err instanceof Error ? err.message.split('\n')[0] : String(err);
  }
  log(`incident ${incidentId}: ${finalStatus}`);

  const readUrl = await poll(
    'a daemon answering GET /api/v1/incidents/{id}',
    timeoutMs,
    async () => {
      for (const url of opts.urls()) {
        const doc = await getIncident(url, token, incidentId).catch(() => undefined);
        if (doc) return url;
      }
      return undefined;
    },
    { context },
  );
  const doc = await getIncident(readUrl, token, incidentId);
  finalStatus = `${doc.status}/${doc.review}`;
  const incidentsAtEnd = (await listIncidents(readUrl, token)).length;
  const notes = verifyNotes(writers.outcomes, doc.timeline, prefix);
  return { incidentId, notes, confirm, resolved, finalStatus, resolveProblem, incidentsAtEnd };
}

function operatorToken(): string {
  return randomBytes(24).toString('base64url');
}

// ---------------------------------------------------------------------------------------------
// 1. Embedded: kill -9 rounds

/**
 * One daemon (SQLite in a temp dir, one HTTP probe at 1 s on a loopback target): the target
 * fails, the draft appears, writers post notes while the daemon is killed with SIGKILL and
 * restarted `rounds` times; then confirm, heal, wait for `resolved`, verify the timeline.
 */
export async function runEmbeddedKillRounds(opts: EmbeddedKillOptions): Promise<EmbeddedKillResult> {
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = prng(seed);
  const timeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_MS;
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-reliability-kill-'));
  const target = new Target();
  const errors = new ErrorDigest();
  let daemon: Daemon | undefined;
  let writers: Writers | undefined;
  try {
    await target.start();
    target.failing = true;
    const port = await freePort();
    const token = operatorToken();
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: "127.0.0.1:${port}", tokens: [{ name: ops, role: operator, token_env: TOCSIN_RELIABILITY_TOKEN }] }
store: { kind: sqlite, path: "${join(dir, 'data', 'tocsin.db')}" }
components:
  - { id: web, name: Web, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:${target.port}/", interval: 1s, timeout: 800ms }
`,
    );
    const start = (n: number): Daemon =>
      spawnDaemon({ configFile, cwd: dir, port, env: { TOCSIN_RELIABILITY_TOKEN: token }, name: `tocsin run #${n}`, errors });
    daemon = start(0);
    await waitReady(daemon, timeoutMs);
    const ctx = (): string => daemon?.tail() ?? '';
    const draft = await waitDraft([daemon.url], token, timeoutMs, ctx);
    log(`draft ${draft.id} (${((performance.now() - t0) / 1000).toFixed(1)} s after start)`);

    const prefix = `rel-${randomBytes(4).toString('hex')}`;
    writers = startWriters(opts, { urls: [daemon.url], incidentId: draft.id, token, prefix, t0 });
    const timings: RoundTiming[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      writers.round = round;
      const faultAfterMs = between(rand, opts.faultAfterMs ?? [300, 1500]);
      await sleep(faultAfterMs);
      const faultAtMs = performance.now() - t0;
      await daemon.kill();
      daemon = start(round);
      const spawnedMs = daemon.spawnedAt - t0;
      const readyMs = await waitReady(daemon, timeoutMs);
      const w = writers;
      const firstAck = await poll(`round ${round}: a note acknowledged after the restart`, timeoutMs, async () => w.firstAckAfter(spawnedMs), {
        context: ctx,
      });
      const firstAckMs = firstAck - spawnedMs;
      timings.push({ round, faultAfterMs, faultAtMs, outageMs: 0, readyMs, firstAckMs });
      log(`round ${round}/${opts.rounds}: kill -9 after ${faultAfterMs} ms; ready ${readyMs.toFixed(0)} ms, first ack ${firstAckMs.toFixed(0)} ms after spawn`);
      await sleep(opts.settleMs ?? 300);
    }
    await writers.stop();
    const d = daemon;
    const end = await finish({
      urls: () => [d.url],
      token,
      incidentId: draft.id,
      target,
      writers,
      prefix,
      timeoutMs,
      context: ctx,
      log,
    });
    const elapsedMs = performance.now() - t0;
    return { ...end, rounds: opts.rounds, timings, daemonErrors: errors.list(), seed, elapsedMs };
  } finally {
    await writers?.stop();
    await daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Fleet: Redis restart rounds

/**
 * Two daemons on the Redis store (inline queues; one holds the leader lease, the other stands
 * by), redis-server with AOF and `appendfsync always`. Writers alternate between the daemons
 * while Redis is stopped (`signal`) for 3–8 s and started again on the same port and data
 * directory, `rounds` times; then confirm, heal, wait for `resolved`, verify the timeline.
 */
export async function runRedisRestartRounds(opts: RedisRestartOptions): Promise<RedisRestartResult> {
  const log = opts.log ?? (() => undefined);
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
  const rand = prng(seed);
  const timeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_MS;
  const signal = opts.signal ?? 'SIGTERM';
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-reliability-redis-'));
  const target = new Target();
  const errors = new ErrorDigest();
  const daemons: Daemon[] = [];
  let redis: AofRedis | undefined;
  let writers: Writers | undefined;
  try {
    await target.start();
    target.failing = true;
    const redisDir = join(dir, 'redis');
    mkdirSync(redisDir);
    redis = new AofRedis(opts.redisBin ?? DEFAULT_REDIS_BIN, redisDir, await freePort());
    await redis.start(timeoutMs);
    const token = operatorToken();
    const ports = [await freePort(), await freePort()];
    for (const [i, port] of ports.entries()) {
      const configFile = join(dir, `tocsin-${i}.yml`);
      writeFileSync(
        configFile,
        `server: { listen: "127.0.0.1:${port}", tokens: [{ name: ops, role: operator, token_env: TOCSIN_RELIABILITY_TOKEN }] }
store: { kind: redis, url: "${redis.url}/0" }
components:
  - { id: web, name: Web, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:${target.port}/", interval: 1s, timeout: 800ms }
`,
      );
      const env = { TOCSIN_RELIABILITY_TOKEN: token };
      const daemon = spawnDaemon({ configFile, cwd: dir, port, env, name: `tocsin run ${'AB'[i]}`, errors });
      daemons.push(daemon);
      await waitReady(daemon, timeoutMs);
    }
    const r = redis;
    const ctx = (): string => [...daemons.map((d) => d.tail(15)), `--- redis-server:\n${r.log.trim().split('\n').slice(-10).join('\n')}`].join('\n');
    await poll('a leader (log line "leader: rules engine running")', timeoutMs, async () =>
      daemons.some((d) => d.log.includes('leader: rules engine running')) ? true : undefined, { context: ctx });
    const urls = daemons.map((d) => d.url);
    const draft = await waitDraft(urls, token, timeoutMs, ctx);
    log(`draft ${draft.id} (${((performance.now() - t0) / 1000).toFixed(1)} s after start)`);

    const prefix = `rel-${randomBytes(4).toString('hex')}`;
    writers = startWriters(opts, { urls, incidentId: draft.id, token, prefix, t0 });
    const timings: RoundTiming[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      writers.round = round;
      const faultAfterMs = between(rand, opts.faultAfterMs ?? [300, 1500]);
      const outageMs = between(rand, opts.outageMs ?? [3000, 8000]);
      await sleep(faultAfterMs);
      const faultAtMs = performance.now() - t0;
      await redis.stop(signal);
      await sleep(outageMs);
      const restartedAt = performance.now();
      await redis.start(timeoutMs);
      const readyAt = await poll(
        `round ${round}: some daemon answering /readyz 200 after Redis restarted`,
        timeoutMs,
        async () => {
          for (const d of daemons) {
            if (!d.running) throw new FatalWait(`${d.name} exited during the Redis outage\n${ctx()}`);
            const x = await request('GET', `${d.url}/readyz`, { timeoutMs: 2000 });
            if (x.answered && x.status === 200) return performance.now();
          }
          return undefined;
        },
        { everyMs: 20, context: ctx },
      );
      const w = writers;
      const sinceMs = restartedAt - t0;
      const firstAck = await poll(`round ${round}: a note acknowledged after Redis restarted`, timeoutMs, async () => w.firstAckAfter(sinceMs), {
        context: ctx,
      });
      const readyMs = readyAt - restartedAt;
      const timing = { round, faultAfterMs, faultAtMs, outageMs, readyMs, firstAckMs: firstAck - sinceMs };
      timings.push(timing);
      log(`round ${round}/${opts.rounds}: redis ${signal} after ${faultAfterMs} ms, down ${outageMs} ms; ready ${timing.readyMs.toFixed(0)} ms, first ack ${timing.firstAckMs.toFixed(0)} ms after restart`);
      await sleep(opts.settleMs ?? 300);
    }
    await writers.stop();
    const end = await finish({
      urls: () => daemons.filter((d) => d.running).map((d) => d.url),
      token,
      incidentId: draft.id,
      target,
      writers,
      prefix,
      timeoutMs,
      context: ctx,
      log,
    });
    const elapsedMs = performance.now() - t0;
    return { ...end, rounds: opts.rounds, timings, daemonErrors: errors.list(), seed, elapsedMs, signal };
  } finally {
    await writers?.stop();
    for (const d of daemons) await d.kill();
    await redis?.stop('SIGKILL');
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 3. Ready time with many open incidents

const componentId = (i: number): string => `c-${String(i).padStart(5, '0')}`;

/**
 * An open draft on component `i`, with the outage signal of its probe (as the engine writes one),
 * opened `ageMs` ago. Recent on purpose: the daemon adopts stored open incidents it has no engine
 * state for and resolves those no signal joins within the grace, counted from `opened_at` when
 * nothing else is known (src/engine/lifecycle.ts, adoptStored/expireAdopted), so a draft opened
 * long ago would resolve at start and not measure a start-up with open incidents.
 */
function openDraft(i: number, nowMs: number, ageMs = 60_000): Incident {
  const component = componentId(i);
  const openedAt = new Date(nowMs - ageMs + i * 10).toISOString();
  return {
    id: `inc_seed${String(i).padStart(16, '0')}`,
    title: `Component ${component} unreachable`,
    status: 'open',
    review: 'pending',
    severity: 'major',
    opened_at: openedAt,
    resolved_at: null,
    root_component: component,
    components: [{ id: component, impact: 'major_outage' }],
    regions: [],
    signals: [
      {
        rule: 'outage',
        probe: `${component}-http`,
        targets: [`http://127.0.0.1/${component}`],
        vantages: ['local'],
        error: 'status',
        since: openedAt,
        until: null,
      },
    ],
    timeline: [{ at: openedAt, kind: 'opened', text: `Tocsin detected a problem: ${component} unreachable.`, author: 'tocsin' }],
    fingerprint: component,
  };
}

/**
 * The one call written against the store port's new saveIncident (an IncidentWrite: fields,
 * entries to append, the revision and entry count it was computed from). Kept alone so that a
 * change of that signature is fixed here only.
 */
async function seedIncident(store: SqliteStore, doc: Incident): Promise<void> {
  const write = { incident: doc, append: doc.timeline, expectedRevision: null, expectedEntries: 0 };
  const outcome = await store.saveIncident(write);
  if (!outcome.ok) throw new Error(`seeding ${doc.id}: the store refused it (conflict)`);
}

/**
 * Seeds a fresh SQLite file with `incidents` open drafts (components c-00000…, each with a probe
 * of a 1 h interval against a loopback target, `probes` of them), then starts the daemon on it and
 * measures spawn → /readyz 200 and spawn → a 2xx note on the first incident.
 */
export async function measureReadyWithOpenIncidents(
  opts: ReadyWithIncidentsOptions,
): Promise<ReadyWithIncidentsResult> {
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_MS;
  const probes = Math.min(opts.probes ?? opts.incidents, opts.incidents);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-reliability-ready-'));
  const target = new Target();
  let daemon: Daemon | undefined;
  try {
    await target.start();
    target.failing = true;
    const port = await freePort();
    const token = operatorToken();
    const dbFile = join(dir, 'data', 'tocsin.db');
    const lines = [
      `server: { listen: "127.0.0.1:${port}", tokens: [{ name: ops, role: operator, token_env: TOCSIN_RELIABILITY_TOKEN }] }`,
      `store: { kind: sqlite, path: "${dbFile}" }`,
      'components:',
      ...Array.from({ length: opts.incidents }, (_, i) => `  - { id: ${componentId(i)}, name: "Component ${i}", group: Apps }`),
      'probes:',
      ...Array.from(
        { length: probes },
        (_, i) => `  - { id: ${componentId(i)}-http, kind: http, component: ${componentId(i)}, url: "http://127.0.0.1:${target.port}/${componentId(i)}", interval: 1h, timeout: 5s }`,
      ),
    ];
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(configFile, `${lines.join('\n')}\n`);

    const seedStart = performance.now();
    const store = SqliteStore.open(dbFile);
    try {
      const now = Date.now();
      for (let i = 0; i < opts.incidents; i++) await seedIncident(store, openDraft(i, now));
    } finally {
      await store.close();
    }
    const seedMs = performance.now() - seedStart;
    log(`seeded ${opts.incidents} open drafts in ${seedMs.toFixed(0)} ms`);

    daemon = spawnDaemon({ configFile, cwd: dir, port, env: { TOCSIN_RELIABILITY_TOKEN: token }, name: 'tocsin run' });
    const d = daemon;
    const readyMs = await waitReady(d, timeoutMs);
    const id = openDraft(0, Date.now()).id;
    let last: Exchange | undefined;
    const firstNoteAt = await poll(
      `a 2xx answer to POST /api/v1/incidents/${id}/notes`,
      timeoutMs,
      async () => {
        if (!d.running) throw new FatalWait(`${d.name} exited\n${d.tail()}`);
        last = await request('POST', `${d.url}/api/v1/incidents/${id}/notes?components=0&signals=0`, { token, body: { text: 'ready check' }, timeoutMs: 30_000 });
        return last.answered && last.status >= 200 && last.status < 300 ? performance.now() : undefined;
      },
      {
        everyMs: 20,
        context: () => `${last?.answered ? `last answer: ${last.status} ${excerpt(last.body)}` : `last: no answer (${last?.error ?? '-'})`}\n${d.tail()}`,
      },
    );
    const firstNoteMs = firstNoteAt - d.spawnedAt;
    const all = await listIncidents(d.url, token);
    const openListed = all.filter((i) => i.status === 'open').length;
    const listed: Record<string, number> = {};
    for (const i of all) listed[`${i.status}/${i.review}`] = (listed[`${i.status}/${i.review}`] ?? 0) + 1;
    log(`ready ${readyMs.toFixed(0)} ms, first note ${firstNoteMs.toFixed(0)} ms after spawn; listed: ${JSON.stringify(listed)}`);
    return {
      incidents: opts.incidents,
      probes,
      seedMs,
      readyMs,
      firstNoteMs,
      noteStatus: last?.answered ? last.status : null,
      openListed,
      listed,
    };
  } finally {
    await daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
