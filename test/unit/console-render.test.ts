import { describe, expect, it } from 'vitest';
import { loadClientScript } from '../../src/console/assets.js';
import { ResultHistory } from '../../src/console/history.js';
import { buildConsoleView, type ConsoleView } from '../../src/console/model.js';
import { pageTitle, renderConsolePage, renderIncidentPage, renderSections, renderSignInPage } from '../../src/console/render.js';
import { sparkline } from '../../src/console/sparkline.js';
import type { Incident } from '../../src/events/incident.js';
import { appId, largeComponents, largeIncident } from '../helpers/large-incident.js';
import { makePlan } from '../helpers/plan.js';

function incident(over: Partial<Incident> & { id: string }): Incident {
  return {
    title: `Incident ${over.id}`,
    status: 'open',
    review: 'pending',
    severity: 'major',
    opened_at: '2024-11-18T21:03:00Z',
    resolved_at: null,
    root_component: 'app',
    components: [{ id: 'app', impact: 'partial_outage' }],
    regions: ['PAR'],
    signals: [{ rule: 'outage', probe: 'p0', targets: ['http://app.test/'], vantages: ['par-a', 'par-b'], error: 'timeout', since: '2024-11-18T21:02:00Z', until: null }],
    timeline: [{ at: '2024-11-18T21:03:00Z', kind: 'opened', text: 'App failing', author: 'tocsin' }],
    fingerprint: 'fp',
    ...over,
  };
}

function view(over: Partial<ConsoleView> = {}): ConsoleView {
  return {
    principal: { name: 'ops', role: 'operator' },
    csrf: 'csrf-token-abc',
    flash: undefined,
    drafts: [incident({ id: 'inc_draft' })],
    open: [incident({ id: 'inc_open', review: 'confirmed' })],
    recent: [incident({ id: 'inc_gone', review: 'dismissed' }), incident({ id: 'inc_done', review: 'confirmed', status: 'resolved', resolved_at: '2024-11-18T22:00:00Z' })],
    components: [{ id: 'app', name: 'App', group: 'Apps', region: 'PAR', status: 'partial_outage', incidents: [{ id: 'inc_draft', review: 'pending' }] }],
    probes: [],
    componentNames: { app: 'App' },
    ...over,
  };
}

/** The forms of one incident card. */
function formsOf(html: string, id: string): string[] {
  const start = html.indexOf(`<article data-key="${id}"`);
  const end = html.indexOf('</article>', start);
  return [...html.slice(start, end).matchAll(/data-verb="([a-z]+)"/g)].map((m) => m[1] ?? '');
}

