import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLbSyncProbe, LbSyncProbeSpec, type LbSyncCheckSpec } from '../../probes/lb-sync.js';
import type { ProbeKind } from '../../probes/probe.js';
import { TlsSpec } from '../../probes/shared/tls-spec.js';
import type { CheckResult } from '../../src/events/probe-result.js';
import { createTestPki, type CertPair, type TestPki } from '../helpers/certs.js';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { type HaproxyFleet, type HaproxySite, startHaproxyFleet } from '../helpers/haproxy.js';
import { hostile, startHttpServer, type TestServer } from '../helpers/servers.js';

// lb_sync against a fleet of four real HAProxy instances on 127.0.0.2-5 (TLS with a test CA), playing
// S1: some load-balancer instances stop taking config updates. Lags are driven by a fake clock
// handed to the probe kind, so no test waits on wall time for max_lag.

const execFileP = promisify(execFile);
const APPS = ['app1.example.test', 'app2.example.test', 'app3.example.test'];
const SLACK_MS = 300;

/** Config v42: app1 and app3 exist; app2 is unknown (404 everywhere, which is consistent). */
const V42: HaproxySite = { version: 42, apps: [{ host: APPS[0] ?? '' }, { host: APPS[2] ?? '' }] };
/** Config v43: adds the new app2. */
const V43: HaproxySite = { version: 43, apps: APPS.map((host) => ({ host })) };
/** v43 with random 503s on app3 (S7). */
const V43_APP3_503: HaproxySite = {
  version: 43,
  apps: APPS.map((host) => (host === APPS[2] ? { host, status: 503, body: 'upstream unavailable' } : { host })),
};

let pki: TestPki;
let site: CertPair;
let fleet: HaproxyFleet;
let control: TestServer;
let controlVersion = 43;
const extraServers: TestServer[] = [];

beforeAll(async () => {
  pki = await createTestPki();
  site = await pki.issue('site', { dns: APPS });
  fleet = await startHaproxyFleet({ count: 4, site: V42, tls: site });
  control = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ lb: { config_version: controlVersion } }));
  });
});

afterAll(async () => {
  await Promise.all([fleet?.close(), control?.close(), ...extraServers.map((s) => s.close())]);
  await pki?.cleanup();
});

const instances = (): string[] => fleet.instances.map((i) => i.address);

/** The spec as in the seed 000 example: every route, headers + certificate + body compared. */
function specOf(overrides: Record<string, unknown> = {}, id = 'lb-sync-par'): LbSyncCheckSpec {
  const spec = LbSyncProbeSpec.parse({
    instances: instances(),
    routes: APPS.map((host) => ({ host })),
    compare: ['status', 'header:x-config-version', 'cert_fingerprint', 'body_sha256'],
    version: { url: fleet.versionUrl, json_path: 'config.version' },
    max_lag: '0s',
    ...overrides,
  });
  return { ...spec, id, tls: TlsSpec.parse({ ca: pki.ca.cert }) };
}

/** A probe kind with its own lag state and a clock the test moves. */
function fakeClockProbe(start = Date.parse('2023-11-24T09:25:00Z')) {
  const clock = { now: start };
  return { clock, probe: createLbSyncProbe({ now: () => clock.now }) };
}

async function check(
  spec: LbSyncCheckSpec,
  probe: ProbeKind<LbSyncCheckSpec> = createLbSyncProbe(),
  timeoutMs = 3000,
): Promise<CheckResult[]> {
  const results = await probe.run(spec, probe.targets(spec), { signal: AbortSignal.timeout(timeoutMs), timeoutMs });
  expect(results.map((r) => r.target)).toEqual(probe.targets(spec));
  return results;
}

const summary = (results: CheckResult[]) => results.map((r) => (r.ok ? 'ok' : r.error));

