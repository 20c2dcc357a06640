import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { Incident } from '../../src/events/incident.js';
import { confirmIncident } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { groupId } from '../../src/status/statuspage-v2.js';
import { saveDoc } from '../helpers/store-writes.js';

// The feeds and the Statuspage-compatible JSON on a live daemon (in-process: Fastify on loopback,
// SQLite store): the feeds pass a strict XML parser (xmllint) and a real feed parser (Python's
// feedparser, Debian's python3-feedparser), hostile text included; /api/v2 answers in Statuspage's
// shapes; pending drafts and dismissed incidents appear nowhere until an operator confirms.

const run = promisify(execFile);
/** Debian's interpreter, where python3-feedparser installs (another python3 may come first in PATH). */
const PYTHON = '/usr/bin/python3';

/** What feedparser makes of a feed: its version, whether it found the XML broken, and the entries. */
const PARSE = `
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({
  "bozo": bool(d.bozo), "bozo_exception": str(d.get("bozo_exception", "")), "version": d.version,
  "title": d.feed.get("title"), "link": d.feed.get("link"), "updated": d.feed.get("updated"),
  "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
               "updated": e.get("updated") or e.get("published"),
               "updated_parsed": list(e.get("updated_parsed") or e.get("published_parsed") or []),
               "text": (e.get("content") or [{}])[0].get("value") or e.get("summary")} for e in d.entries],
}))
`;

interface Parsed {
  bozo: boolean;
  bozo_exception: string;
  version: string;
  title: string;
  link: string;
  updated: string;
  entries: { id: string; title: string; link: string; updated: string; updated_parsed: number[]; text: string }[];
}

const HOSTILE = 'Web shop <script>alert(1)</script> & "co" \u0007';

