import { describe, expect, it } from 'vitest';
import { runChaos } from '../../bench/lib/chaos.js';
import { describeNotes } from '../../bench/lib/reliability.js';
import { REDIS_SERVER_BIN } from '../helpers/redis-server.js';

/**
 * The fleet's bad day with real processes (the harness is bench/lib/chaos.ts): a leader and a
 * standby `tocsin run` on the Redis store, three workers at two vantages, three targets that go
 * down and up, notes written all along, while a worker is killed (-9), Redis is killed and
 * restarted (AOF, fsync always) and the leader is killed (-9). Behaviour only, never speed:
 * every wait has a generous deadline (CI is a busy 2-core machine).
 */
const log = process.env.TOCSIN_TEST_VERBOSE ? (line: string) => process.stderr.write(`  ${line}\n`) : undefined;

describe('fleet chaos (real processes)', () => {
  it('every outage is exactly one incident, resolved; no acknowledged note or confirmation is lost', async () => {
    const r = await runChaos({ redisBin: REDIS_SERVER_BIN, waitTimeoutMs: 60_000, log });
    const problems = [
      ...r.outages.map((o) => `outage ${o.component} (${o.fault}): ${o.incidents} incident(s), resolved ${o.resolved}\n${describeNotes(o.notes)}`),
      ...r.daemonErrors.slice(0, 10).map((e) => `  ×${e.count} ${e.message}`),
    ].join('\n');
    expect(r.outages.map((o) => o.fault), problems).toEqual(['worker-kill', 'redis-restart', 'leader-kill']);
    for (const o of r.outages) {
      expect(o.incidents, problems).toBe(1);
      expect(o.resolved, problems).toBe(true);
      expect(o.notes.acked, problems).toBeGreaterThan(0);
      expect(o.notes.lost, problems).toBe(0);
      expect(o.notes.failedApplied, problems).toBe(0);
      expect(o.notes.duplicates, problems).toBe(0);
      expect(o.notes.strangers, problems).toBe(0);
    }
    expect(r.incidentsAtEnd, problems).toBe(3);
    expect(r.confirmsLost, problems).toBe(0);
  }, 300_000);
});
