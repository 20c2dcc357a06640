import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import type { MaintenanceSpec } from '../../src/config/schema.js';
import { compileWindow } from '../../src/engine/maintenance.js';
import type { ComponentStatus } from '../../src/engine/types.js';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import {
  buildStatusModel,
  isRetroactive,
  maintenanceWindows,
  MAX_INCIDENTS,
  publicEntry,
  statusModel,
} from '../../src/status/model.js';
import { nextOccurrence } from '../../src/status/occurrence.js';
import { publishedIncident } from '../helpers/published-incident.js';
import { publicWording } from '../../src/status/public-text.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makePlan } from '../helpers/plan.js';
import { saveDoc } from '../helpers/store-writes.js';

// The public model against the real embedded store (a temp SQLite file): what is published, what
// never is, and how the page words times, timelines and maintenance.

const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

const NOW = Date.parse('2024-11-18T12:00:00Z'); // a Monday
const src = { file: '/dev/null', line: 1 };
const plan: Plan = makePlan([], {
  components: [
    { id: 'hv-8', name: 'Hypervisor hv-par6-008', group: 'Infrastructure', region: 'PAR', depends_on: [], source: src },
    { id: 'lb', name: 'Public load balancers', group: 'Reverse Proxies', region: 'PAR', depends_on: ['hv-8'], source: src },
    { id: 'db', name: 'PostgreSQL', group: 'Databases', depends_on: [], source: src },
    { id: 'mail', name: 'Mails', group: 'Apps', depends_on: [], source: src },
  ],
});

/** A confirmed, open incident of `db` unless told otherwise (test/helpers/published-incident.ts). */
const incident = publishedIncident;

async function storeWith(incidents: Incident[]): Promise<SqliteStore> {
  const store = SqliteStore.open(join(dir, `${Math.random().toString(36).slice(2)}.db`));
  stores.push(store);
  for (const inc of incidents) expect((await saveDoc(store, inc, null)).ok).toBe(true);
  return store;
}

const stub = (statuses: Record<string, ComponentStatus>) => ({ componentStatuses: () => ({ ...statuses }) });
const statusOf = (model: { components: readonly { id: string; status: string }[] }, id: string) =>
  model.components.find((c) => c.id === id)?.status;