describe('console rendering', () => {
  it('offers each incident only the verbs its state allows, each form with the CSRF token', () => {
    const { sections } = renderSections(view());
    expect(formsOf(sections.drafts, 'inc_draft')).toEqual(['confirm', 'dismiss', 'resolve', 'notes', 'edit']);
    expect(formsOf(sections.open, 'inc_open')).toEqual(['resolve', 'notes', 'edit']);
    // A dismissed draft is not an incident: nothing to edit.
    expect(formsOf(sections.recent, 'inc_gone')).toEqual(['notes']);
    expect(formsOf(sections.recent, 'inc_done')).toEqual(['notes', 'edit']);
    const forms = [...sections.drafts.matchAll(/<form [^>]*>([\s\S]*?)<\/form>/g)];
    expect(forms).toHaveLength(5);
    for (const f of forms) expect(f[1]).toContain('<input type="hidden" name="_csrf" value="csrf-token-abc">');
    expect(sections.drafts).toMatch(/<input name="reason" [^>]*required/);
  });

  it('offers a retroactive confirmation of a draft that already resolved', () => {
    const { sections } = renderSections(view({ drafts: [incident({ id: 'inc_r', status: 'resolved', resolved_at: '2024-11-18T21:10:00Z' })] }));
    expect(formsOf(sections.drafts, 'inc_r')).toEqual(['confirm', 'dismiss', 'notes', 'edit']);
    expect(sections.drafts).toContain('Confirm (retroactive)');
  });

  it('offers a phase on notes, an edit form with the current title, and a form to write an incident', () => {
    const page = renderConsolePage(view());
    const { sections } = renderSections(view());
    const note = /<form [^>]*data-verb="notes"[^>]*>([\s\S]*?)<\/form>/.exec(sections.open)?.[1] ?? '';
    expect(note).toContain('<select name="phase"');
    for (const phase of ['investigating', 'identified', 'monitoring', 'resolved']) expect(note).toContain(`<option value="${phase}">`);
    const edit = /<form [^>]*data-verb="edit"[^>]*>([\s\S]*?)<\/form>/.exec(sections.open)?.[1] ?? '';
    expect(edit).toMatch(/<input name="title" [^>]*value="[^"]+"/);
    expect(edit).toContain('name="set"');
    expect(edit).toContain('name="remove"');
    const write = /<form [^>]*action="\/console\/incidents" [^>]*>([\s\S]*?)<\/form>/.exec(page)?.[1] ?? '';
    expect(write).toContain('<input type="hidden" name="_csrf" value="csrf-token-abc">');
    for (const name of ['title', 'components', 'opened_at', 'resolved_at', 'update', 'phase']) expect(write).toContain(`name="${name}"`);
    expect(renderConsolePage(view({ principal: { name: 'dash', role: 'viewer' } }))).not.toContain('action="/console/incidents"');
  });

  it('gives a viewer no action at all', () => {
    const page = renderConsolePage(view({ principal: { name: 'dash', role: 'viewer' } }));
    expect(page).not.toMatch(/data-verb=/);
    expect(page).not.toContain('/confirm"');
    expect(page).toContain('read only');
    // Signing out is still a (CSRF-protected) form.
    expect(page).toContain('data-action="sign-out"');
  });

  it('escapes every text that comes from the config, probes or operators', () => {
    const evil = '<script>alert("x")</script>';
    const inc = incident({
      id: 'inc_"x',
      title: evil,
      signals: [{ rule: evil, probe: evil, targets: [evil], vantages: [evil], error: evil, since: evil, until: null }],
      timeline: [{ at: '2024-11-18T21:03:00Z', kind: 'note', text: evil, author: evil }],
    });
    const page = renderConsolePage(view({
      principal: { name: evil, role: 'operator' },
      drafts: [inc],
      flash: { kind: 'ok', text: evil },
      components: [{ id: evil, name: evil, group: evil, region: evil, status: 'operational', incidents: [] }],
      probes: [{ id: evil, kind: evil, component: evil, interval: '1s', series: [{ target: evil, vantage: evil, latest: undefined, history: [] }] }],
    }));
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(page).toContain('id="inc_&quot;x"');
  });

  it('puts drafts first and counts open drafts in the tab title', () => {
    const page = renderConsolePage(view());
    expect(page.indexOf('id="drafts"')).toBeLessThan(page.indexOf('id="open"'));
    expect(page.indexOf('id="open"')).toBeLessThan(page.indexOf('id="recent"'));
    expect(page).toContain('<title>(1) Tocsin console</title>');
    expect(pageTitle({ drafts: [] })).toBe('Tocsin console');
    // A resolved draft still waits for review but is no longer an emergency.
    expect(pageTitle({ drafts: [incident({ id: 'a', status: 'resolved' })] })).toBe('Tocsin console');
  });

  it('signs items so the page script only swaps what changed', () => {
    const a = renderSections(view()).sections.drafts;
    const b = renderSections(view()).sections.drafts;
    expect(a).toBe(b);
    const sig = (html: string) => /data-sig="([0-9a-f]+)"/.exec(html)?.[1];
    const changed = renderSections(view({ drafts: [incident({ id: 'inc_draft', title: 'Other title' })] })).sections.drafts;
    expect(sig(changed)).not.toBe(sig(a));
  });

  it('says so when a section is empty', () => {
    const { sections } = renderSections(view({ drafts: [], open: [], recent: [] }));
    expect(sections.drafts).toContain('No drafts waiting for review.');
    expect(sections.open).toContain('No confirmed incident is open.');
  });

  it('renders the sign-in form with its CSRF field and a password input', () => {
    const html = renderSignInPage({ csrf: 'pre-token', error: 'Sign-in failed' });
    expect(html).toContain('name="_csrf" value="pre-token"');
    expect(html).toContain('type="password"');
    expect(html).toContain('Sign-in failed');
    expect(html).not.toContain('<script');
  });
});

