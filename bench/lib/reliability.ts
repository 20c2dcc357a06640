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
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Incident } from '../../src/events/incident.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import {
  AofRedis,
  type Daemon,
  DEFAULT_REDIS_BIN,
  ErrorDigest,
  excerpt,
  FatalWait,
  freePort,
  getIncident,
  listIncidents,
  type NoteOutcome,
  type NoteVerification,
  type Exchange,
  operatorToken,
  poll,
  request,
  sleep,
  spawnDaemon,
  startWriters,
  Target,
  verifyNotes,
  waitDraft,
  waitReady,
  type Writers,
} from './harness.js';
import { prng } from './prng.js';

export { type NoteOutcome, type NoteOutcomeKind, type NoteVerification, TOCSIN_BIN, verifyNotes } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Results

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

function between(rand: () => number, [min, max]: readonly [number, number]): number {
  return Math.round(min + rand() * (max - min));
}

/**
 * What went wrong with a run's notes, one per line ('' when nothing did): lost acknowledged
 * notes, refused ones applied, duplicates, strangers, and the refusals by status.
 */
export function describeNotes(
  v: NoteVerification,
  opts: { incidentId?: string; at?: (o: NoteOutcome) => string; max?: number } = {},
): string {
  const max = opts.max ?? 20;
  const at = opts.at ?? ((o: NoteOutcome) => `sent ${(o.sentMs / 1000).toFixed(3)} s, answered ${(o.endedMs / 1000).toFixed(3)} s`);
  const lines: string[] = [];
  if (v.lost > 0) {
    lines.push(`LOST: ${v.lost} acknowledged note(s) missing from the timeline of ${opts.incidentId ?? 'the incident'}:`);
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
  if (v.failed > 0) {
    lines.push('failed notes by status (first answer of each):');
    for (const [status, n] of Object.entries(v.failedStatuses)) lines.push(`  ${status} ×${n}: ${v.failedSamples[status] ?? ''}`);
  }
  return lines.join('\n');
}

/** The offending notes of a run, one per line (for a failing test or the benchmark's output). */
export function describeProblems(result: RunResultBase, max = 20): string {
  // When a note was sent and answered, and where that was from its round's fault (kill -9, Redis stop).
  const at = (o: NoteOutcome): string => {
    const fault = result.timings[Math.max(0, o.round - 1)]?.faultAtMs;
    const rel = fault === undefined ? '' : `, answered ${Math.round(o.endedMs - fault)} ms from the fault of round ${Math.max(1, o.round)}`;
    return `sent ${(o.sentMs / 1000).toFixed(3)} s, answered ${(o.endedMs / 1000).toFixed(3)} s${rel}`;
  };
  const lines = [describeNotes(result.notes, { incidentId: result.incidentId, at, max })].filter((l) => l !== '');
  if (result.confirm.status === null || result.confirm.status < 200 || result.confirm.status >= 300) {
    lines.push(`CONFIRM: ${result.confirm.status ?? 'no answer'} ${result.confirm.detail}`);
  }
  if (!result.resolved) lines.push(`NOT RESOLVED: ${result.finalStatus}; ${result.resolveProblem ?? ''}`);
  if (result.incidentsAtEnd !== 1) lines.push(`INCIDENTS: ${result.incidentsAtEnd} in the store at the end (expected 1)`);
  if (result.daemonErrors.length > 0) {
    lines.push('daemon error log lines (level ≥ 50), by message:');
    for (const e of result.daemonErrors.slice(0, max)) lines.push(`  ×${e.count} ${e.message}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Shared steps

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
