import { describe, expect, it } from 'vitest';
import type { MaintenanceSpec } from '../../src/config/schema.js';
import { renderStatusHtml } from '../../src/status/html.js';
import {
  assembleHistory,
  componentDays,
  componentSummary,
  daySeconds,
  everyDay,
  type HistoryPlan,
  incidentSpans,
  maintenanceSeconds,
  openSpanSeconds,
  publicHistory,
} from '../../src/status/history.js';
import { statusModel } from '../../src/status/model.js';

// The arithmetic of uptime history (docs/status-page.md, "Uptime history"): spans from published
// incidents, seconds per day with the worst state winning, maintenance, the uptime formula, and
// the bars on the page.

const H = 3_600_000;
const DAY = 24 * H;
const T = Date.parse('2026-05-10T00:00:00.000Z');
const NOW = T + 12 * H;

const plan: HistoryPlan = {
  components: [
    { id: 'hv', name: 'Hypervisor', group: 'Infra', depends_on: [] },
    { id: 'db', name: 'Database', group: 'Data', depends_on: ['hv'] },
    { id: 'web', name: 'Website', group: 'Apps', depends_on: [] },
  ],
  maintenance: [],
};

const fields = {
  status: 'resolved' as const,
  opened_at: new Date(T - DAY).toISOString(),
  resolved_at: new Date(T - DAY + H).toISOString(),
  components: [{ id: 'db', impact: 'major_outage' as const }],
};

describe('incident spans', () => {
  it('come from confirmed incidents only', () => {
    expect(incidentSpans({ ...fields, review: 'pending' }).size).toBe(0);
    expect(incidentSpans({ ...fields, review: 'dismissed' }).size).toBe(0);
    expect([...incidentSpans({ ...fields, review: 'confirmed' })]).toEqual([
      ['db', { impact: 'major_outage', start: T - DAY, end: T - DAY + H }],
    ]);
  });

  it('stay open while the incident is, and never end before they start', () => {
    expect(incidentSpans({ ...fields, review: 'confirmed', status: 'open', resolved_at: null }).get('db')?.end).toBeNull();
    const backwards = { ...fields, review: 'confirmed' as const, resolved_at: new Date(T - 2 * DAY).toISOString() };
    expect(incidentSpans(backwards).get('db')).toMatchObject({ start: T - DAY, end: T - DAY });
  });
});

describe('seconds per day', () => {
  it('split a span at midnight, count an open one up to now, and list every day of the range', () => {
    const days = daySeconds([{ impact: 'partial_outage', start: T - 2 * H, end: null }], '2026-05-08', NOW);
    expect([...days]).toEqual([
      ['2026-05-08', { major: 0, partial: 0, degraded: 0 }],
      ['2026-05-09', { major: 0, partial: 2 * 3600, degraded: 0 }],
      ['2026-05-10', { major: 0, partial: 12 * 3600, degraded: 0 }],
    ]);
  });

  it('of one open span: the same days and seconds as the general computation, midnights and ms included', () => {
    const impacts = ['degraded_performance', 'partial_outage', 'major_outage'] as const;
    const cases: [number, number][] = [
      [T - 2 * H, NOW],
      [T - 30 * 24 * H + 1234, NOW],
      [Date.parse('2026-05-09T00:00:00.000Z'), Date.parse('2026-05-10T00:00:00.000Z')],
      [Date.parse('2026-05-09T23:59:59.600Z'), Date.parse('2026-05-10T00:00:00.400Z')],
    ];
    for (const [i, [start, now]] of cases.entries()) {
      const impact = impacts[i % impacts.length] ?? 'major_outage';
      const general = daySeconds([{ impact, start, end: null }], new Date(start).toISOString().slice(0, 10), now);
      expect(openSpanSeconds(impact, start, now), `case ${i}`).toEqual(general);
    }
  });

  it('count overlapping spans once, at the worst impact', () => {
    const days = daySeconds(
      [
        { impact: 'degraded_performance', start: T, end: T + 4 * H },
        { impact: 'major_outage', start: T + H, end: T + 2 * H },
        { impact: 'partial_outage', start: T + 90 * 60_000, end: T + 3 * H },
      ],
      '2026-05-10',
      NOW,
    );
    expect(days.get('2026-05-10')).toEqual({ major: 3600, partial: 3600, degraded: 2 * 3600 });
  });
});

