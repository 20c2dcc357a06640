import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import { FEED_ITEMS, feedItems, type FeedInput, renderAtom, renderRss, rfc822, uuidUrn, xml } from '../../src/status/feeds.js';
import { maintenanceWindows } from '../../src/status/model.js';
import { publicWording } from '../../src/status/public-text.js';
import { makePlan } from '../helpers/plan.js';
import { opsNote, publishedIncident } from '../helpers/published-incident.js';

// What the feeds carry (docs/status-page.md, "Feeds"): each public update of a published incident
// and each maintenance notice, newest first, bounded, with ids that never move and every piece
// of text escaped. Their validity against real parsers is test/integration/status-feeds.test.ts.

const NOW = Date.parse('2024-11-18T12:00:00Z');
const DAY = 86_400_000;
const src = { file: '/dev/null', line: 1 };
const plan: Plan = makePlan([], {
  components: [
    { id: 'db', name: 'PostgreSQL <primary> & "replica"', group: 'Databases', depends_on: [], source: src },
    { id: 'mail', name: 'Mails', group: 'Apps', depends_on: [], source: src },
  ],
  maintenance: [
    { id: 'pg-upgrade', title: 'PostgreSQL upgrade', components: ['db'], start: '2024-11-20T21:00:00Z', end: '2024-11-20T23:00:00Z' },
    { id: 'mail-now', title: 'Mail relay swap', components: ['mail'], start: '2024-11-18T11:00:00Z', end: '2024-11-18T13:00:00Z' },
  ],
});
const names = new Map(plan.components.map((c) => [c.id, c.name]));
const nameOf = (id: string) => names.get(id) ?? id;

const incident = publishedIncident;
const note = opsNote;

function input(incidents: Incident[], over: Partial<FeedInput> = {}): FeedInput {
  return {
    incidents,
    maintenance: maintenanceWindows(plan.maintenance, NOW, nameOf),
    nameOf,
    wording: publicWording(plan),
    pageUrl: 'https://status.example.com/status',
    now: NOW,
    ...over,
  };
}

