import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { refusedPort } from '../helpers/refused-port.js';
import { Target } from '../helpers/target.js';

/** The value of the first series of `name` whose labels include `labels`. */
function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('reload: SIGHUP, POST /-/reload and tocsin reload apply a new config without a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-reload-'));
  const configFile = join(dir, 'tocsin.yml');
  const target = new Target();
  let daemon: DaemonProcess | undefined;
  let url = '';
  let token = '';
  let downPort = 0;

  const probe = (id: string, component: string, address: string) =>
    `  - { id: ${id}, kind: http, component: ${component}, url: "http://${address}", interval: 1s, timeout: 800ms }\n`;
  const config = (probes: string, listen = '127.0.0.1:0') =>
    `server: { listen: ${listen} }
components:
  - { id: web, name: Web, group: Apps }
  - { id: api, name: API, group: Apps }
  - { id: db, name: Database, group: Data }
probes:
${probes}`;

  const metrics = async (): Promise<string> => (await fetch(`${url}/metrics`)).text();
  const probeIds = async (): Promise<string[]> => {
    const res = await fetch(`${url}/api/v1/probes`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { probes: { id: string }[] };
    return body.probes.map((p) => p.id).sort();
  };
  const incidents = async (): Promise<{ id: string; status: string }[]> => {
    const res = await fetch(`${url}/api/v1/incidents`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { incidents: { id: string; status: string }[] }).incidents;
  };

  beforeAll(async () => {
    await target.start();
    downPort = await refusedPort();
    writeFileSync(
      configFile,
      config(probe('web-home', 'web', `127.0.0.1:${target.port}/`) + probe('old', 'api', `127.0.0.1:${target.port}/old`) + probe('db-down', 'db', `127.0.0.1:${downPort}/`)),
    );
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    url = started.url;
    token = readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim();
  }, 30_000);

  afterAll(async () => {
    daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('on SIGHUP: a new probe starts, a removed one stops and leaves /metrics, an unchanged one keeps its series, an open incident stays the one incident', async () => {
    // Running: both probes checked, the failing one's draft opened, the reload metrics set at start.
    await waitFor(async () => {
      const text = await metrics();
      return metricValue(text, 'tocsin_probe_success', { probe: 'old' }) === 1 ? true : undefined;
    }, 15_000);
    const [draft] = await waitFor(async () => {
      const open = (await incidents()).filter((i) => i.status === 'open');
      return open.length === 1 ? open : undefined;
    }, 30_000);
    let text = await metrics();
    expect(metricValue(text, 'tocsin_config_last_reload_successful')).toBe(1);
    const loadedAt = metricValue(text, 'tocsin_config_last_reload_success_timestamp_seconds') ?? 0;
    expect(loadedAt).toBeGreaterThan(0);
    const checksBefore = metricValue(text, 'tocsin_probe_checks_total', { probe: 'web-home', result: 'success' }) ?? 0;
    const failuresBefore = metricValue(text, 'tocsin_probe_checks_total', { probe: 'db-down', result: 'failure' }) ?? 0;
    expect(checksBefore).toBeGreaterThan(0);

    writeFileSync(
      configFile,
      config(probe('web-home', 'web', `127.0.0.1:${target.port}/`) + probe('db-down', 'db', `127.0.0.1:${downPort}/`) + probe('fresh', 'api', `127.0.0.1:${target.port}/fresh`)),
    );
    daemon?.signal('SIGHUP');
    await waitFor(async () => ((await probeIds()).join() === 'db-down,fresh,web-home' ? true : undefined), 15_000);
    text = await waitFor(async () => {
      const t = await metrics();
      return metricValue(t, 'tocsin_probe_success', { probe: 'fresh' }) === 1 ? t : undefined;
    }, 15_000);
    // The removed probe's series are gone; the unchanged one's counter went on from where it was.
    expect(text).not.toContain('probe="old"');
    expect(metricValue(text, 'tocsin_probe_checks_total', { probe: 'web-home', result: 'success' })).toBeGreaterThanOrEqual(checksBefore);
    expect(metricValue(text, 'tocsin_config_last_reload_success_timestamp_seconds')).toBeGreaterThanOrEqual(loadedAt);
    expect(daemon?.stderr).toContain('configuration reloaded');

    // db-down kept failing through the reload: still its one draft, never a second one.
    await waitFor(async () => {
      const t = await metrics();
      return (metricValue(t, 'tocsin_probe_checks_total', { probe: 'db-down', result: 'failure' }) ?? 0) >= failuresBefore + 3 ? true : undefined;
    }, 15_000);
    const after = await incidents();
    expect(after.map((i) => i.id)).toEqual([draft?.id]);
    expect(after[0]?.status).toBe('open');
  }, 90_000);

  it('refuses a config with problems: 400 naming FILE:LINE, nothing changes, the failure is in the metrics and the log', async () => {
    const good = readFileSync(configFile, 'utf8');
    // Line 7 is the first probe's: its interval is not a duration.
    writeFileSync(configFile, good.replace('interval: 1s', 'interval: soon'));
    const res = await fetch(`${url}/-/reload`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; problems: string[] } };
    expect(body.error.code).toBe('INVALID');
    expect(body.error.problems.some((p) => p.startsWith('tocsin.yml:7: probes[0].interval')), body.error.problems.join('\n')).toBe(true);
    expect(await probeIds()).toEqual(['db-down', 'fresh', 'web-home']);
    expect(metricValue(await metrics(), 'tocsin_config_last_reload_successful')).toBe(0);
    await waitFor(() => (daemon?.stderr.includes('tocsin.yml:7: probes[0].interval') ? true : undefined), 10_000);

    // A viewer-less request is refused before anything is read.
    expect((await fetch(`${url}/-/reload`, { method: 'POST' })).status).toBe(401);

    // The CLI prints the same problems and fails.
    const refused = await runCli(['reload', '--url', url, '--token', token], { cwd: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('tocsin.yml:7: probes[0].interval');

    // Fixed, with a setting that needs a restart: applied, and the setting named.
    writeFileSync(configFile, good.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1'));
    const applied = await runCli(['reload', '--url', url, '--token', token], { cwd: dir });
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('reloaded: probes 0 added, 0 removed, 0 changed, 3 unchanged');
    expect(applied.stdout).toContain('server.listen');
    expect(metricValue(await metrics(), 'tocsin_config_last_reload_successful')).toBe(1);
  }, 60_000);
});
