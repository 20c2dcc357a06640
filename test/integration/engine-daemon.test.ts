import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { storedIncidents } from '../helpers/stored-incidents.js';
import { Target } from '../helpers/target.js';

// The rules engine live: the daemon probes a real loopback HTTP server, the server is stopped,
// a draft incident appears in SQLite and in /metrics; the daemon is SIGKILLed mid-incident and
// started again without a duplicate; the server comes back and the incident resolves.

async function metrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('rules engine in the daemon (real HTTP target, SQLite store)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-engine-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const configFile = join(dir, 'tocsin.yml');
  const target = new Target();
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    await target.start();
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: web, name: Web shop, group: Apps, region: PAR }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:${target.port}/", interval: 300ms, timeout: 200ms }
`,
    );
  });
  afterEach(() => daemon?.kill());
  afterAll(async () => {
    daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens one draft for a stopped target, keeps it across a SIGKILL restart, resolves when it is back', async () => {
    let started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    await waitFor(async () => ((await metrics(started.url)).includes('tocsin_probe_success{') ? true : undefined));
    expect(storedIncidents(dbFile)).toEqual([]);

    await target.stop();
    const [draft] = await waitFor(() => {
      const all = storedIncidents(dbFile);
      return all.length > 0 ? all : undefined;
    }, 15_000);
    expect(draft).toMatchObject({ status: 'open', review: 'pending', root_component: 'web', severity: 'critical' });
    expect(draft?.components).toEqual([{ id: 'web', impact: 'major_outage' }]);
    expect(draft?.signals[0]).toMatchObject({ rule: 'outage', probe: 'web-home', error: 'connect_refused', vantages: ['local'] });
    expect(draft?.timeline[0]?.kind).toBe('opened');
    // Detection: 3 failed checks at 300ms and a 1s tick, far under a minute.
    expect(Date.parse(draft?.opened_at ?? '') - Date.parse(draft?.signals[0]?.since ?? '')).toBeLessThan(10_000);
    const exposition = await waitFor(async () => {
      const text = await metrics(started.url);
      // Component statuses follow on the engine's next tick (every second).
      const ready = text.includes('tocsin_incidents_opened_total{rule="outage"} 1') &&
        text.includes('tocsin_component_status{component="web",status="major_outage"} 1');
      return ready ? text : undefined;
    });
    expect(exposition).toContain('tocsin_incidents{status="open",review="pending"} 1');
    expect(exposition).toContain('tocsin_component_status{component="web",status="operational"} 0');
    expect(exposition).toMatch(/tocsin_detection_delay_seconds_count 1/);

    // Killed without a chance to flush anything, then started again while the target is still down.
    daemon.signal('SIGKILL');
    await daemon.exited;
    started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    // Several intervals of the same failure seen by the new process: still the same one incident.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const afterRestart = storedIncidents(dbFile);
    expect(afterRestart.map((i) => i.id)).toEqual([draft?.id]);
    expect(afterRestart[0]?.status).toBe('open');
    expect(await metrics(started.url)).toContain('tocsin_incidents{status="open",review="pending"} 1');

    await target.start();
    const [resolved] = await waitFor(() => {
      const all = storedIncidents(dbFile);
      return all[0]?.status === 'resolved' ? all : undefined;
    }, 15_000);
    expect(storedIncidents(dbFile)).toHaveLength(1);
    expect(resolved?.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved']);
    expect(resolved?.timeline[1]?.text).toBe('Web shop available again');
  });
});

describe('tocsin replay (the built CLI)', () => {
  const scenario = (name: string, file: string) => join(import.meta.dirname, '..', 'scenarios', name, file);
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-replay-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the incidents as JSON, the same twice, without creating a store', async () => {
    const args = ['replay', '--config', scenario('s09-lb-dependents', 'config.yml'), '--events', scenario('s09-lb-dependents', 'events.jsonl')];
    const first = await runCli(args, { cwd: dir });
    const second = await runCli(args, { cwd: dir });
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(second.stdout);
    const { incidents } = JSON.parse(first.stdout) as { incidents: Incident[] };
    expect(incidents.map((i) => i.root_component)).toEqual(['lb-scw']);
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('renders status-page posts with --format markdown', async () => {
    const run = await runCli(
      ['replay', '--config', scenario('s04-dc-power', 'config.yml'), '--events', scenario('s04-dc-power', 'events.jsonl'), '--format', 'markdown'],
      { cwd: dir },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('## Infrastructure [PAR]: Datacenter PAR6 — 4 components affected');
    expect(run.stdout).toContain('EDIT 09:12 UTC: Databases available again');
  });

  it('reports every malformed line as LINE N: reason and exits 1 with nothing on stdout', async () => {
    const events = join(dir, 'bad.jsonl');
    writeFileSync(
      events,
      [
        '{"at":"2023-11-24T09:00:00Z","probe":"lb-http","vantage":"local","ok":true}',
        '{"at":"yesterday","probe":"lb-http","vantage":"local","ok":true}',
        'not json',
        '{"at":"2023-11-24T09:00:10Z","probe":"nope","vantage":"local","ok":true}',
        '',
      ].join('\n'),
    );
    const run = await runCli(['replay', '--config', scenario('s09-lb-dependents', 'config.yml'), '--events', events], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^LINE 2: at: /);
    expect(lines[1]).toMatch(/^LINE 3: invalid JSON/);
    expect(lines[2]).toBe('LINE 4: probe: unknown probe "nope" (not in the config)');
  });
});