describe('feeds and /api/v2 on a live daemon', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-feeds-'));
  let daemon: Daemon | undefined;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const HOUR = 3_600_000;

  const doc = (id: string, over: Partial<Incident>): Incident => ({
    id,
    title: id,
    status: 'open',
    review: 'confirmed',
    severity: 'major',
    opened_at: iso(now - 2 * HOUR),
    resolved_at: null,
    root_component: 'web',
    components: [{ id: 'web', impact: 'partial_outage' }],
    regions: [],
    signals: [],
    timeline: [{ at: iso(now - 2 * HOUR), kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' }],
    fingerprint: `fp-${id}`,
    ...over,
  });
  const open = doc('inc_open', {
    title: `${HOSTILE} down`,
    timeline: [
      { at: iso(now - 2 * HOUR), kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' },
      { at: iso(now - HOUR), kind: 'note', text: 'Restarting <b>pool</b> & cache\u0001.\nMore soon.', author: 'ops' },
    ],
  });
  const resolved = doc('inc_resolved', {
    title: 'Public API errors',
    status: 'resolved',
    root_component: 'api',
    components: [{ id: 'api', impact: 'major_outage' }],
    opened_at: iso(now - 50 * HOUR),
    resolved_at: iso(now - 49 * HOUR),
    timeline: [
      { at: iso(now - 50 * HOUR), kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' },
      { at: iso(now - 49 * HOUR), kind: 'resolved', text: 'Resolved by ops: rolled back', author: 'ops' },
    ],
  });
  const draft = doc('inc_draft', { title: 'DRAFT-TITLE', review: 'pending', root_component: 'db', components: [{ id: 'db', impact: 'major_outage' }] });
  const dismissed = doc('inc_dismissed', {
    title: 'DISMISSED-TITLE',
    review: 'dismissed',
    root_component: 'db',
    components: [{ id: 'db', impact: 'major_outage' }],
  });
  const later = doc('inc_later', { title: 'LATER-TITLE', review: 'pending', root_component: 'db', components: [{ id: 'db', impact: 'degraded_performance' }] });

  beforeAll(async () => {
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
components:
  - { id: web, name: ${JSON.stringify(HOSTILE)}, group: Apps }
  - { id: api, name: Public API, group: Apps }
  - { id: db, name: Database add-ons, group: Databases }
probes: []
maintenance:
  - { id: db-upgrade, title: "PostgreSQL <16> upgrade", components: [db], start: "${iso(now + 48 * HOUR)}", end: "${iso(now + 50 * HOUR)}" }
  - { id: api-now, title: API node swap, components: [api], start: "${iso(now - HOUR)}", end: "${iso(now + 5 * HOUR)}" }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    daemon = await startDaemon({ plan: loaded.plan, logger: createLogger('silent'), env: {} });
    for (const d of [open, resolved, draft, dismissed, later]) {
      expect((await saveDoc(daemon.incidents.store, d, null)).ok).toBe(true);
    }
  });
  afterAll(async () => {
    await daemon?.stop(0);
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string): Promise<{ res: Response; body: string }> => {
    const res = await fetch(`${daemon?.url}${path}`);
    expect(res.status, path).toBe(200);
    return { res, body: await res.text() };
  };
  /** The document on disk, checked by xmllint (strict XML 1.0) and read by feedparser. */
  const parse = async (name: string, body: string): Promise<Parsed> => {
    const file = join(dir, name);
    writeFileSync(file, body);
    // Well-formed, or xmllint exits non-zero and execFile rejects with its diagnostics.
    await run('xmllint', ['--noout', '--nonet', file]);
    const { stdout } = await run(PYTHON, ['-c', PARSE, file]);
    return JSON.parse(stdout) as Parsed;
  };
  /** Elements xmllint counts by XPath (namespace-blind), e.g. entries missing a required child. */
  const count = async (file: string, xpath: string): Promise<number> => {
    const { stdout } = await run('xmllint', ['--nonet', '--xpath', xpath, join(dir, file)]);
    return Number(stdout.trim());
  };

  it('Atom: well-formed, read as Atom 1.0 by feedparser, every required element present', async () => {
    const { res, body } = await get('/status/feed.atom');
    expect(res.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=15');
    const feed = await parse('feed.atom', body);
    expect(feed.bozo, feed.bozo_exception).toBe(false);
    expect(feed.version).toBe('atom10');
    expect(feed.title).toBe('System status');
    expect(feed.link).toBe(`${daemon?.url}/status`);

    const entry = (pred: (title: string) => boolean) => feed.entries.find((e) => pred(e.title));
    // Text as written, markup shown as text, the control characters XML forbids replaced.
    const note = entry((t) => t.startsWith(HOSTILE.slice(0, -1)));
    expect(note?.title).toBe('Web shop <script>alert(1)</script> & "co" \uFFFD down — Investigating');
    expect(feed.entries.filter((e) => e.title.endsWith('down — Investigating'))).toHaveLength(2);
    expect(feed.entries.some((e) => e.text.startsWith('Restarting <b>pool</b> & cache\uFFFD.\nMore soon.'))).toBe(true);
    expect(note?.link).toBe(`${daemon?.url}/status#inc_open`);
    expect(entry((t) => t === 'Public API errors — Resolved')?.text).toContain('Resolved: rolled back');
    expect(entry((t) => t === 'Scheduled maintenance: PostgreSQL <16> upgrade')).toBeDefined();
    expect(entry((t) => t === 'Maintenance in progress: API node swap')).toBeDefined();
    // Newest first, dates read as dates.
    const times = feed.entries.map((e) => Date.parse(e.updated));
    expect(times.every((t) => Number.isFinite(t))).toBe(true);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(feed.entries.every((e) => e.id.startsWith('urn:uuid:') && e.updated_parsed.length === 9)).toBe(true);

    // RFC 4287: feed id, title, updated, a self link; each entry an id, a title, updated, content.
    expect(await count('feed.atom', 'count(/*[local-name()="feed"]/*[local-name()="id" or local-name()="title" or local-name()="updated"])')).toBe(3);
    expect(await count('feed.atom', 'count(/*[local-name()="feed"]/*[local-name()="link"][@rel="self"])')).toBe(1);
    const entries = await count('feed.atom', 'count(//*[local-name()="entry"])');
    expect(entries).toBe(feed.entries.length);
    for (const child of ['id', 'title', 'updated', 'content']) {
      expect(await count('feed.atom', `count(//*[local-name()="entry"]/*[local-name()="${child}"])`), child).toBe(entries);
    }
  });

  it('RSS: well-formed, read as RSS 2.0 by feedparser, items with guid and an RFC 822 pubDate', async () => {
    const { res, body } = await get('/status/feed.rss');
    expect(res.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const feed = await parse('feed.rss', body);
    expect(feed.bozo, feed.bozo_exception).toBe(false);
    expect(feed.version).toBe('rss20');
    expect(feed.link).toBe(`${daemon?.url}/status`);
    const items = await count('feed.rss', 'count(/rss/channel/item)');
    expect(items).toBe(feed.entries.length);
    expect(items).toBeGreaterThanOrEqual(6);
    for (const child of ['title', 'link', 'description', 'guid', 'pubDate']) {
      expect(await count('feed.rss', `count(/rss/channel/item/${child})`), child).toBe(items);
    }
    expect(await count('feed.rss', 'count(/rss/channel/title | /rss/channel/link | /rss/channel/description)')).toBe(3);
    // feedparser parsed every pubDate (RFC 822), and the description's HTML shows the markup as text.
    expect(feed.entries.every((e) => e.updated_parsed.length === 9)).toBe(true);
    expect(feed.entries.some((e) => e.text.includes('Restarting &lt;b&gt;pool&lt;/b&gt; &amp; cache'))).toBe(true);
    expect(body).not.toContain('<script>');
  });

  it('/api/v2: Statuspage\'s documents, public and cached like /status.json', async () => {
    const { res, body } = await get('/api/v2/summary.json');
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('cache-control')).toBe('public, max-age=15');
    const summary = JSON.parse(body) as {
      page: { url: string };
      status: { indicator: string; description: string };
      components: { id: string; status: string; group: boolean; components?: string[] }[];
      incidents: { id: string; status: string; impact: string; incident_updates: { body: string; status: string }[] }[];
      scheduled_maintenances: { id: string; status: string }[];
    };
    expect(summary.page.url).toBe(`${daemon?.url}/status`);
    expect(summary.status).toEqual({ indicator: 'major', description: 'Partial System Outage' });
    expect(summary.components.find((c) => c.id === groupId('Apps'))).toMatchObject({ group: true, components: ['web', 'api'], status: 'partial_outage' });
    expect(summary.components.find((c) => c.id === 'web')?.status).toBe('partial_outage');
    expect(summary.components.find((c) => c.id === 'api')?.status).toBe('under_maintenance');
    expect(summary.components.find((c) => c.id === 'db')?.status).toBe('operational');
    expect(summary.incidents.map((i) => [i.id, i.status, i.impact])).toEqual([['inc_open', 'investigating', 'major']]);
    expect(summary.incidents[0]?.incident_updates[0]?.body).toBe('Restarting <b>pool</b> & cache\u0001.\nMore soon.');
    expect(summary.scheduled_maintenances.map((m) => m.status)).toEqual(['in_progress', 'scheduled']);

    const incidents = JSON.parse((await get('/api/v2/incidents.json')).body) as { incidents: { id: string; status: string }[] };
    expect(incidents.incidents.map((i) => [i.id, i.status])).toEqual([
      ['inc_open', 'investigating'],
      ['inc_resolved', 'resolved'],
    ]);
    const unresolved = JSON.parse((await get('/api/v2/incidents/unresolved.json')).body) as { incidents: { id: string }[] };
    expect(unresolved.incidents.map((i) => i.id)).toEqual(['inc_open']);
    const upcoming = JSON.parse((await get('/api/v2/scheduled-maintenances/upcoming.json')).body) as {
      scheduled_maintenances: { name: string; scheduled_for: string }[];
    };
    expect(upcoming.scheduled_maintenances.map((m) => [m.name, m.scheduled_for])).toEqual([['PostgreSQL <16> upgrade', iso(now + 48 * HOUR)]]);
    const status = JSON.parse((await get('/api/v2/status.json')).body) as { status: { indicator: string } };
    expect(status.status.indicator).toBe('major');
    const components = JSON.parse((await get('/api/v2/components.json')).body) as { components: unknown[] };
    expect(components.components).toHaveLength(5); // 3 components, 2 groups
  });

  it('drafts and dismissed incidents appear nowhere, until an operator confirms', async () => {
    const everything = async () =>
      (
        await Promise.all(
          [
            '/status/feed.atom',
            '/status/feed.rss',
            '/api/v2/summary.json',
            '/api/v2/incidents.json',
            '/api/v2/incidents/unresolved.json',
            '/api/v2/components.json',
            '/api/v2/status.json',
          ].map(async (p) => (await get(p)).body),
        )
      ).join('\n');
    const before = await everything();
    for (const secret of ['DRAFT-TITLE', 'DISMISSED-TITLE', 'LATER-TITLE', 'inc_draft', 'inc_dismissed', 'inc_later']) {
      expect(before, secret).not.toContain(secret);
    }
    // The database: a major outage in a draft and in a dismissed incident, operational in public.
    expect(before).toContain('"id":"db","name":"Database add-ons","status":"operational"');

    const ctx = daemon?.incidents;
    if (!ctx) throw new Error('daemon not started');
    await confirmIncident(ctx, later.id, { by: 'ops', note: 'Slow queries, we are on it.' });
    const after = await everything();
    expect(after).toContain('LATER-TITLE');
    expect(after).toContain('Slow queries, we are on it.');
    expect(after).not.toContain('DRAFT-TITLE');
    expect(after).not.toContain('DISMISSED-TITLE');
    const unresolved = JSON.parse((await get('/api/v2/incidents/unresolved.json')).body) as { incidents: { id: string }[] };
    expect(unresolved.incidents.map((i) => i.id).sort()).toEqual(['inc_later', 'inc_open']);
  });
});
