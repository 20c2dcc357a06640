import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { AofRedis } from '../../bench/lib/harness.js';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { REDIS_SERVER_BIN } from '../helpers/redis-server.js';
import { closedPort, startHttpServer, type TestServer } from '../helpers/servers.js';

/**
 * Redis outages in fleet mode, with real processes: two `tocsin run` on one Redis store (inline
 * queues, a loopback target answering 503, so the leader opens a draft), operators posting notes
 * (and a confirm) to both daemons while redis-server (AOF) is stopped with SIGKILL, then with
 * SIGTERM, and started again on the same port and data directory. Behaviour, not speed: during
 * the outage every mutation answers 503 with the error JSON, and within a deadline (the daemon
 * answers within 1 s; the bound below leaves room for a busy 2-core machine); the leader steps
 * down at once (not when its 10 s lease would run out); a leader is elected again after the
 * restart; every action that was answered 2xx is in the stored timeline, and none answered
 * UNAVAILABLE ("nothing was written") is.
 */

/** What the daemon promises is 1 s; the margin is for a loaded CI machine, not for the daemon. */
const ANSWER_BOUND_MS = 2500;
/** The leader steps down on the connection's close: well before its lease validity (~10 s). */
const STEP_DOWN_BOUND_MS = 2500;
const REELECT_BOUND_MS = 30_000;
const TOKEN = 'outage-operator-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const log = process.env.TOCSIN_TEST_VERBOSE ? (line: string) => process.stderr.write(`  ${line}\n`) : () => undefined;

interface Answer {
  readonly what: string;
  readonly daemon: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly ms: number;
  readonly status: number;
  readonly body: unknown;
}

async function post(daemon: number, url: string, path: string, body: object, what: string): Promise<Answer> {
  const sentAt = Date.now();
  const t0 = performance.now();
  let status = 0;
  let parsed: unknown;
  try {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    status = res.status;
    const text = await res.text();
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  } catch (err) {
    parsed = String(err);
  }
  return { what, daemon, sentAt, answeredAt: Date.now(), ms: performance.now() - t0, status, body: parsed };
}