describe('lb_sync against real HAProxy instances (S1)', () => {
  it('finds four instances on config v42 in sync', async () => {
    const results = await check(specOf());
    expect(summary(results)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const r of results) {
      expect(r.observations).toEqual({ in_sync: true, lag_s: 0, version: '42', majority_version: '42' });
      expect(r.duration_ms).toBeGreaterThan(0);
    }
  });

  it('holds a fleet that agrees on v42 against the control plane saying 43: all out of sync', async () => {
    controlVersion = 43;
    const results = await check(
      specOf({ expected_version: { url: `${control.url}/lb/version`, json_path: 'lb.config_version' } }),
    );
    expect(summary(results)).toEqual(Array(4).fill('config_out_of_sync'));
    for (const r of results) {
      expect(r.detail).toBe('config version 42, expected 43');
      expect(r.observations).toMatchObject({ in_sync: false, version: '42', expected_version: '43' });
    }
  });

  it('flags the instance left on v42 when three reload v43 with a new app (max_lag 0s)', async () => {
    await Promise.all(fleet.instances.slice(0, 3).map((i) => i.reload(V43)));
    const results = await check(specOf());
    expect(summary(results)).toEqual(['ok', 'ok', 'ok', 'config_out_of_sync']);
    const stale = results[3];
    expect(stale?.detail).toBe('x-config-version 42 on app1.example.test/, majority 43 (+3 more)');
    const obs = stale?.observations ?? {};
    expect(obs).toMatchObject({
      in_sync: false,
      lag_s: 0,
      route: 'app1.example.test/',
      version: '42',
      majority_version: '43',
    });
    // The new app answers 404 on the stale instance only.
    expect(obs.differences).toContainEqual({
      route: 'app2.example.test/',
      compare: 'status',
      value: '404',
      reference: '200',
      against: 'majority',
    });
    // Same certificate everywhere: never named as a difference.
    expect(JSON.stringify(obs.differences)).not.toContain('cert_fingerprint');
    for (const r of results.slice(0, 3)) expect(r.observations).toMatchObject({ in_sync: true, version: '43' });
  });

  it('with max_lag 2s, is ok with its lag first, then out of sync once the lag reaches 2s', async () => {
    const { clock, probe } = fakeClockProbe();
    const spec = specOf({ max_lag: '2s' });
    const first = await check(spec, probe);
    expect(summary(first)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(first[3]?.observations).toMatchObject({
      in_sync: false,
      lag_s: 0,
      differs_since: '2023-11-24T09:25:00.000Z',
    });
    expect(first[3]?.detail).toContain('within max_lag 2s');

    clock.now += 1500;
    const second = await check(spec, probe);
    expect(second[3]).toMatchObject({ ok: true, observations: { in_sync: false, lag_s: 1.5 } });

    clock.now += 500;
    const third = await check(spec, probe);
    expect(summary(third)).toEqual(['ok', 'ok', 'ok', 'config_out_of_sync']);
    expect(third[3]?.detail).toBe('x-config-version 42 on app1.example.test/, majority 43 (+3 more), for 2s');
  });

  it('gives a stopped instance its own connect_refused while the others are still compared', async () => {
    const down = fleet.instances[0];
    if (!down) throw new Error('no instance');
    await down.stop();
    try {
      const results = await check(specOf());
      expect(summary(results)).toEqual(['connect_refused', 'ok', 'ok', 'config_out_of_sync']);
      expect(results[0]?.detail).toMatch(/^app1\.example\.test\/: .*ECONNREFUSED/);
      expect(results[0]?.observations).not.toHaveProperty('in_sync');
      // The stale instance is still measured against the two v43 instances that answered.
      expect(results[3]?.observations).toMatchObject({ majority_version: '43' });
    } finally {
      await down.restart();
    }
  });

  it('is back in sync once the last instance reloads, and its lag is forgotten', async () => {
    const { clock, probe } = fakeClockProbe();
    const spec = specOf({ max_lag: '30s' });
    expect((await check(spec, probe))[3]?.observations).toMatchObject({ in_sync: false });
    await fleet.instances[3]?.reload(V43);
    clock.now += 10_000;
    const results = await check(spec, probe);
    expect(summary(results)).toEqual(['ok', 'ok', 'ok', 'ok']);
    for (const r of results) {
      expect(r.observations).toEqual({ in_sync: true, lag_s: 0, version: '43', majority_version: '43' });
    }
  });

  it('S7: a route answering 503 on some instances only is a difference there, never the reference', async () => {
    await fleet.instances[1]?.reload(V43_APP3_503);
    const one = await check(specOf());
    expect(summary(one)).toEqual(['ok', 'config_out_of_sync', 'ok', 'ok']);
    expect(one[1]?.detail).toBe('status 503 on app3.example.test/, majority 200');

    // Two against two: the instances serving a server error lose the tie.
    await fleet.instances[2]?.reload(V43_APP3_503);
    const two = await check(specOf());
    expect(summary(two)).toEqual(['ok', 'config_out_of_sync', 'config_out_of_sync', 'ok']);

    await Promise.all([fleet.instances[1]?.reload(V43), fleet.instances[2]?.reload(V43)]);
    expect(summary(await check(specOf()))).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('names a certificate regenerated on one instance only', async () => {
    const other = await pki.issue('site-regenerated', { dns: APPS });
    const pem = join(fleet.dir, 'regenerated.pem');
    writeFileSync(pem, `${other.cert.trim()}\n${other.key.trim()}\n`, { mode: 0o600 });
    const target = fleet.instances[2];
    if (!target) throw new Error('no instance');
    const original = join(fleet.dir, 'site.pem');
    await target.reload(V43, { pem });
    try {
      const results = await check(specOf({ compare: ['cert_fingerprint'] }));
      expect(summary(results)).toEqual(['ok', 'ok', 'config_out_of_sync', 'ok']);
      expect(results[2]?.detail).toMatch(/^certificate [0-9A-F:]{11}… on app1\.example\.test\/, majority [0-9A-F:]{11}…/);
    } finally {
      await target.reload(V43, { pem: original });
    }
  });

  it('reports TLS verification failures per instance, not as a desync', async () => {
    const spec = { ...specOf(), tls: TlsSpec.parse({}) };
    const results = await check(spec);
    expect(summary(results)).toEqual(Array(4).fill('tls_cert_invalid'));
  });

  it('fails a hanging instance with timeout within the deadline; the others still answer', async () => {
    const silent = await hostile.silentTcp();
    extraServers.push(silent);
    const spec = specOf({ instances: [...instances(), silent.address] });
    const started = performance.now();
    const results = await check(spec, createLbSyncProbe(), 1000);
    expect(performance.now() - started).toBeLessThan(1000 + SLACK_MS);
    expect(summary(results)).toEqual(['ok', 'ok', 'ok', 'ok', 'timeout']);
    expect(results[4]?.detail).toMatch(/^app1\.example\.test\/: timeout during tls/);
    expect(results[4]?.duration_ms).toBeLessThan(1000 + SLACK_MS);
  });

  it('checks plain-http routes through the instances too', async () => {
    // The admin listener answers every request with the version JSON: three instances agree.
    const spec = specOf({
      instances: fleet.instances.map((i) => `${i.address.split(':')[0]}:${fleet.adminPort}`),
      routes: [{ host: 'anything.example.test', scheme: 'http' }],
      compare: ['status', 'body_sha256'],
      version: undefined,
    });
    const results = await check(spec);
    expect(summary(results)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });
});

describe('lb_sync through the CLI and the daemon', () => {
  let dir = '';
  let daemon: DaemonProcess | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tocsin-lb-sync-'));
  });
  afterAll(() => {
    daemon?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const writeConfig = (file: string, extra = ''): void =>
    writeFileSync(
      file,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: lb-public-par, name: Public load balancers, group: Reverse Proxies, region: PAR }
probes:
  - id: lb-sync-par
    kind: lb_sync
    component: lb-public-par
    interval: 1s
    timeout: 900ms
    instances: [${instances().join(', ')}]
    routes:
      - { host: app1.example.test }
      - { host: app2.example.test, path: / }
    compare: [status, "header:x-config-version", cert_fingerprint, body_sha256]
    version: { url: "${fleet.versionUrl}", json_path: config.version }
    max_lag: 0s
    tls: { ca_file: ${pki.ca.certFile} }
${extra}`,
    );

  it('tocsin probe prints one JSON line per instance', async () => {
    await fleet.instances[3]?.reload(V42);
    const file = join(dir, 'probe.yml');
    writeConfig(file);
    const res = await runCli(['probe', '--config', file, 'lb-sync-par'], { cwd: dir });
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.target)).toEqual(instances());
    expect(lines.map((l) => l.ok)).toEqual([true, true, true, false]);
    expect(lines[3]).toMatchObject({
      probe: 'lb-sync-par',
      vantage: 'local',
      error: 'config_out_of_sync',
      observations: { version: '42', majority_version: '43' },
    });
    expect(res.code).toBe(1);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('tocsin check-config rejects a bad lb_sync spec with FILE:LINE: key: reason', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      `components: [{ id: lb, name: LB }]
probes:
  - id: lb-sync
    kind: lb_sync
    component: lb
    instances: [10.0.0.1:443, 10.0.0.1]
    routes: [{ host: app1.example.com }]
    compare: [colour]
    version: { url: "http://{instance}/version" }
`,
    );
    const res = await runCli(['check-config', '--config', file], { cwd: dir });
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/^bad\.yml:8: probes\[0\]\.compare\[0\]: unknown compare item "colour"/m);
    expect(res.stdout).toMatch(/bad\.yml:\d+: probes\[0\]\.instances\[1\]: must be host:port/);
    expect(res.stdout).toMatch(/bad\.yml:\d+: probes\[0\]\.version: give exactly one of json_path or regex/);
  });

  it('the daemon exposes in_sync and lag per instance, and the exposition passes promtool', async () => {
    const file = join(dir, 'tocsin.yml');
    writeConfig(file);
    const started = await DaemonProcess.start(file, dir);
    daemon = started.daemon;
    const exposition = await waitFor(async () => {
      const t = await (await fetch(`${started.url}/metrics`)).text();
      return (t.match(/^tocsin_lb_config_in_sync\{/gm) ?? []).length === 4 ? t : undefined;
    }, 15_000);
    const value = (instance: string, name: string): number | undefined => {
      const line = exposition
        .split('\n')
        .find((l) => l.startsWith(`${name}{`) && l.includes(`instance="${instance}"`));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    };
    const [a, , , d] = instances();
    expect(value(a ?? '', 'tocsin_lb_config_in_sync')).toBe(1);
    expect(value(d ?? '', 'tocsin_lb_config_in_sync')).toBe(0);
    expect(value(a ?? '', 'tocsin_lb_config_lag_seconds')).toBe(0);
    expect(value(d ?? '', 'tocsin_lb_config_lag_seconds')).toBeGreaterThanOrEqual(0);
    const metricsFile = join(dir, 'metrics.txt');
    writeFileSync(metricsFile, exposition);
    const { stdout, stderr } = await execFileP('sh', ['-c', `promtool check metrics < ${metricsFile}`]).catch(
      (err: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`promtool failed (${err.code}): ${err.stdout}${err.stderr}`);
      },
    );
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(0);
    daemon = undefined;
  });
});
