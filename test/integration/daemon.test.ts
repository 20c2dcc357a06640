import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';

const execFileP = promisify(execFile);

function metricValue(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
      return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('tocsin run (embedded daemon, real HTTP target)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-daemon-'));
  const target = new Target();
  let daemon: DaemonProcess | undefined;
  const configFile = join(dir, 'tocsin.yml');

  const writeConfig = (interval: string) =>
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: web, name: Web, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:${target.port}/", interval: ${interval}, timeout: 800ms }
`,
    );

  beforeAll(async () => {
    await target.start();
  });
  afterEach(() => daemon?.kill());
  afterAll(async () => {
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('probes, exposes metrics, sees a stopped target fail with the right code, and restarts with last-known state', async () => {
    writeConfig('1s');
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    const { url } = started;
    const labels = { probe: 'web-home', kind: 'http', component: 'web', vantage: 'local' };

    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);

    await waitFor(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return metricValue(text, 'tocsin_probe_success', labels) === 1 ? true : undefined;
    });

    await target.stop();
    const text = await waitFor(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return metricValue(t, 'tocsin_probe_success', labels) === 0 ? t : undefined;
    });
    expect(
      metricValue(text, 'tocsin_probe_checks_total', {
        probe: 'web-home',
        result: 'failure',
        error: 'connect_refused',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      metricValue(text, 'tocsin_probe_checks_total', { probe: 'web-home', result: 'success' }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/tocsin_scheduler_lag_seconds_count \d+/);
    // The last check's duration per probe and target (a gauge, as Blackbox exporter's); the
    // histogram per kind and vantage only (metrics.per_probe_histograms is off by default).
    expect(text).toMatch(/^tocsin_probe_duration_seconds\{probe="web-home",kind="http",target="[^"]+",vantage="local"\} [0-9.e-]+$/m);
    expect(text).toMatch(/^tocsin_check_duration_seconds_bucket\{le="0.01",kind="http",vantage="local"\} \d+$/m);
    expect(text).not.toMatch(/tocsin_check_duration_seconds_bucket\{[^}]*probe=/);

    // The API needs a token: the fresh install generated one, 0600, in the data directory.
    const tokenFile = join(dir, 'data', 'operator.token');
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect((await fetch(`${url}/api/v1/probes`)).status).toBe(401);
    const unauthorized = await fetch(`${url}/api/v1/probes`, { headers: { authorization: 'Bearer wrong' } });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({
      error: { code: 'UNAUTHORIZED', message: expect.any(String) },
    });
    const probes = (await (
      await fetch(`${url}/api/v1/probes`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as {
      probes: { id: string; latest: { ok: boolean; error?: string; at: string }[] }[];
    };
    expect(probes.probes[0]?.id).toBe('web-home');
    expect(probes.probes[0]?.latest[0]).toMatchObject({
      ok: false,
      error: 'connect_refused',
      vantage: 'local',
    });
    expect(daemon.stderr).not.toContain(token);

    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(0);

    // Restarted with a long interval, the daemon shows the last-known result from SQLite at once.
    writeConfig('1h');
    const again = await DaemonProcess.start(configFile, dir);
    daemon = again.daemon;
    const after = (await (
      await fetch(`${again.url}/api/v1/probes`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as typeof probes;
    expect(after.probes[0]?.latest[0]).toMatchObject({ ok: false, error: 'connect_refused' });
    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(0);
    await target.start();
  });

  it('passes promtool check metrics', async () => {
    writeConfig('1s');
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    const exposition = await waitFor(async () => {
      const t = await (await fetch(`${started.url}/metrics`)).text();
      return t.includes('tocsin_probe_success{') ? t : undefined;
    });
    const file = join(dir, 'metrics.txt');
    writeFileSync(file, exposition);
    const { stdout, stderr } = await execFileP('sh', ['-c', `promtool check metrics < ${file}`]).catch(
      (err: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`promtool failed (${err.code}): ${err.stdout}${err.stderr}`);
      },
    );
    expect(`${stdout}${stderr}`).not.toMatch(/error/i);
  });

  it('a second SIGTERM exits at once while checks are still running', async () => {
    target.hang = true;
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
components: [{ id: web, name: Web }]
probes:
  - { id: slow, kind: http, component: web, url: "http://127.0.0.1:${target.port}/slow", interval: 30s, timeout: 15s }
`,
    );
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    // Wait until the check is in flight (its first slot is somewhere in the first 30 s).
    await waitFor(async () => {
      const t = await (await fetch(`${started.url}/metrics`)).text();
      return /tocsin_scheduler_inflight_checks 1/.test(t) ? true : undefined;
    }, 35_000);
    daemon.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(daemon.child.exitCode).toBeNull(); // still letting the running check finish
    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(130);
    target.hang = false;
  }, 60_000);
});

describe('CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('check-config: exit 0 on the shipped default config, 1 with FILE:LINE: key: reason lines on a bad one', async () => {
    const ok = await runCli(['check-config', '--config', 'config/tocsin.yml']);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);

    const bad = join(dir, 'bad.yml');
    writeFileSync(
      bad,
      'components:\n  - { id: web, name: Web }\nprobes:\n  - { id: x, kind: http, component: nope, url: "http://127.0.0.1:1/" }\n',
    );
    const res = await runCli(['check-config', '--config', bad]);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4: probes\\[0\\]\\.component: .+`, 'm'),
    );
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 on bad usage', async () => {
    expect((await runCli(['run', '--no-such-flag'])).code).toBe(2);
    expect((await runCli(['no-such-command'])).code).toBe(2);
  });

  it('tocsin probe ID prints one JSON event per target; exit 1 when a target fails', async () => {
    const server = createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const file = join(dir, 'probe.yml');
    writeFileSync(
      file,
      `components: [{ id: web, name: Web }]
probes:
  - { id: up, kind: http, component: web, url: "http://127.0.0.1:${port}/", expect: { body_contains: hello } }
  - { id: down, kind: http, component: web, url: "http://127.0.0.1:${port}/", expect: { body_contains: absent } }
`,
    );
    const up = await runCli(['probe', '--config', file, 'up']);
    expect(up.code).toBe(0);
    const lines = up.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({
      probe: 'up',
      vantage: 'local',
      target: `http://127.0.0.1:${port}/`,
      ok: true,
    });
    const down = await runCli(['probe', '--config', file, 'down']);
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout.trim())).toMatchObject({ ok: false, error: 'body_mismatch' });
    expect((await runCli(['probe', '--config', file, 'missing'])).code).toBe(1);
    server.close();
  });
});
