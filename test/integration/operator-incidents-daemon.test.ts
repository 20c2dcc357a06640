import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';

// Edits while the detector goes on correlating, in the daemon: real loopback HTTP targets stop,
// a draft opens, an operator retitles it and sets an impact with the built CLI, a second
// component fails and joins it, the operator removes that component, and the detector keeps
// all of it through more failures, a restart and the recovery. Operator-written posts and
// update phases through the CLI.

const TOKEN = 'operator-secret-4a7c-0123456789abcdef';

describe('operator edits and posts in the daemon (real HTTP targets, SQLite, the built CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-operator-daemon-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const configFile = join(dir, 'tocsin.yml');
  const web = new Target();
  const apiTarget = new Target();
  let daemon: DaemonProcess | undefined;
  let url = '';

  beforeAll(async () => {
    await web.start();
    await apiTarget.start();
    process.env.TOCSIN_TEST_OPS_TOKEN = TOKEN;
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: ops, role: operator, token_env: TOCSIN_TEST_OPS_TOKEN }]
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: svc, name: Shop backend, group: Apps, region: PAR }
  - { id: web, name: Web shop, group: Apps, region: PAR, depends_on: [svc] }
  - { id: api, name: Public API, group: Apps, region: PAR, depends_on: [svc] }
  - { id: dns, name: DNS, group: Network }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:${web.port}/", interval: 300ms, timeout: 200ms }
  - { id: api-home, kind: http, component: api, url: "http://127.0.0.1:${apiTarget.port}/", interval: 300ms, timeout: 200ms }
