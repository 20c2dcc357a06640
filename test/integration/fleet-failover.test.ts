import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { type RedisServer, startRedisServer } from '../helpers/redis-server.js';
import { Target } from '../helpers/target.js';

/**
 * Fleet failover with real processes: two `tocsin run` on one Redis store; the leader is killed
 * with SIGKILL while a draft is open; the standby takes the lease, adopts the incident (no
 * duplicate), keeps every timeline entry, and resolves it when the target comes back.
 */
describe('leader failover (kill -9)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-failover-'));
  const target = new Target();
  let redis: RedisServer;
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    await target.start();
    redis = await startRedisServer();
  });
  afterAll(async () => {
    for (const d of daemons) d.kill();
    await target.stop();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the standby takes over with no duplicate incident and no lost timeline entry', async () => {
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0, tokens: [{ name: ops, role: operator, token_env: FAILOVER_TOKEN }] }
store: { kind: redis, url: "${redis.url}/0" }
components:
  - { id: shop, name: Web shop }
probes:
  - { id: shop-home, kind: http, component: shop, url: "http://127.0.0.1:${target.port}/", interval: 300ms, timeout: 250ms }
`,
    );
    process.env.FAILOVER_TOKEN = 'failover-operator-token-0123';
    const auth = { authorization: 'Bearer failover-operator-token-0123' };
    const incidents = async (url: string) =>
      ((await (await fetch(`${url}/api/v1/incidents`, { headers: auth })).json()) as { incidents: Incident[] }).incidents;

    const leader = await DaemonProcess.start(configFile, dir);
    daemons.push(leader.daemon);
    await waitFor(() => (leader.daemon.stderr.includes('leader: rules engine running') ? true : undefined));
    const standby = await DaemonProcess.start(configFile, dir);
    daemons.push(standby.daemon);

    await target.stop();
    const draft = await waitFor(async () => (await incidents(leader.url))[0], 15_000);
    // The standby serves the same store.
    expect((await incidents(standby.url)).map((i) => i.id)).toEqual([draft.id]);
    const before = (await incidents(standby.url))[0]?.timeline ?? [];
    expect(before.length).toBeGreaterThan(0);
    expect(standby.daemon.stderr).not.toContain('leader: rules engine running');
    // `tocsin_leader` says who runs the engine: one process, never both.
    const leads = async (url: string) => /^tocsin_leader 1$/m.test(await (await fetch(`${url}/metrics`)).text());
    expect(await leads(leader.url)).toBe(true);
    expect(await leads(standby.url)).toBe(false);

    leader.daemon.signal('SIGKILL');
    await leader.daemon.exited;
    // Takeover within the lease ttl (10 s by default).
    await waitFor(() => (standby.daemon.stderr.includes('leader: rules engine running') ? true : undefined), 20_000);
    expect(await leads(standby.url)).toBe(true);

    // The failure goes on under the new leader for several more checks: still one incident.
    const failures = async () => {
      const text = await (await fetch(`${standby.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith('tocsin_probe_checks_total{') && l.includes('result="failure"'));
      return Number(line?.split(' ').pop() ?? 0);
    };
    const atTakeover = await failures();
    await waitFor(async () => ((await failures()) >= atTakeover + 6 ? true : undefined), 15_000);
    expect((await incidents(standby.url)).map((i) => i.id)).toEqual([draft.id]);

    await target.start();
    const resolved = await waitFor(async () => {
      const all = await incidents(standby.url);
      return all[0]?.status === 'resolved' ? all : undefined;
    }, 20_000);
    expect(resolved.map((i) => i.id)).toEqual([draft.id]);
    const timeline = resolved[0]?.timeline ?? [];
    // Every entry written by the dead leader is still there, in order, followed by the standby's.
    expect(timeline.slice(0, before.length)).toEqual(before);
    expect(timeline.map((e) => e.kind)).toContain('resolved');

    standby.daemon.signal('SIGTERM');
    expect(await standby.daemon.exited).toBe(0);
  }, 90_000);
});
