import { describe, expect, it } from 'vitest';
import {
  describeProblems,
  measureReadyWithOpenIncidents,
  runEmbeddedKillRounds,
  runRedisRestartRounds,
} from '../../bench/lib/reliability.js';
import { REDIS_SERVER_BIN } from '../helpers/redis-server.js';

/**
 * "Nothing acknowledged is ever lost, nothing unacknowledged is ever applied, and the detector
 * comes back by itself", with real processes (the harness is bench/lib/reliability.ts; the
 * benchmark `npm run bench -- reliability` runs many more rounds). Few rounds here; behaviour
 * only, never speed: every wait of the harness has a generous deadline (CI is a busy 2-core machine).
 * A failure message lists the offending notes with the HTTP answers they got.
 */
const log = process.env.TOCSIN_TEST_VERBOSE ? (line: string) => process.stderr.write(`  ${line}\n`) : undefined;
const WAIT_MS = 60_000;

/** Every 2xx note kept once, no refused note applied, the confirm 2xx, the incident resolved: one incident. */
function expectPromiseKept(r: Awaited<ReturnType<typeof runEmbeddedKillRounds>>): void {
  const problems = `seed ${r.seed}, incident ${r.incidentId}\n${describeProblems(r)}`;
  expect(r.notes.acked, problems).toBeGreaterThan(0);
  expect(r.notes.lost, problems).toBe(0);
  expect(r.notes.failedApplied, problems).toBe(0);
  expect(r.notes.duplicates, problems).toBe(0);
  expect(r.notes.strangers, problems).toBe(0);
  expect(r.confirm.status, problems).toBeGreaterThanOrEqual(200);
  expect(r.confirm.status, problems).toBeLessThan(300);
  expect(r.resolved, problems).toBe(true);
  expect(r.incidentsAtEnd, problems).toBe(1);
}

describe('reliability with real processes', () => {
  it('embedded: notes survive kill -9 of the daemon; it comes back and resolves by itself', async () => {
    const r = await runEmbeddedKillRounds({ rounds: 3, waitTimeoutMs: WAIT_MS, log });
    expect(r.timings).toHaveLength(3);
    expectPromiseKept(r);
  }, 240_000);

  // Uses Debian's redis-server, as the other Redis tests (test/helpers/redis-server.ts), here with
  // AOF and appendfsync always, stopped and started again on the same port and data directory.
  it('fleet: notes survive Redis restarts (AOF, fsync always); a daemon comes back ready by itself', async () => {
    const r = await runRedisRestartRounds({ rounds: 2, redisBin: REDIS_SERVER_BIN, signal: 'SIGTERM', outageMs: [3000, 5000], waitTimeoutMs: WAIT_MS, log });
    expect(r.timings).toHaveLength(2);
    expectPromiseKept(r);
  }, 240_000);

  it('ready with 100 open incidents in the store: starts and accepts a note on one of them', async () => {
    const r = await measureReadyWithOpenIncidents({ incidents: 100, waitTimeoutMs: WAIT_MS, log });
    expect(r.noteStatus).toBe(200);
    expect(r.openListed).toBe(100);
  }, 240_000);
});