`,
    );
    ({ daemon, url } = await DaemonProcess.start(configFile, dir));
  });
  afterAll(async () => {
    daemon?.kill();
    delete process.env.TOCSIN_TEST_OPS_TOKEN;
    await web.stop();
    await apiTarget.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) => runCli(['incidents', ...args, '--url', url, '--token', TOKEN], { cwd: dir });
  const read = async <T>(path: string): Promise<T> =>
    (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as Promise<T>;
  const stored = (id: string): Promise<Incident> => read<Incident>(`/api/v1/incidents/${id}?components=all`);
  const detected = async (): Promise<Incident[]> =>
    (await read<{ incidents: Incident[] }>('/api/v1/incidents?components=all')).incidents.filter((i) => i.origin !== 'operator');

  it('keeps an operator\'s title, impacts and removals while the detector correlates, restarts and recovers', async () => {
    await web.stop();
    const [draft] = await waitFor(async () => {
      const found = await detected();
      return found.length > 0 ? found : undefined;
    }, 20_000);
    const id = draft?.id ?? '';
    expect(draft?.components).toEqual([{ id: 'web', impact: 'major_outage' }]);

    const edit = await cli(['edit', id, '--title', 'Checkout failing', '--component', 'web=degraded', '--json']);
    expect(edit.stderr).toBe('');
    expect(edit.code).toBe(0);
    expect(JSON.parse(edit.stdout)).toMatchObject({ title: 'Checkout failing', components: [{ id: 'web', impact: 'degraded_performance' }] });

    // A second component under the same dependency fails: it joins the edited incident.
    await apiTarget.stop();
    const joined = await waitFor(async () => {
      const doc = await stored(id);
      return doc?.components.some((c) => c.id === 'api') ? doc : undefined;
    }, 20_000);
    expect(joined.title).toBe('Checkout failing');
    expect(joined.root_component).toBe('svc');
    expect(joined.components.find((c) => c.id === 'web')).toEqual({ id: 'web', impact: 'degraded_performance' });
    expect(await detected()).toHaveLength(1);

    const removed = await cli(['edit', id, '--remove', 'api', '--json']);
    expect(removed.code).toBe(0);
    expect(JSON.parse(removed.stdout).components.map((c: { id: string }) => c.id)).not.toContain('api');

    // api keeps failing for a few more seconds (checks every 300 ms), and the daemon restarts.
    await new Promise((r) => setTimeout(r, 2000));
    daemon?.signal('SIGKILL');
    await daemon?.exited;
    ({ daemon, url } = await DaemonProcess.start(configFile, dir));
    await new Promise((r) => setTimeout(r, 3000));
    const during = await stored(id);
    expect(during?.title).toBe('Checkout failing');
    expect(during?.components.map((c) => c.id)).not.toContain('api');
    expect(during?.components.find((c) => c.id === 'web')).toEqual({ id: 'web', impact: 'degraded_performance' });
    expect(await detected()).toHaveLength(1);

    const noted = await cli(['note', id, 'Rolling', 'back', '--phase', 'identified', '--json']);
    expect(noted.code).toBe(0);
    expect((await stored(id)).timeline.at(-1)).toMatchObject({ kind: 'note', text: 'Rolling back', phase: 'identified', author: 'ops' });

    await web.start();
    await apiTarget.start();
    const resolved = await waitFor(async () => {
      const doc = await stored(id);
      return doc.status === 'resolved' ? doc : undefined;
    }, 20_000);
    expect(resolved?.title).toBe('Checkout failing');
    expect(resolved?.components.map((c) => c.id)).not.toContain('api');
    expect(resolved?.timeline.filter((e) => e.kind === 'edited').map((e) => [e.author, e.text])).toEqual([
      ['ops', 'Title changed to “Checkout failing”. Impact: Web shop: degraded performance.'],
      ['ops', 'No longer affected: Public API.'],
    ]);
    expect(await detected()).toHaveLength(1);
  });

  it('writes a retroactive post with the CLI; the detector leaves it alone', async () => {
    const opened = new Date(Date.now() - 2 * 3_600_000).toISOString();
    const ended = new Date(Date.now() - 3_600_000).toISOString();
    const run = await cli([
      'create', '--title', 'DNS provider outage', '--component', 'dns=major', '--component', 'web=partial_outage',
      '--opened-at', opened, '--resolved-at', ended, '--update', 'Our DNS provider failed for an hour.', '--phase', 'resolved', '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout) as Incident;
    expect(doc).toMatchObject({ status: 'resolved', review: 'confirmed', root_component: 'dns', opened_at: opened, resolved_at: ended, origin: 'operator' });
    expect((await stored(doc.id)).timeline[0]).toMatchObject({ kind: 'opened', text: 'Our DNS provider failed for an hour.', phase: 'resolved', author: 'ops' });
    const open = await cli(['create', '--title', 'Slow support replies', '--component', 'dns=degraded', '--json']);
    expect(open.code).toBe(0);
    const openId = (JSON.parse(open.stdout) as Incident).id;
    // A restart leaves an operator's own open post as written (the engine never adopts it).
    daemon?.signal('SIGTERM');
    await daemon?.exited;
    ({ daemon, url } = await DaemonProcess.start(configFile, dir));
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stored(openId)).toMatchObject({ status: 'open', review: 'confirmed' });
    expect((await stored(openId)).timeline.map((e) => e.kind)).toEqual(['opened', 'confirmed']);
    const page = await (await fetch(`${url}/status.json`)).json() as { incidents: { id: string; timeline: { phase?: string; label: string }[] }[] };
    expect(page.incidents.find((i) => i.id === doc.id)?.timeline[0]).toMatchObject({ phase: 'resolved', label: expect.stringMatching(/— Resolved$/) });
  });

  it('refuses bad usage with exit 2 and a message naming the flag', async () => {
    const noComponent = await cli(['create', '--title', 'x']);
    expect(noComponent.code).toBe(2);
    expect(noComponent.stderr).toContain('--component ID=IMPACT: at least one is required');
    const badImpact = await cli(['create', '--title', 'x', '--component', 'dns=bogus']);
    expect(badImpact.code).toBe(2);
    expect(badImpact.stderr).toContain('expected ID=IMPACT');
    const badPhase = await cli(['note', 'inc_x', 'text', '--phase', 'later']);
    expect(badPhase.code).toBe(2);
    expect(badPhase.stderr).toContain('investigating, identified, monitoring, resolved');
    const nothing = await cli(['edit', 'inc_x']);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('nothing to edit');
    const unknown = await cli(['create', '--title', 'x', '--component', 'ghost=major']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('components.0.id: no component ghost in the config');
  });
});