describe('what the public page publishes', () => {
  it('lists confirmed incidents only: never a pending draft, never a dismissed one', async () => {
    const draft = incident({ review: 'pending', title: 'draft', components: [{ id: 'mail', impact: 'major_outage' }] });
    const dismissed = incident({ review: 'dismissed', title: 'false alarm', components: [{ id: 'lb', impact: 'major_outage' }] });
    const confirmed = incident({ title: 'PostgreSQL unreachable' });
    const store = await storeWith([draft, dismissed, confirmed]);
    const model = await buildStatusModel({
      plan,
      store,
      // The engine knows all three and shows their components red; the page must not.
      engine: stub({ 'hv-8': 'operational', lb: 'major_outage', db: 'partial_outage', mail: 'major_outage' }),
      now: NOW,
    });
    expect(model.incidents.map((i) => i.title)).toEqual(['PostgreSQL unreachable']);
    expect(JSON.stringify(model)).not.toMatch(/draft|false alarm/);
    expect(statusOf(model, 'mail')).toBe('operational');
    expect(statusOf(model, 'lb')).toBe('operational');
    expect(statusOf(model, 'db')).toBe('partial_outage');
    expect(model.overall).toBe('partial_outage');
  });

  it('orders open incidents first, then those resolved within 7 days, newest first, at most 50', async () => {
    const oldOpen = incident({ opened_at: '2024-11-01T00:00:00.000Z', title: 'old open' });
    const newOpen = incident({ opened_at: '2024-11-18T09:00:00.000Z', title: 'new open' });
    const recent = incident({
      status: 'resolved',
      opened_at: '2024-11-17T08:00:00.000Z',
      resolved_at: '2024-11-17T09:00:00.000Z',
      title: 'resolved yesterday',
    });
    const longAgo = incident({
      status: 'resolved',
      opened_at: '2024-11-08T08:00:00.000Z',
      resolved_at: '2024-11-08T09:00:00.000Z',
      title: 'resolved 10 days ago',
    });
    // Opened long ago, resolved this week: still shown.
    const longRunning = incident({
      status: 'resolved',
      opened_at: '2024-11-05T08:00:00.000Z',
      resolved_at: '2024-11-16T09:00:00.000Z',
      title: 'long running',
    });
    const store = await storeWith([oldOpen, newOpen, recent, longAgo, longRunning]);
    const model = await buildStatusModel({ plan, store, now: NOW });
    expect(model.incidents.map((i) => i.title)).toEqual(['new open', 'old open', 'resolved yesterday', 'long running']);

    const many = Array.from({ length: MAX_INCIDENTS + 5 }, (_, i) =>
      incident({ opened_at: new Date(NOW - (i + 1) * 60_000).toISOString() }),
    );
    expect(statusModel({ plan, incidents: many, now: NOW }).incidents).toHaveLength(MAX_INCIDENTS);
  });

  it('shows a component non-operational only while a confirmed open incident lists it', () => {
    const confirmedOpen = incident({ components: [{ id: 'db', impact: 'major_outage' }, { id: 'lb', impact: 'degraded_performance' }] });
    const confirmedResolved = incident({ status: 'resolved', resolved_at: '2024-11-18T11:00:00.000Z', components: [{ id: 'mail', impact: 'major_outage' }] });
    const draft = incident({ review: 'pending', components: [{ id: 'hv-8', impact: 'major_outage' }] });
    const incidents = [confirmedOpen, confirmedResolved, draft];

    // Without a live engine: the recorded impacts of confirmed open incidents.
    let model = statusModel({ plan, incidents, now: NOW });
    expect(model.components.map((c) => [c.id, c.status])).toEqual([
      ['hv-8', 'operational'],
      ['lb', 'degraded_performance'],
      ['db', 'major_outage'],
      ['mail', 'operational'],
    ]);
    expect(model.overall).toBe('major_outage');

    // The engine's live grade for published components; its drafts' components stay operational;
    // a component whose checks already recovered keeps the incident's impact until it resolves.
    model = statusModel({
      plan,
      incidents,
      live: { 'hv-8': 'major_outage', lb: 'operational', db: 'partial_outage', mail: 'degraded_performance' },
      now: NOW,
    });
    expect(model.components.map((c) => c.status)).toEqual(['operational', 'degraded_performance', 'partial_outage', 'operational']);

    expect(statusModel({ plan, incidents: [draft], live: { 'hv-8': 'major_outage' }, now: NOW }).overall).toBe('operational');
  });
});