describe('feed items', () => {
  it('one per public update and per maintenance notice, newest first, in the page\'s words', () => {
    const inc = incident({
      timeline: [
        { at: '2024-11-18T10:00:00.000Z', kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' },
        { at: '2024-11-18T10:01:00.000Z', kind: 'signal_added', text: 'probe pg-1 on 10.0.3.17', author: 'tocsin' },
        note('2024-11-18T10:05:00.000Z', 'A disk is full.', 'identified'),
      ],
    });
    const items = feedItems(input([inc]));
    expect(items.map((i) => [i.updated, i.category, i.title])).toEqual([
      ['2024-11-18T11:00:00.000Z', 'in_progress', 'Maintenance in progress: Mail relay swap'],
      ['2024-11-18T10:05:00.000Z', 'identified', `${inc.title} — Identified`],
      ['2024-11-18T10:00:00.000Z', 'investigating', `${inc.title} — Investigating`],
      // Announced when they entered the page's 7-day horizon.
      ['2024-11-13T21:00:00.000Z', 'scheduled', 'Scheduled maintenance: PostgreSQL upgrade'],
      ['2024-11-11T11:00:00.000Z', 'scheduled', 'Scheduled maintenance: Mail relay swap'],
    ]);
    const update = items[1];
    expect(update?.text).toBe('A disk is full.\n\nAffected: PostgreSQL <primary> & "replica" (partial outage).');
    expect(update?.link).toBe(`https://status.example.com/status#${inc.id}`);
    expect(items[0]?.link).toBe('https://status.example.com/status#maintenance');
    expect(JSON.stringify(items)).not.toContain('10.0.3.17');
  });

  it('only confirmed incidents: never a pending draft nor a dismissed one', () => {
    const items = feedItems(
      input([incident({ review: 'pending', title: 'DRAFT' }), incident({ review: 'dismissed', title: 'DISMISSED' }), incident({ title: 'Published' })], {
        maintenance: [],
      }),
    );
    expect(items.map((i) => i.title)).toEqual(['Published — Investigating']);
  });

  it('at most 50 items of the last 90 days', () => {
    const old = incident({ opened_at: new Date(NOW - 91 * DAY).toISOString(), status: 'resolved', resolved_at: new Date(NOW - 91 * DAY).toISOString() });
    const timeline: TimelineEntry[] = [{ at: new Date(NOW - 80 * DAY).toISOString(), kind: 'opened', text: 'x', author: 'tocsin' }];
    for (let n = 1; n < 10_000; n++) timeline.push(note(new Date(NOW - 80 * DAY + n * 60_000).toISOString(), `note ${n}`));
    const busy = incident({ opened_at: timeline[0]?.at, timeline });
    const items = feedItems(input([old, busy], { maintenance: [] }));
    expect(items).toHaveLength(FEED_ITEMS);
    expect(items[0]?.text.startsWith('note 9999\n')).toBe(true);
    expect(items.some((i) => i.title.startsWith(old.title))).toBe(false);
  });

  it('ids are name-based UUIDs: the same update always has the same id, whatever address it is read at', () => {
    const inc = incident();
    const a = feedItems(input([inc], { maintenance: [] }));
    const b = feedItems(input([inc], { maintenance: [], pageUrl: 'http://10.0.0.1:9470/status', now: NOW + DAY }));
    expect(a[0]?.id).toBe(b[0]?.id);
    expect(a[0]?.id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(uuidUrn('incident/x/update/1')).not.toBe(uuidUrn('incident/x/update/2'));
  });

  it('a retroactive post says so in its title', () => {
    const inc = incident({
      status: 'resolved',
      resolved_at: '2024-11-18T10:05:00.000Z',
      timeline: [
        { at: '2024-11-18T10:00:00.000Z', kind: 'opened', text: 'x', author: 'tocsin' },
        { at: '2024-11-18T10:05:00.000Z', kind: 'resolved', text: 'Resolved.', author: 'tocsin' },
        { at: '2024-11-18T11:00:00.000Z', kind: 'confirmed', text: 'Confirmed by ops: a short outage', author: 'ops' },
      ],
    });
    const items = feedItems(input([inc], { maintenance: [] }));
    expect(items[0]).toMatchObject({ title: `[RETROACTIVE] ${inc.title} — Resolved`, text: expect.stringContaining('a short outage') as string });
  });
});

describe('rendering', () => {
  const hostile = incident({
    title: 'Mails <script>alert(1)</script> & "quotes" \'n\' \u0001\u0008 bell',
    timeline: [note('2024-11-18T10:00:00.000Z', 'Line one <b>bold</b>\nLine two \uD800 lone & \uFFFF', 'investigating')],
  });
  const items = feedItems(input([hostile], { maintenance: [] }));
  const meta = { pageUrl: 'https://status.example.com/status', selfUrl: 'https://status.example.com/status/feed.atom', now: NOW };

  it('escapes markup and drops characters XML cannot carry', () => {
    expect(xml('a<b>&"\'')).toBe('a&lt;b&gt;&amp;&quot;&apos;');
    expect(xml('x\u0000y\u001fz\uD800\uFFFE\tok\n')).toBe('x\uFFFDy\uFFFDz\uFFFD\uFFFD\tok\n');
    expect(xml('emoji 😀 kept')).toBe('emoji 😀 kept');
    for (const doc of [renderAtom(items, meta), renderRss(items, meta)]) {
      expect(doc).not.toContain('<script>');
      expect(doc).not.toContain('<b>');
      expect(doc).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\uFFFE\uFFFF]/);
      expect(doc).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    }
    const atom = renderAtom(items, meta);
    expect(atom).toContain('<title type="text">Mails &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &apos;n&apos; \uFFFD\uFFFD bell — Investigating</title>');
    // RSS descriptions are HTML: escaped once for HTML, once more for XML.
    const rss = renderRss(items, meta);
    expect(rss).toContain('<description>Line one &amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt;&lt;br&gt;Line two');
  });

  it('Atom: feed id, title, updated, self link; entries with id, title, updated, content', () => {
    const atom = renderAtom(items, meta);
    expect(atom.startsWith('<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"')).toBe(true);
    expect(atom).toContain('<id>https://status.example.com/status</id>');
    expect(atom).toContain('<updated>2024-11-18T10:00:00.000Z</updated>');
    expect(atom).toContain('<link rel="self" type="application/atom+xml" href="https://status.example.com/status/feed.atom"/>');
    expect(atom).toContain(`<id>${items[0]?.id ?? ''}</id>`);
    expect(atom).toContain('<category term="investigating" label="Investigating"/>');
    // No entries: still a valid feed, updated at the time of the answer.
    expect(renderAtom([], meta)).toContain('<updated>2024-11-18T12:00:00.000Z</updated>');
  });

  it('RSS: RFC 822 dates and guids that are not links', () => {
    expect(rfc822('2024-11-18T14:02:00.000Z')).toBe('Mon, 18 Nov 2024 14:02:00 GMT');
    const rss = renderRss(items, { ...meta, selfUrl: 'https://status.example.com/status/feed.rss' });
    expect(rss).toContain('<pubDate>Mon, 18 Nov 2024 10:00:00 GMT</pubDate>');
    expect(rss).toContain(`<guid isPermaLink="false">${items[0]?.id ?? ''}</guid>`);
    expect(rss).toContain('<lastBuildDate>Mon, 18 Nov 2024 10:00:00 GMT</lastBuildDate>');
    expect(rss).toContain('<atom:link href="https://status.example.com/status/feed.rss" rel="self" type="application/rss+xml"/>');
  });
});