async function getJson(url: string, path: string): Promise<{ status: number; body: unknown; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}${path}`, { headers: auth, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as unknown, ms: performance.now() - t0 };
}

/** The daemon's log lines (pino JSON) written after `from` characters of its stderr. */
function logLines(d: DaemonProcess, from = 0): { msg: string; time: number; [key: string]: unknown }[] {
  const out: { msg: string; time: number }[] = [];
  for (const line of d.stderr.slice(from).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as { msg: string; time: number });
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** Whether the daemon's last word on the engine is that it runs (leader) rather than stopped. */
function leads(d: DaemonProcess): boolean {
  const lines = logLines(d).filter((l) => l.msg === 'leader: rules engine running' || l.msg === 'standby: rules engine stopped');
  return lines.at(-1)?.msg === 'leader: rules engine running';
}

function errorCode(a: { body: unknown }): unknown {
  return (a.body as { error?: { code?: unknown } } | undefined)?.error?.code;
}

describe('Redis store outage (fleet mode, real processes)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-redis-outage-'));
  let target: TestServer;
  let redis: AofRedis;
  const daemons: DaemonProcess[] = [];
  const urls: string[] = [];
  let incidentId = '';
  /** Every answer of every round: 2xx ones must all be in the timeline at the end. */
  const answers: Answer[] = [];
  const figures: string[] = [];

  beforeAll(async () => {
    // The target fails (503): the leader opens a draft.
    target = await startHttpServer((_req, res) => res.writeHead(503).end('down\n'));
    mkdirSync(join(dir, 'redis'));
    redis = new AofRedis(REDIS_SERVER_BIN, join(dir, 'redis'), await closedPort());
    await redis.start(15_000);
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0, tokens: [{ name: ops, role: operator, token_env: OUTAGE_TOKEN }] }
store: { kind: redis, url: "${redis.url}/0" }
components:
  - { id: shop, name: Web shop }
probes:
  - { id: shop-home, kind: http, component: shop, url: "${target.url}/", interval: 300ms, timeout: 250ms }
`,
    );
    process.env.OUTAGE_TOKEN = TOKEN;
    for (const _ of [0, 1]) {
      const started = await DaemonProcess.start(configFile, dir);
      daemons.push(started.daemon);
      urls.push(started.url);
      if (daemons.length === 1) {
        await waitFor(() => (leads(started.daemon) ? true : undefined), 20_000);
      }
    }
    const draft = await waitFor(async () => {
      const r = await getJson(urls[1] as string, '/api/v1/incidents');
      return (r.body as { incidents?: Incident[] }).incidents?.[0];
    }, 30_000);
    incidentId = draft.id;
  }, 90_000);

  afterAll(async () => {
    for (const d of daemons) d.kill();
    await redis?.stop('SIGKILL');
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
    if (figures.length > 0) process.stderr.write(`redis-store-outage figures:\n  ${figures.join('\n  ')}\n`);
  });

  /**
   * One round: writers post notes to both daemons; Redis is stopped with `signal` while they run
   * (a confirm sent at the same moment when `confirm`), stays away ~3 s, and is started again.
   * SIGSTOP freezes it instead (then SIGCONT): every call hangs rather than failing, and the
   * leader steps down only when its renewal times out (the client's 5 s command timeout).
   */
  async function outageRound(round: string, signal: 'SIGKILL' | 'SIGTERM' | 'SIGSTOP', confirm: boolean): Promise<void> {
    const frozen = signal === 'SIGSTOP';
    // Renewal every 3 s + its 5 s command timeout; the lease's own validity (~10 s) caps it.
    const stepDownBound = frozen ? 12_000 : STEP_DOWN_BOUND_MS;
    const leaderIndex = await waitFor(() => {
      const i = daemons.findIndex((d) => leads(d));
      return i >= 0 ? i : undefined;
    }, REELECT_BOUND_MS);
    const leader = daemons[leaderIndex] as DaemonProcess;
    const mine: Answer[] = [];
    let writing = true;
    const writer = async (w: number): Promise<void> => {
      for (let n = 0; writing; n++) {
        const d = (w + n) % 2;
        const text = `${round}-w${w}-n${n}`;
        mine.push(await post(d, urls[d] as string, `/api/v1/incidents/${incidentId}/notes`, { text }, text));
        await new Promise((r) => setTimeout(r, 30));
      }
    };
    const writers = [0, 1, 2].map((w) => writer(w));
    // Some notes acknowledged before the outage.
    await waitFor(() => (mine.filter((a) => a.status === 200).length >= 6 ? true : undefined), 20_000, 20);

    const logFrom = daemons.map((d) => d.stderr.length);
    const confirming = confirm
      ? post(1 - leaderIndex, urls[1 - leaderIndex] as string, `/api/v1/incidents/${incidentId}/confirm`, { note: `${round}-confirm` }, `${round}-confirm`)
      : undefined;
    const stoppedAt = Date.now();
    if (frozen) redis.pause();
    else await redis.stop(signal);
    const goneAt = Date.now();
    log(`${round}: redis stopped (${signal}) in ${goneAt - stoppedAt} ms`);

    // The leader steps down: its log says so (at once), its /readyz says why it is not ready.
    const lost = await waitFor(() => logLines(leader, logFrom[leaderIndex]).find((l) => l.msg === 'leader lease lost'), stepDownBound + 5000, 20);
    const stepDownMs = lost.time - stoppedAt;
    await waitFor(() => (logLines(leader, logFrom[leaderIndex]).some((l) => l.msg === 'standby: rules engine stopped') ? true : undefined), 15_000, 20);
    const ready = await getJson(urls[leaderIndex] as string, '/readyz');
    expect(ready.status).toBe(503);
    expect((ready.body as { reason: string }).reason).toMatch(/store unreachable: store unavailable/);
    // Reads fail clearly and quickly, on both.
    const reads = await Promise.all(urls.map((u) => getJson(u, `/api/v1/incidents/${incidentId}`)));
    for (const r of reads) {
      expect(r.status).toBe(503);
      expect(errorCode(r)).toBe('UNAVAILABLE');
      expect(r.ms).toBeLessThan(ANSWER_BOUND_MS);
    }
    // Writers keep going through ~3 s of outage.
    await new Promise((r) => setTimeout(r, 3000));
    const confirmAnswer = await confirming;
    if (confirmAnswer) mine.push(confirmAnswer);
    const restartAt = Date.now();
    if (frozen) redis.resume();
    else await redis.start(15_000);
    const restartedAt = Date.now();

    // A leader again (either daemon), within the bound.
    const reelected = await waitFor(() => {
      for (const [i, d] of daemons.entries()) {
        const line = logLines(d, logFrom[i]).find((l) => l.msg === 'leader: rules engine running');
        if (line) return { i, time: line.time };
      }
      return undefined;
    }, REELECT_BOUND_MS, 50);
    const reelectMs = reelected.time - restartedAt;
    // Notes are acknowledged again after the restart, then the writers stop.
    const ackedAgain = () => (mine.some((a) => a.sentAt > restartedAt && a.status === 200) ? true : undefined);
    await waitFor(ackedAgain, REELECT_BOUND_MS, 50);
    writing = false;
    await Promise.all(writers);
    await waitFor(async () => {
      const all = await Promise.all(urls.map((u) => getJson(u, '/readyz')));
      return all.every((r) => r.status === 200) ? true : undefined;
    }, REELECT_BOUND_MS);

    // During the outage (sent once Redis was gone, answered before it was started again): every
    // mutation 503 with the error JSON, within the bound.
    const during = mine.filter((a) => a.sentAt >= goneAt && a.answeredAt <= restartAt);
    expect(during.length).toBeGreaterThan(5);
    for (const a of during) {
      expect(a.status, JSON.stringify(a)).toBe(503);
      expect(['UNAVAILABLE', 'OUTCOME_UNKNOWN'], JSON.stringify(a)).toContain(errorCode(a));
    }
    // Every answer of the round (in flight at the stop included) within the bound.
    const slowest = Math.max(...mine.map((a) => a.ms));
    for (const a of mine) expect(a.ms, JSON.stringify(a)).toBeLessThan(ANSWER_BOUND_MS);
    const duringMs = during.map((a) => a.ms).sort((x, y) => x - y);
    const inFlight = mine.filter((a) => a.sentAt < goneAt && a.answeredAt >= stoppedAt);
    figures.push(
      `${round} (${signal}): step-down ${stepDownMs} ms after the stop; ${during.length} mutations during the outage: ` +
        `median ${duringMs[Math.floor(duringMs.length / 2)]?.toFixed(0)} ms, max ${duringMs.at(-1)?.toFixed(0)} ms; ` +
        `in flight at the stop: ${inFlight.map((a) => `${a.status}/${String(errorCode(a) ?? '')} ${a.ms.toFixed(0)} ms`).join(', ')}; ` +
        `slowest answer of the round ${slowest.toFixed(0)} ms; re-elected (daemon ${reelected.i}) ${reelectMs} ms after Redis was back`,
    );
    log(figures.at(-1) as string);
    expect(stepDownMs).toBeLessThan(stepDownBound);
    answers.push(...mine);

    // Nothing acknowledged is missing; nothing answered UNAVAILABLE was applied.
    const doc = (await waitFor(async () => {
      const r = await getJson(urls[reelected.i] as string, `/api/v1/incidents/${incidentId}`);
      return r.status === 200 ? r.body : undefined;
    }, 10_000)) as Incident;
    const texts = doc.timeline.map((e) => e.text);
    for (const a of answers) {
      // A note's entry is its text; a confirm's ends with ": <its note>".
      const count = texts.filter((t) => t === a.what || t.endsWith(`: ${a.what}`)).length;
      if (a.status === 200) expect(count, `acknowledged ${JSON.stringify(a)} in the timeline`).toBe(1);
      if (errorCode(a) === 'UNAVAILABLE') expect(count, `refused ${JSON.stringify(a)} not applied`).toBe(0);
    }
    if (confirmAnswer?.status === 200) expect(doc.review).toBe('confirmed');
    if (confirmAnswer && errorCode(confirmAnswer) === 'UNAVAILABLE') expect(doc.review).toBe('pending');
  }

  it('Redis killed (SIGKILL) with actions in flight: 503 JSON within a second, step-down at once, re-election, nothing acknowledged lost', async () => {
    await outageRound('kill', 'SIGKILL', true);
  }, 120_000);

  it('Redis stopped (SIGTERM) with actions in flight: the same', async () => {
    await outageRound('term', 'SIGTERM', false);
  }, 120_000);

  it('Redis frozen (SIGSTOP: unreachable, calls hang): 503 JSON within a second still; step-down when the renewal times out', async () => {
    await outageRound('frozen', 'SIGSTOP', false);
    // Operators act after the recovery as before: a confirm (if the first round's did not take) and a note.
    const doc = (await getJson(urls[0] as string, `/api/v1/incidents/${incidentId}`)).body as Incident;
    if (doc.review === 'pending') {
      expect((await post(0, urls[0] as string, `/api/v1/incidents/${incidentId}/confirm`, {}, 'after-confirm')).status).toBe(200);
    }
    expect((await post(1, urls[1] as string, `/api/v1/incidents/${incidentId}/notes`, { text: 'after-note' }, 'after-note')).status).toBe(200);
  }, 120_000);
});