describe('a 10,000-component incident in the console (CONTRACT §5.11)', () => {
  const big = largeIncident(10_000, { review: 'pending' });
  const board = largeComponents(10_000).map((c, i) => ({
    id: c.id,
    name: c.name,
    group: c.group,
    region: c.region,
    status: i === 0 ? ('major_outage' as const) : i % 500 === 0 ? ('partial_outage' as const) : ('operational' as const),
    incidents: i === 0 ? [{ id: big.id, review: big.review }] : [],
  }));
  const bigView = view({
    drafts: [big],
    open: [],
    recent: [],
    components: board,
    componentNames: Object.fromEntries(largeComponents(10_000).map((c) => [c.id, c.name])),
  });

  it('keeps the page short: counts per impact, the first 20 components and signals, and "and N more"', () => {
    const page = renderConsolePage(bigView);
    expect(page.length).toBeLessThan(96 * 1024);
    const card = renderSections(bigView).sections.drafts;
    expect(card.length).toBeLessThan(32 * 1024);
    expect(card).toContain('<p class="counts">10,001 components: ');
    expect(card).toContain('7,001 Major outage</span> · <span class="imp imp-partial_outage">2,000 Partial outage</span>');
    expect(card.match(/<li><span class="imp /g)).toHaveLength(20);
    expect(card).toContain('Zone PAR1 <code>zone-par1</code> <span class="muted">(root)</span>');
    expect(card).toContain(`App ${appId(18)}`);
    expect(card).not.toContain(`App ${appId(19)}`);
    expect(card).toContain(`and 9,981 more · <a href="/console/incidents/${big.id}?components=all" data-show="components">show all</a>`);
    expect(card.match(/<tr><td><code>/g)).toHaveLength(20);
    expect(card).toContain('and 9,980 more (10,000 signals; slow: 1,000, outage: 9,000)');
    expect(card).toContain(`href="/console/incidents/${big.id}?signals=all"`);
    // The actions are still there.
    expect(formsOf(card, big.id)).toEqual(['confirm', 'dismiss', 'resolve', 'notes', 'edit']);
  });

  it('bounds each group of the components board, those in trouble first', () => {
    const { components } = renderSections(bigView).sections;
    expect(components.length).toBeLessThan(32 * 1024);
    const apps = components.slice(components.indexOf('group:Apps'));
    expect(apps.match(/class="row" data-component=/g)).toHaveLength(50);
    // The 20 apps in partial outage (every 500th) are all listed; operational ones fill the rest.
    expect(apps.match(/data-status="partial_outage"/g)).toHaveLength(20);
    expect(apps).toContain(`data-component="${appId(9999)}" data-status="partial_outage"`);
    expect(apps).toContain('<div class="row more">and 9,950 more: 9,950 Operational</div>');
  });

  it('lists every component and signal on the incident page when asked', () => {
    const short = renderIncidentPage(bigView, big);
    expect(short.length).toBeLessThan(32 * 1024);
    const all = renderIncidentPage(bigView, big, { components: true });
    expect(all.match(/<li><span class="imp /g)).toHaveLength(10_001);
    expect(all).not.toContain('data-show="components"');
    // Signals still cut, their link keeps the whole component list.
    expect(all).toContain(`href="/console/incidents/${big.id}?components=all&amp;signals=all" data-show="signals"`);
    const both = renderIncidentPage(bigView, big, { components: true, signals: true });
    expect(both.match(/<tr><td><code>/g)).toHaveLength(10_000);
  });

  it('shows a small incident as before: no count line, no "more"', () => {
    const card = renderSections(view()).sections.drafts;
    expect(card).not.toContain('class="counts"');
    expect(card).not.toContain('class="more"');
    expect(card).not.toContain('data-show=');
  });
});

describe('latency history and sparkline', () => {
  const result = (i: number, ok = true, target = 't') => ({
    at: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    probe: 'p',
    target,
    vantage: 'local',
    ok,
    duration_ms: 10 + i,
  });

  it('keeps a bounded ring per series, in time order', () => {
    const h = new ResultHistory({ points: 5 });
    for (let i = 0; i < 8; i++) h.record(result(i));
    h.record(result(3)); // late, older than the newest: slotted in by time
    const s = h.series({ probe: 'p', target: 't', vantage: 'local' });
    expect(s).toHaveLength(5);
    expect(s.map((p) => p.durationMs)).toEqual([13, 14, 15, 16, 17]);
    expect(h.series({ probe: 'p', target: 'other', vantage: 'local' })).toEqual([]);
  });

  it('keeps what each check said: failures, missing durations, times; series apart', () => {
    const h = new ResultHistory({ points: 3, maxSeries: 100 });
    // More series than the arrays first have room for: they grow without losing what they hold.
    for (let s = 0; s < 70; s++) h.record(result(s, s % 2 === 0, `t${s}`));
    h.record({ ...result(70, false, 't0'), duration_ms: undefined });
    expect(h.series({ probe: 'p', target: 't0', vantage: 'local' })).toEqual([
      { at: 1_700_000_000_000, ok: true, durationMs: 10 },
      { at: 1_700_000_070_000, ok: false, durationMs: undefined },
    ]);
    expect(h.series({ probe: 'p', target: 't69', vantage: 'local' })).toEqual([{ at: 1_700_000_069_000, ok: false, durationMs: 79 }]);
    // A late check older than all of a full series' points is not kept.
    for (let i = 80; i < 83; i++) h.record(result(i, true, 't1'));
    h.record(result(75, true, 't1'));
    expect(h.series({ probe: 'p', target: 't1', vantage: 'local' }).map((p) => p.durationMs)).toEqual([90, 91, 92]);
  });

  it('keeps at most maxSeries series, dropping the one written longest ago', () => {
    const h = new ResultHistory({ maxSeries: 2 });
    h.record(result(0, true, 'a'));
    h.record(result(0, true, 'b'));
    h.record(result(1, true, 'a'));
    h.record(result(0, true, 'c'));
    expect(h.series({ probe: 'p', target: 'b', vantage: 'local' })).toEqual([]);
    expect(h.series({ probe: 'p', target: 'a', vantage: 'local' })).toHaveLength(2);
    // c took b's place, and starts with its own point only.
    expect(h.series({ probe: 'p', target: 'c', vantage: 'local' })).toEqual([{ at: 1_700_000_000_000, ok: true, durationMs: 10 }]);
  });

  it('draws durations as a line broken by failures, shown as red dots', () => {
    expect(sparkline([])).toContain('no data yet');
    const points = [0, 1, 2, 3, 4].map((i) => ({ at: i, ok: i !== 2, durationMs: 10 * (i + 1) }));
    const svg = sparkline(points);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/class="fail"/g)).toHaveLength(1);
    expect(svg).toContain('last 5 checks: 10–50 ms, 1 failed');
    expect(sparkline([{ at: 0, ok: false, durationMs: undefined }])).toContain('last 1 checks: 1 failed');
  });
});

describe('console view', () => {
  it('lists open drafts first, leaves ongoing and pending ones out of "recent", and fills the board', async () => {
    const plan = makePlan([{ id: 'p0', component: 'app', targets: ['t0', 't1'], vantages: ['local'] }]);
    const all = [
      incident({ id: 'i5', status: 'resolved' }),
      incident({ id: 'i4' }),
      incident({ id: 'i3', review: 'confirmed' }),
      incident({ id: 'i2', review: 'dismissed' }),
      incident({ id: 'i1', review: 'confirmed', status: 'resolved' }),
    ];
    const store = {
      listIncidents: async (f: { status?: string; review?: string; limit?: number } = {}) => all
        .filter((i) => (!f.status || i.status === f.status) && (!f.review || i.review === f.review))
        .slice(0, f.limit),
    };
    const result = { at: '2024-11-18T21:00:00Z', probe: 'p0', target: 't1', vantage: 'local', ok: true, duration_ms: 5 };
    const latest = { forProbe: () => [result] };
    const v = await buildConsoleView(
      { plan, store, latest, engine: { componentStatuses: () => ({ app: 'major_outage' }) } },
      { principal: { name: 'ops', role: 'operator' }, csrf: 'c' },
    );
    expect(v.drafts.map((i) => i.id)).toEqual(['i4', 'i5']);
    expect(v.open.map((i) => i.id)).toEqual(['i3']);
    expect(v.recent.map((i) => i.id)).toEqual(['i2', 'i1']);
    expect(v.components).toEqual([expect.objectContaining({ id: 'app', status: 'major_outage', incidents: [{ id: 'i4', review: 'pending' }, { id: 'i3', review: 'confirmed' }] })]);
    expect(v.probes[0]?.series.map((s) => [s.target, s.latest?.duration_ms])).toEqual([['t0', undefined], ['t1', 5]]);
  });
});

describe('client script', () => {
  it('fails with a clear message when the compiled script is missing', () => {
    expect(() => loadClientScript('/nonexistent/client.js')).toThrow(/console script missing: .*npm run build/);
  });
});
