import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { escapeHtml, renderStatusHtml, windowSpan } from '../../src/status/html.js';
import { statusModel } from '../../src/status/model.js';
import { appId, BIG_COUNTS, largeComponents, largeIncident } from '../helpers/large-incident.js';
import { makePlan } from '../helpers/plan.js';

// The rendered page: escaping of everything that comes from the config or from operators, the
// banner, groups, maintenance notices and the seeds' post + "EDIT hh:mm UTC:" style.

const NOW = Date.parse('2024-11-18T15:00:00Z');
const src = { file: '/dev/null', line: 1 };
const HOSTILE = '<script>alert("x")</script>';

const plan = makePlan([], {
  components: [
    { id: 'hv-8', name: 'Hypervisor hv-par6-008', group: 'Infrastructure', region: 'PAR', depends_on: [], source: src },
    { id: 'evil', name: `Evil ${HOSTILE} & co`, group: `Group <b>bold</b>`, depends_on: [], source: src },
    { id: 'db', name: 'PostgreSQL', group: 'Databases', depends_on: [], source: src },
  ],
  maintenance: [
    { id: 'hv-kernel', title: 'Kernel updates', components: ['hv-8'], start: '2024-11-18T21:00:00Z', end: '2024-11-18T23:00:00Z' },
  ],
});

function inc(over: Partial<Incident>): Incident {
  return {
    id: 'inc_1',
    title: 'Databases: PostgreSQL unreachable',
    status: 'open',
    review: 'confirmed',
    severity: 'critical',
    opened_at: '2024-11-18T14:02:00.000Z',
    resolved_at: null,
    root_component: 'db',
    components: [{ id: 'db', impact: 'major_outage' }, { id: 'evil', impact: 'partial_outage' }],
    regions: [],
    signals: [],
    timeline: [
      { at: '2024-11-18T14:02:00.000Z', kind: 'opened', text: 'Tocsin detected a problem: connection refused.', author: 'tocsin' },
      { at: '2024-11-18T14:05:00.000Z', kind: 'confirmed', text: 'Confirmed by ops', author: 'ops' },
      { at: '2024-11-18T14:11:00.000Z', kind: 'note', text: `Rolling back ${HOSTILE}`, author: 'ops' },
    ],
    fingerprint: 'db',
    ...over,
  };
}