describe('timeline for a public reader', () => {
  it('labels entries in UTC, the first as the post and the others as EDIT lines, the date when the day changes', () => {
    const inc = incident({
      opened_at: '2024-11-18T14:02:07.000Z',
      title: 'Databases: PostgreSQL unreachable',
      timeline: [
        { at: '2024-11-18T14:02:07.000Z', kind: 'opened', text: 'Tocsin detected a problem: PostgreSQL unreachable.', author: 'tocsin' },
        { at: '2024-11-18T14:03:00.000Z', kind: 'signal_added', text: 'db-tcp fails from par-b.', author: 'tocsin' },
        { at: '2024-11-18T14:05:00.000Z', kind: 'confirmed', text: 'Confirmed by ops', author: 'ops' },
        { at: '2024-11-18T15:11:30+01:00', kind: 'note', text: 'We are rolling back the update.', author: 'ops' },
        { at: '2024-11-18T23:59:00.000Z', kind: 'impact_changed', text: 'PostgreSQL: degraded performance (was major outage)', author: 'tocsin' },
        { at: '2024-11-19T00:20:00.000Z', kind: 'recovered', text: 'PostgreSQL available again', author: 'tocsin' },
        { at: '2024-11-19T00:21:00.000Z', kind: 'resolved', text: 'Resolved: every affected component is operational again (open for 10 h 19 min).', author: 'tocsin' },
      ],
      status: 'resolved',
      resolved_at: '2024-11-19T00:21:00.000Z',
    });
    const [pub] = statusModel({ plan, incidents: [inc], now: Date.parse('2024-11-19T01:00:00Z') }).incidents;
    expect(pub?.timeline.map((e) => `${e.label}: ${e.text}`)).toEqual([
      '14:02 UTC: Investigating — Databases: PostgreSQL unreachable.',
      'EDIT 14:11 UTC: We are rolling back the update.',
      'EDIT 23:59 UTC: PostgreSQL: degraded performance (was major outage).',
      'EDIT 2024-11-19 00:20 UTC: PostgreSQL available again.',
      'EDIT 2024-11-19 00:21 UTC: Resolved: every affected component is operational again (open for 10 h 19 min).',
    ]);
    expect(pub?.timeline.map((e) => e.kind)).toEqual(['opened', 'note', 'impact_changed', 'recovered', 'resolved']);
    expect(pub?.components).toEqual([{ id: 'db', name: 'PostgreSQL', impact: 'partial_outage' }]);
  });

  it('publishes the words of an operator verb without the token name, and never a dismissal', () => {
    const e = (kind: TimelineEntry['kind'], text: string, author = 'ops'): TimelineEntry => ({ at: '2024-11-18T10:00:00Z', kind, text, author });
    const about = { incident: incident({}), wording: publicWording(plan) };
    expect(publicEntry(e('confirmed', 'Confirmed by ops'), about)).toBeUndefined();
    expect(publicEntry(e('confirmed', 'Confirmed by ops: We are investigating.'), about)).toEqual({ kind: 'note', text: 'We are investigating.' });
    expect(publicEntry(e('confirmed', 'Confirmed by ops (retroactive: resolved at 05:35 UTC): Unreachable 05:23–05:35.'), about)).toEqual({
      kind: 'note',
      text: 'Unreachable 05:23–05:35.',
    });
    expect(publicEntry(e('resolved', 'Resolved by ops: rolled back'), about)).toEqual({ kind: 'resolved', text: 'Resolved: rolled back' });
    expect(publicEntry(e('resolved', 'Resolved by ops'), about)).toEqual({ kind: 'resolved', text: 'Resolved.' });
    expect(publicEntry(e('dismissed', 'Dismissed by ops: false alarm'), about)).toBeUndefined();
    expect(publicEntry(e('signal_added', 'lb-http fails from par-c.', 'tocsin'), about)).toBeUndefined();
    expect(publicEntry(e('note', 'EDIT by hand'), about)).toEqual({ kind: 'note', text: 'EDIT by hand' });
  });

  it('says generated entries in public words: no address, URL, raw error or alert text', () => {
    const probes = makePlan([{ id: 'pg-tcp', component: 'db', vantages: ['par-a', 'par-b', 'par-c'], targets: ['10.0.3.17:5432'] }]).probes;
    const withProbes: Plan = { ...plan, probes };
    const secrets = ['10.0.3.17', '5432', 'ECONNREFUSED', 'https://', '/internal/health', 'pg-tcp', 'DiskFull on rack 7'];
    const at = (m: number) => new Date(Date.parse('2024-11-18T10:00:00Z') + m * 60_000).toISOString();
    const inc = incident({
      signals: [
        { rule: 'outage', probe: 'pg-tcp', targets: ['10.0.3.17:5432'], vantages: ['par-a', 'par-b'], error: 'connect_refused', since: at(0), until: null },
        { rule: 'alertmanager', probe: 'alertmanager:DiskFull@db', targets: ['rack7'], vantages: ['alertmanager'], error: 'alert', since: at(3), until: null },
      ],
      timeline: [
        { at: at(1), kind: 'opened', text: 'Tocsin detected a problem: PostgreSQL: pg-tcp failing since 10:00 UTC — connect_refused: connect ECONNREFUSED 10.0.3.17:5432.', author: 'tocsin' },
        { at: at(3), kind: 'component_added', text: 'Also affected: Mails: 1 of 2 targets of smtp failing (https://10.0.3.18/internal/health) since 10:03 UTC — status: 503.', author: 'tocsin' },
        { at: at(4), kind: 'component_added', text: '4 more components affected: Mails, PostgreSQL, Public load balancers and 1 more.', author: 'tocsin' },
        { at: at(5), kind: 'impact_changed', text: 'PostgreSQL: major outage (was partial outage)', author: 'tocsin' },
        { at: at(6), kind: 'reopened', text: 'The problem is back: DiskFull on rack 7 (alert summary).', author: 'tocsin' },
        { at: at(7), kind: 'recovered', text: 'PostgreSQL: pg-tcp healthy again', author: 'tocsin' },
        { at: at(8), kind: 'recovered', text: 'Mails available again', author: 'tocsin' },
        { at: at(9), kind: 'resolved', text: 'Resolved: every affected component is operational again (open for 9 min).', author: 'tocsin' },
      ],
    });
    const model = statusModel({ plan: withProbes, incidents: [inc], now: Date.parse(at(10)) });
    const texts = model.incidents[0]?.timeline.map((e) => e.text) ?? [];
    expect(texts).toEqual([
      'Investigating — PostgreSQL: connections refused from 2 of 3 vantages.',
      'Also affected: Mails.',
      '4 more components affected: Mails, PostgreSQL, Public load balancers and 1 more.',
      'PostgreSQL: major outage (was partial outage).',
      'The problem is back.',
      'PostgreSQL: recovering.',
      'Mails available again.',
      'Resolved: every affected component is operational again (open for 9 min).',
    ]);
    const page = JSON.stringify(model);
    for (const secret of secrets) expect(page, secret).not.toContain(secret);
  });

  it('marks an incident confirmed after it resolved as retroactive (S8), not one confirmed while open', () => {
    const at = (m: number) => new Date(NOW + m * 60_000).toISOString();
    const entry = (m: number, kind: TimelineEntry['kind']): TimelineEntry => ({ at: at(m), kind, text: kind, author: 'tocsin' });
    expect(isRetroactive({ timeline: [entry(0, 'opened'), entry(3, 'recovered'), entry(4, 'resolved'), entry(30, 'confirmed')] })).toBe(true);
    expect(isRetroactive({ timeline: [entry(0, 'opened'), entry(1, 'confirmed'), entry(4, 'resolved')] })).toBe(false);
    expect(isRetroactive({ timeline: [entry(0, 'opened'), entry(2, 'resolved'), entry(3, 'reopened'), entry(4, 'confirmed')] })).toBe(false);
    expect(isRetroactive({ timeline: [entry(0, 'opened'), entry(2, 'resolved')] })).toBe(false);

    const retro = incident({
      status: 'resolved',
      resolved_at: at(4),
      timeline: [entry(0, 'opened'), entry(4, 'resolved'), entry(30, 'confirmed')],
    });
    const [pub] = statusModel({ plan, incidents: [retro], now: NOW + 3_600_000 }).incidents;
    expect(pub?.retroactive).toBe(true);
    expect(pub?.title).toBe(retro.title);
  });
});

