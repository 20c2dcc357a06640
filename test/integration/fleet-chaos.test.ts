import { describe, expect, it } from 'vitest';
import { type ChaosResult, runChaos } from '../../bench/lib/chaos.js';
import { describeNotes } from '../../bench/lib/reliability.js';
import { REDIS_SERVER_BIN } from '../helpers/redis-server.js';
import { startSentinelDeployment } from '../helpers/redis-sentinel.js';

/**
 * The fleet's bad day with real processes (the harness is bench/lib/chaos.ts): a leader and a
 * standby `tocsin run` on the Redis store, three workers at two vantages, three targets that go
 * down and up, notes written all along, while a worker is killed (-9), Redis is killed and
 * restarted (AOF, fsync always) and the leader is killed (-9). Behaviour only, never speed:
 * every wait has a generous deadline (CI is a busy 2-core machine).
 */
const log = process.env.TOCSIN_TEST_VERBOSE ? (line: string) => process.stderr.write(`  ${line}\n`) : undefined;

/** Every outage one incident, resolved; every acknowledged note and confirmation kept. */
function expectNothingLost(r: ChaosResult, faults: readonly string[]): void {
  const problems = [
    ...r.outages.map((o) => `outage ${o.component} (${o.fault}): ${o.incidents} incident(s), resolved ${o.resolved}\n${describeNotes(o.notes)}`),
    ...r.daemonErrors.slice(0, 10).map((e) => `  ×${e.count} ${e.message}`),
  ].join('\n');
  expect(r.outages.map((o) => o.fault), problems).toEqual(faults);
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
}

describe('fleet chaos (real processes)', () => {
  it('every outage is exactly one incident, resolved; no acknowledged note or confirmation is lost', async () => {
    const r = await runChaos({ redisBin: REDIS_SERVER_BIN, waitTimeoutMs: 60_000, log });
    expectNothingLost(r, ['worker-kill', 'redis-restart', 'leader-kill']);
  }, 300_000);

  // The same day behind Redis Sentinel (a primary, a replica, three Sentinels; incident writes
  // wait for the replica): the Redis round kills the primary with -9 while a draft is open and
  // operators write; the replica is promoted and the fleet goes on against it.
  it('behind Sentinel: a kill -9 of the primary during an outage loses no acknowledged note, opens no duplicate', async () => {
    const deployment = await startSentinelDeployment({ name: 'tocsin-chaos' });
    try {
      const r = await runChaos({
        waitTimeoutMs: 60_000,
        log,
        redis: {
          url: deployment.url,
          fault: 'sentinel-failover',
          inject: async () => {
            const primary = await deployment.primaryPort();
            if (primary === undefined) throw new Error(`no primary announced\n${deployment.log()}`);
            await deployment.kill(primary);
          },
          log: () => deployment.log(),
        },
      });
      expectNothingLost(r, ['worker-kill', 'sentinel-failover', 'leader-kill']);
    } finally {
      await deployment.stop();
    }
  }, 300_000);
});