describe('maintenance', () => {
  const windows: MaintenanceSpec[] = [
    { id: 'hv-kernel', components: ['hv'], start: new Date(T - DAY - 2 * H).toISOString(), end: new Date(T - DAY + H).toISOString() },
    { id: 'weekly-web', components: ['web'], cron: '0 22 * * *', duration: 3 * H },
  ];
  const withWindows: HistoryPlan = { ...plan, maintenance: windows };

  it('counts a window on the component and on those depending on it, split by day', () => {
    const out = maintenanceSeconds(withWindows, '2026-05-08', NOW);
    expect(out.get('hv')?.get('2026-05-08')).toBe(2 * 3600);
    expect(out.get('hv')?.get('2026-05-09')).toBe(3600);
    expect(out.get('db')?.get('2026-05-09')).toBe(3600);
    // A daily 22:00 window of 3 h: 22:00 → 24:00 one day, 00:00 → 01:00 the next.
    expect(out.get('web')?.get('2026-05-09')).toBe(3 * 3600);
    expect(out.get('web')?.get('2026-05-10')).toBe(3600);
    expect(maintenanceSeconds(withWindows, '2026-05-08', NOW, 'db').get('web')).toBeUndefined();
  });

  it('colours a day without incidents and leaves its uptime at 100 %', () => {
    const history = assembleHistory({ rows: [], open: [], plan: withWindows, now: NOW, since: '2026-05-01' });
    const day = componentDays(history, 'db').find((d) => d.day === '2026-05-09');
    expect(day).toMatchObject({ uptime: 100, worst: 'under_maintenance', seconds: { under_maintenance: 3600 } });
    expect(componentSummary(history, 'db')).toEqual({ uptime: 100, days_with_incidents: 0 });
  });
});

describe('days and uptime', () => {
  const rows = [{ day: '2026-05-09', component: 'db', major: 3600, partial: 10 * 3600, degraded: 5 }];

  it('weighs a partial outage at 0.3 and a major one fully; days before history started have no data', () => {
    const history = assembleHistory({ rows, open: [], plan, now: NOW, since: '2026-05-09' });
    const days = componentDays(history, 'db');
    expect(days).toHaveLength(90);
    expect(days[0]).toMatchObject({ uptime: null, worst: 'no_data' });
    // 1 − (3,600 + 0.3 × 36,000) / 86,400
    expect(days.at(-2)).toMatchObject({ day: '2026-05-09', uptime: 83.3333, worst: 'major_outage' });
    expect(days.at(-1)).toMatchObject({ day: '2026-05-10', uptime: 100, worst: 'operational' });
    // Over the 36 h with data.
    expect(componentSummary(history, 'db')).toEqual({ uptime: 88.8889, days_with_incidents: 1 });
    expect(componentSummary(history, 'web')).toEqual({ uptime: 100, days_with_incidents: 0 });
  });

  it('publishes only the notable days, and the page draws all 90 from them', () => {
    const history = assembleHistory({ rows, open: [], plan, now: NOW, since: '2026-05-09' });
    const db = publicHistory(history, 'db');
    expect(db.days).toEqual([{ day: '2026-05-09', uptime: 83.3333, worst: 'major_outage' }]);
    const all = everyDay(db);
    expect(all).toHaveLength(90);
    expect(all.filter((d) => d.worst === 'no_data')).toHaveLength(88);
    expect(all.at(-1)).toEqual({ day: '2026-05-10', uptime: 100, worst: 'operational' });
  });

  it('adds the time an open span accrued since it was counted, at its worst open impact', () => {
    const history = assembleHistory({
      rows: [],
      open: [
        { incident: 'a', component: 'web', impact: 'degraded_performance', start: T - DAY, end: null, counted: T + 10 * H },
        { incident: 'b', component: 'web', impact: 'partial_outage', start: T + 9 * H, end: null, counted: T + 10 * H },
      ],
      plan,
      now: NOW,
      since: '2026-05-01',
    });
    expect(componentDays(history, 'web').at(-1)?.seconds).toEqual({
      major_outage: 0,
      partial_outage: 2 * 3600,
      degraded_performance: 0,
      under_maintenance: 0,
    });
  });
});

describe('bars on the page', () => {
  it('draws 90 bars with a title each and a text summary, and no script', () => {
    const history = assembleHistory({
      rows: [{ day: '2026-05-09', component: 'db', major: 3600, partial: 0, degraded: 0 }],
      open: [],
      plan,
      now: NOW,
      since: '2026-03-01',
    });
    const model = statusModel({ plan: { ...plan, components: plan.components.map((c) => ({ ...c, depends_on: [...c.depends_on], source: { file: '-', line: 1 } })) }, incidents: [], history, now: NOW });
    const html = renderStatusHtml(model);
    const row = html.slice(html.indexOf('data-component="db"'));
    expect((row.slice(0, row.indexOf('</svg>')).match(/<rect /g) ?? []).length).toBe(90);
    expect(row).toContain('<title>2026-05-09: 95.83% uptime, Major outage</title>');
    expect(row).toContain('<p class="sr">99.94% uptime over 90 days; 1 day with incidents: 2026-05-09 major outage (95.83%)</p>');
    expect(html).not.toMatch(/<script/i);
  });
});
