/**
 * The pieces the process-level harnesses share (bench/lib/reliability.ts, bench/lib/chaos.ts):
 * spawning `tocsin run` and `tocsin worker`, a restartable redis-server with AOF, a loopback
 * target that fails on demand, HTTP on fresh connections, note writers and their verification,
 * polls with deadlines. Nothing here measures or asserts; callers do.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Incident } from '../../src/events/incident.js';

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

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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
export const DEFAULT_REDIS_BIN = '/usr/bin/redis-server';

/** Polls `fn` every `everyMs` until it returns a value, or throws `what` after `timeoutMs`. */
export async function poll<T>(
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
export class FatalWait extends Error {}

export async function freePort(): Promise<number> {
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
export type Exchange =
  | { readonly answered: true; readonly status: number; readonly body: string }
  | { readonly answered: false; readonly error: string };

/** One request on a fresh connection; never throws. */
export function request(
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

export const excerpt = (text: string, n = 300): string => (text.length > n ? `${text.slice(0, n)}…` : text);

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
export class ErrorDigest {
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
export class Daemon {
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

export function spawnDaemon(opts: {
  configFile: string;
  cwd: string;
  port: number;
  env: Record<string, string>;
  name: string;
  errors?: ErrorDigest;
  /** Another build's bin/tocsin.js (a before/after comparison); default this checkout's. */
  bin?: string;
}): Daemon {
  return spawnTocsin(['run', '--config', opts.configFile], opts, `http://127.0.0.1:${opts.port}`);
}

/** A `tocsin worker --vantage V` child process (its `url` is empty: workers serve nothing). */
export function spawnWorker(opts: {
  configFile: string;
  cwd: string;
  vantage: string;
  env?: Record<string, string>;
  name: string;
  errors?: ErrorDigest;
  bin?: string;
}): Daemon {
  return spawnTocsin(['worker', '--config', opts.configFile, '--vantage', opts.vantage], opts, '');
}

function spawnTocsin(
  args: readonly string[],
  opts: { cwd: string; env?: Record<string, string>; name: string; errors?: ErrorDigest; bin?: string },
  url: string,
): Daemon {
  const child = spawn(process.execPath, [opts.bin ?? TOCSIN_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, TOCSIN_CONFIG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  return new Daemon(child, url, opts.name, opts.errors);
}

/** Polls GET /readyz until 200; ms from the daemon's spawn. Throws with its log if it exits or never gets ready. */
export async function waitReady(daemon: Daemon, timeoutMs: number): Promise<number> {
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
export class AofRedis {
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

  /** Freezes it (SIGSTOP): connections stay open, nothing is answered (unreachable, not refusing). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
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

/** Answers true once a redis-server on loopback answers PING (PONG, or NOAUTH when it wants a password). */
export function redisPing(port: number): Promise<boolean> {
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
      if (reply.includes('\r\n')) done(/^(\+PONG|-NOAUTH)/.test(reply));
    });
  });
}

/** The probe target: answers 200, or 503 while `failing` (the http probe reports `status`). */
export class Target {
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
export function startWriters(
  opts: { readonly writers?: number; readonly writerPauseMs?: number },
  on: { urls: readonly string[]; incidentId: string; token: string; prefix: string; t0: number },
): Writers {
  const writers = new Writers({ count: opts.writers ?? 3, pauseMs: opts.writerPauseMs ?? 25, ...on });
  writers.start();
  return writers;
}

export class Writers {
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

export async function listIncidents(url: string, token: string): Promise<Incident[]> {
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

export async function getIncident(url: string, token: string, id: string): Promise<Incident> {
  const x = await request('GET', `${url}/api/v1/incidents/${id}?components=0&signals=0`, { token, timeoutMs: 30_000 });
  if (!x.answered) throw new Error(`GET ${url}/api/v1/incidents/${id}: no answer (${x.error})`);
  if (x.status !== 200) throw new Error(`GET ${url}/api/v1/incidents/${id}: ${x.status} ${excerpt(x.body)}`);
  return JSON.parse(x.body) as Incident;
}

export async function waitDraft(
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

export function operatorToken(): string {
  return randomBytes(24).toString('base64url');
}