describe('status page HTML', () => {
  it('escapes every piece of text that comes from the config or from operators', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    const html = renderStatusHtml(statusModel({ plan, incidents: [inc({ title: `Title ${HOSTILE}` })], now: NOW }), {
      title: `Acme ${HOSTILE}`,
    });
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain('Evil &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co');
    expect(html).toContain('Rolling back &lt;script&gt;');
    expect(html).toContain('Title &lt;script&gt;');
    expect(html).toContain('Group &lt;b&gt;bold&lt;/b&gt;');
  });

  it('is one self-contained document: inline CSS, no script, nothing loaded from elsewhere, phone viewport', () => {
    const html = renderStatusHtml(statusModel({ plan, incidents: [], now: NOW }));
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
    expect(html).toMatch(/<style>[^<]+<\/style>/);
    expect(html).not.toMatch(/<script|<link|<img|src=|@import|url\(/i);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('shows the banner, components by group with a word per status, maintenance and posts with EDIT lines', () => {
    const model = statusModel({ plan, incidents: [inc({})], now: NOW });
    const html = renderStatusHtml(model);
    expect(html).toMatch(/<div class="banner"[^>]*data-status="major_outage"[^>]*>Major outage<\/div>/);
    expect(html).toContain('<h3>Infrastructure</h3>');
    expect(html).toMatch(/data-component="db" data-status="major_outage".*Major outage<\/span><\/div>/);
    expect(html).toMatch(/data-component="hv-8" data-status="operational".*Operational<\/span><\/div>/);
    expect(html).toContain('<strong>Scheduled maintenance:</strong> Kernel updates, Mon 18 Nov 21:00–23:00 UTC, affects: Hypervisor hv-par6-008');
    expect(html).toContain('<h2>Ongoing incidents</h2>');
    expect(html).toContain('<li>PostgreSQL: KO (major outage)</li>');
    expect(html).toContain('<p><span class="label">14:02 UTC:</span> Investigating — Databases: PostgreSQL unreachable.</p>');
    expect(html).toContain('<p><span class="label">EDIT 14:11 UTC:</span> Rolling back');
    expect(html).not.toContain('Confirmed by');
    expect(html).toContain('No incidents reported in the last 7 days.');
  });

  it('says all systems operational when nothing confirmed is open, and marks a retroactive post', () => {
    const retro = inc({
      status: 'resolved',
      resolved_at: '2024-11-18T05:35:00.000Z',
      opened_at: '2024-11-18T05:26:00.000Z',
      timeline: [
        { at: '2024-11-18T05:26:00.000Z', kind: 'opened', text: 'Reverse proxy unreachable.', author: 'tocsin' },
        { at: '2024-11-18T05:35:00.000Z', kind: 'resolved', text: 'Resolved.', author: 'tocsin' },
        { at: '2024-11-18T06:23:00.000Z', kind: 'confirmed', text: 'Confirmed by ops (retroactive: resolved at 05:35 UTC)', author: 'ops' },
      ],
    });
    const draft = inc({ id: 'inc_2', review: 'pending', title: 'A draft nobody confirmed' });
    const html = renderStatusHtml(statusModel({ plan, incidents: [retro, draft], now: NOW }));
    expect(html).toMatch(/data-status="operational"[^>]*>All systems operational<\/div>/);
    expect(html).toContain('<h4><span class="retro">[RETROACTIVE]</span> Databases: PostgreSQL unreachable</h4>');
    expect(html).toContain('<h3>Monday 18 November 2024</h3>');
    expect(html).toContain('<li>PostgreSQL: OK</li>');
    expect(html).not.toContain('A draft nobody confirmed');
    expect(html).not.toContain('Ongoing incidents');
  });

  it('words a window across midnight with both days', () => {
    expect(windowSpan('2024-11-19T22:00:00.000Z', '2024-11-20T00:00:00.000Z')).toBe('Tue 19 Nov 22:00 – Wed 20 Nov 00:00 UTC');
    expect(windowSpan('2024-11-19T20:00:00.000Z', '2024-11-19T22:30:00.000Z')).toBe('Tue 19 Nov 20:00–22:30 UTC');
  });

  it('renders a confirmed 10,000-component incident as a short page: counts, the first 20, "and N more"', () => {
    const bigPlan = makePlan([], { components: largeComponents(10_000) });
    const big = largeIncident(10_000);
    const draft = largeIncident(10_000, { id: 'inc_draft', review: 'pending', title: 'A draft nobody confirmed' });
    const model = statusModel({ plan: bigPlan, incidents: [big, draft], now: NOW });
    const [pub] = model.incidents;
    expect(model.incidents).toHaveLength(1);
    expect(pub?.components).toHaveLength(20);
    expect(pub?.components[0]).toEqual({ id: 'zone-par1', name: 'Zone PAR1', impact: 'major_outage' });
    expect(pub?.component_counts).toEqual(BIG_COUNTS);
    expect(pub?.components_truncated).toBe(true);
    // The JSON's incidents stay small too (its component list is the config's, whole).
    expect(JSON.stringify(model.incidents).length).toBeLessThan(8 * 1024);

    const html = renderStatusHtml(model);
    expect(html.length).toBeLessThan(48 * 1024);
    expect(html).toContain(
      '<p class="affected-count">10,001 components affected: 7,001 major outage, 2,000 partial outage, 1,000 degraded performance</p>',
    );
    expect(html).toContain('<li>Zone PAR1: KO (major outage)</li>');
    expect(html).toContain(`<li>App ${appId(18)}: KO (major outage)</li>`);
    expect(html).not.toContain(`<li>App ${appId(19)}:`);
    expect(html).toContain('<li class="more">and 9,981 more</li>');
    expect(html).not.toContain('A draft nobody confirmed');
    // The components list: every app is in a confirmed outage, the first 50 are listed.
    const apps = html.slice(html.indexOf('<h3>Apps</h3>'));
    expect(apps.match(/class="row" data-component=/g)).toHaveLength(50);
    expect(apps).toContain('<div class="row more">and 9,950 more: 6,965 Major outage, 1,990 Partial outage, 995 Degraded performance</div>');

    // Once resolved: the count, every component OK.
    const resolved = statusModel({
      plan: bigPlan,
      incidents: [largeIncident(10_000, { status: 'resolved', resolved_at: '2024-11-18T14:30:00.000Z' })],
      now: NOW,
    });
    const after = renderStatusHtml(resolved);
    expect(after.length).toBeLessThan(32 * 1024);
    expect(after).toContain('<p class="affected-count">10,001 components affected, all available again</p>');
    expect(after).toContain(`<li>App ${appId(0)}: OK</li>`);
    expect(after).toContain('<div class="row more">and 9,950 more: 9,950 Operational</div>');
  });
});