describe('maintenance windows', () => {
  const oneOff = (id: string, start: string, end: string, components = ['hv-8']): MaintenanceSpec => ({ id, components, start, end });

  it('announces active and upcoming one-off windows, not past ones or those beyond 7 days', () => {
    const specs = [
      oneOff('past', '2024-11-17T21:00:00Z', '2024-11-17T23:00:00Z'),
      oneOff('later', '2024-11-26T21:00:00Z', '2024-11-26T23:00:00Z'),
      oneOff('soon', '2024-11-20T21:00:00Z', '2024-11-20T23:00:00Z', ['db']),
      { ...oneOff('now', '2024-11-18T11:00:00Z', '2024-11-18T13:00:00Z'), title: 'Kernel updates' },
    ];
    const windows = maintenanceWindows(specs, NOW, (id) => `name of ${id}`);
    expect(windows).toEqual([
      {
        id: 'now',
        title: 'Kernel updates',
        components: [{ id: 'hv-8', name: 'name of hv-8' }],
        start: '2024-11-18T11:00:00.000Z',
        end: '2024-11-18T13:00:00.000Z',
        active: true,
        recurring: false,
      },
      {
        id: 'soon',
        title: 'soon',
        components: [{ id: 'db', name: 'name of db' }],
        start: '2024-11-20T21:00:00.000Z',
        end: '2024-11-20T23:00:00.000Z',
        active: false,
        recurring: false,
      },
    ]);
  });

  it('computes the current or next occurrence of a cron window, in UTC or in its timezone', () => {
    const weekly: MaintenanceSpec = { id: 'weekly-db', components: ['db'], cron: '0 22 * * 2', duration: 7_200_000 };
    expect(maintenanceWindows([weekly], NOW)).toMatchObject([
      { id: 'weekly-db', start: '2024-11-19T22:00:00.000Z', end: '2024-11-20T00:00:00.000Z', active: false, recurring: true },
    ]);
    const during = Date.parse('2024-11-19T23:30:00Z');
    expect(maintenanceWindows([weekly], during)).toMatchObject([{ start: '2024-11-19T22:00:00.000Z', active: true }]);
    // As it ends: the next one, a week later.
    expect(maintenanceWindows([weekly], Date.parse('2024-11-20T00:00:00Z'))).toMatchObject([
      { start: '2024-11-26T22:00:00.000Z', active: false },
    ]);
    // Monthly: the next occurrence (Dec 1st) is beyond the 7-day horizon.
    const monthly: MaintenanceSpec = { id: 'monthly', components: ['db'], cron: '0 22 1 * *', duration: 7_200_000 };
    expect(maintenanceWindows([monthly], NOW)).toEqual([]);
    expect(maintenanceWindows([monthly], Date.parse('2024-11-25T00:00:00Z'))).toMatchObject([
      { start: '2024-12-01T22:00:00.000Z' },
    ]);

    const paris: MaintenanceSpec = { id: 'paris', components: ['db'], cron: '0 22 * * *', duration: 3_600_000, timezone: 'Europe/Paris' };
    expect(maintenanceWindows([paris], NOW)).toMatchObject([{ start: '2024-11-18T21:00:00.000Z', end: '2024-11-18T22:00:00.000Z' }]);

    // Occurrences closer together than their duration: the earliest upcoming start.
    const hourly: MaintenanceSpec = { id: 'h', components: ['db'], cron: '30 * * * *', duration: 7_200_000 };
    const window = compileWindow(hourly);
    // Not active: the first match after 10:00 is 10:30; pretend "now" is 10:00 with no occurrence before.
    expect(nextOccurrence(window, 7_200_000, Date.parse('2024-11-18T10:00:00Z'), NOW + 86_400_000)).toEqual({
      start: Date.parse('2024-11-18T10:30:00Z'),
      end: Date.parse('2024-11-18T12:30:00Z'),
    });
  });

  it('shows the components of an active window, and their dependents, under maintenance', async () => {
    const maintenance = [oneOff('hv-kernel', '2024-11-18T11:00:00Z', '2024-11-18T13:00:00Z')];
    // A confirmed incident on the dependent does not override the announced window.
    const store = await storeWith([incident({ components: [{ id: 'lb', impact: 'major_outage' }] })]);
    const model = await buildStatusModel({ plan: { ...plan, maintenance }, store, engine: stub({}), now: NOW });
    expect(model.components.map((c) => [c.id, c.status])).toEqual([
      ['hv-8', 'under_maintenance'],
      ['lb', 'under_maintenance'],
      ['db', 'operational'],
      ['mail', 'operational'],
    ]);
    expect(model.overall).toBe('under_maintenance');
    expect(model.maintenance).toMatchObject([{ id: 'hv-kernel', active: true, components: [{ id: 'hv-8', name: 'Hypervisor hv-par6-008' }] }]);

    const after = await buildStatusModel({ plan: { ...plan, maintenance }, store, now: Date.parse('2024-11-18T13:00:00Z') });
    expect(after.maintenance).toEqual([]);
    expect(statusOf(after, 'hv-8')).toBe('operational');
    expect(statusOf(after, 'lb')).toBe('major_outage');
    // The engine's own maintenance view counts too.
    const live = await buildStatusModel({ plan, store, engine: stub({ db: 'under_maintenance' }), now: NOW });
    expect(statusOf(live, 'db')).toBe('under_maintenance');
  });
});
