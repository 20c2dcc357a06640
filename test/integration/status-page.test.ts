import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { Incident } from '../../src/events/incident.js';
import { addNote, confirmIncident, dismissIncident } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import type { StatusModel } from '../../src/status/model.js';
import { waitFor } from '../helpers/cli.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// The public page on a live daemon (in-process: real scheduler, HTTP probes against loopback
// servers, rules engine, SQLite store, Fastify API): drafts stay off the page, a confirmed
// incident appears with its EDIT lines, a dismissed one never does, and a draft confirmed after
// it resolved is published as retroactive (S8).

/** A loopback HTTP target answering 200, or 503 while `down`. */
async function target(): Promise<{ server: TestServer; setDown(down: boolean): void }> {
  let down = false;
  const server = await startHttpServer((_req, res) => {
    res.writeHead(down ? 503 : 200, { 'content-type': 'text/plain' }).end(down ? 'unavailable\n' : 'ok\n');
  });
  return { server, setDown: (d) => (down = d) };
}

describe('public status page on a live daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-page-'));
  const targets: Awaited<ReturnType<typeof target>>[] = [];
  let daemon: Daemon | undefined;

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) targets.push(await target());
    const [web, api, cdn] = targets.map((t) => t.server.url);
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
components:
  - { id: web, name: "Web shop <script>alert(1)</script>", group: Apps, region: PAR }
  - { id: api, name: Public API, group: Apps, region: PAR }
  - { id: cdn, name: Add-on reverse proxy, group: Reverse Proxies, region: PAR }
probes:
  - { id: web-home, kind: http, component: web, url: "${web}/", interval: 300ms, timeout: 200ms }
  - { id: api-health, kind: http, component: api, url: "${api}/health", interval: 300ms, timeout: 200ms }
  - { id: cdn-home, kind: http, component: cdn, url: "${cdn}/", interval: 300ms, timeout: 200ms }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    daemon = await startDaemon({ plan: loaded.plan, logger: createLogger('silent'), env: {} });
  });
  afterAll(async () => {
    await daemon?.stop(0);
    for (const t of targets) await t.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const statusJson = async (): Promise<StatusModel> => {
    const res = await fetch(`${daemon?.url}/status.json`);
    expect(res.status).toBe(200);
    return (await res.json()) as StatusModel;
  };
  const statusHtml = async (): Promise<string> => (await fetch(`${daemon?.url}/status`)).text();
  const incidentOf = async (component: string): Promise<Incident | undefined> =>
    (await daemon?.incidents.store.listIncidents())?.find((i) => i.root_component === component);

  it('publishes only what operators confirmed, in the seeds\' EDIT style', async () => {
    const ctx = daemon?.incidents;
    if (!ctx) throw new Error('daemon not started');

    // Healthy: public, cacheable, no token needed.
    const first = await fetch(`${daemon?.url}/status`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(first.headers.get('cache-control')).toBe('public, max-age=15');
    const page = await first.text();
    expect(page).toContain('All systems operational');
    expect(page).not.toMatch(/<script/i);
    expect(page).toContain('Web shop &lt;script&gt;alert(1)&lt;/script&gt;');
    const json = await fetch(`${daemon?.url}/status.json`);
    expect(json.headers.get('cache-control')).toBe('public, max-age=15');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);

    // All three fail: three drafts, none of them on the public page.
    for (const t of targets) t.setDown(true);
    const drafts = await waitFor(async () => {
      const all = await ctx.store.listIncidents();
      return all.length === 3 ? all : undefined;
    }, 15_000);
    expect(drafts.every((d) => d.review === 'pending' && d.status === 'open')).toBe(true);
    // The engine already shows them internally (component statuses follow on its next tick)...
    await waitFor(() => (ctx.engine?.componentStatuses().web === 'major_outage' ? true : undefined));
    // ...the public page does not.
    let model = await statusJson();
    expect(model.incidents).toEqual([]);
    expect(model.components.map((c) => c.status)).toEqual(['operational', 'operational', 'operational']);
    expect(await statusHtml()).toContain('All systems operational');

    const web = await incidentOf('web');
    const api = await incidentOf('api');
    if (!web || !api) throw new Error('drafts missing');
    await confirmIncident(ctx, web.id, { by: 'ops', note: 'We are investigating.' });
    await addNote(ctx, web.id, { by: 'ops', text: 'Rolled back <script>x()</script> release 41.' });
    await dismissIncident(ctx, api.id, { by: 'ops', reason: 'planned test of the API health check' });

    model = await statusJson();
    expect(model.incidents.map((i) => i.id)).toEqual([web.id]);
    const [pub] = model.incidents;
    expect(pub).toMatchObject({ id: web.id, title: web.title, status: 'open', retroactive: false });
    expect(pub?.components).toEqual([{ id: 'web', name: 'Web shop <script>alert(1)</script>', impact: 'major_outage' }]);
    expect(pub?.timeline.map((e) => e.kind)).toEqual(['opened', 'note', 'note']);
    expect(pub?.timeline[0]?.label).toMatch(/^\d\d:\d\d UTC$/);
    expect(pub?.timeline.slice(1).map((e) => e.label)).toEqual([expect.stringMatching(/^EDIT \d\d:\d\d UTC$/), expect.stringMatching(/^EDIT \d\d:\d\d UTC$/)]);
    expect(pub?.timeline.slice(1).map((e) => e.text)).toEqual(['We are investigating.', 'Rolled back <script>x()</script> release 41.']);
    expect(model.components.map((c) => [c.id, c.status])).toEqual([['web', 'major_outage'], ['api', 'operational'], ['cdn', 'operational']]);

    const html = await statusHtml();
    expect(html).toContain('Major outage');
    expect(html).toContain(`id="${web.id}"`);
    expect(html).toMatch(/<span class="label">EDIT \d\d:\d\d UTC:<\/span> We are investigating\.<\/p>/);
    expect(html).toContain('Rolled back &lt;script&gt;x()&lt;/script&gt; release 41.');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain(api.id);
    expect(html).not.toContain('planned test');
    expect(html).not.toContain('Dismissed');

    // Everything comes back: web resolves on the page; cdn resolves as a draft, still unpublished.
    for (const t of targets) t.setDown(false);
    await waitFor(async () => {
      const all = await ctx.store.listIncidents();
      return all.every((i) => i.status === 'resolved') ? true : undefined;
    }, 15_000);
    model = await statusJson();
    expect(model.incidents.map((i) => [i.id, i.status])).toEqual([[web.id, 'resolved']]);
    expect(model.incidents[0]?.timeline.at(-1)).toMatchObject({ kind: 'resolved', label: expect.stringMatching(/^EDIT /) });
    expect(model.components.every((c) => c.status === 'operational')).toBe(true);

    // S8: the short cdn outage confirmed after the fact is published as retroactive.
    const cdn = await incidentOf('cdn');
    if (!cdn) throw new Error('cdn draft missing');
    await confirmIncident(ctx, cdn.id, { by: 'ops' });
    model = await statusJson();
    const newestFirst = [web, cdn].sort((a, b) => b.opened_at.localeCompare(a.opened_at) || b.id.localeCompare(a.id));
    expect(model.incidents.map((i) => [i.id, i.retroactive])).toEqual(newestFirst.map((i) => [i.id, i.id === cdn.id]));
    expect(await statusHtml()).toContain(`<span class="retro">[RETROACTIVE]</span> ${cdn.title}`);
    expect(JSON.stringify(await statusJson())).not.toContain(api.id);
  });
});
