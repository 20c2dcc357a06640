import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import { statusModel } from '../../src/status/model.js';
import { publicWording } from '../../src/status/public-text.js';
import {
  groupId,
  v2Components,
  v2Incidents,
  type V2Input,
  v2Status,
  v2Summary,
  v2Unresolved,
  v2Upcoming,
} from '../../src/status/statuspage-v2.js';
import { UPDATES_PER_INCIDENT } from '../../src/status/updates.js';
import { makePlan } from '../helpers/plan.js';
import { opsNote, publishedIncident } from '../helpers/published-incident.js';

// The Statuspage-compatible documents (docs/status-page.md, "/api/v2"): the documented shapes key
// for key, the mapping of Tocsin's statuses, phases and severities, and the page's one rule:
// nothing unconfirmed.

const NOW = Date.parse('2024-11-18T12:00:00Z');
const src = { file: '/dev/null', line: 1 };
const plan: Plan = makePlan([], {
  components: [
    { id: 'lb', name: 'Public load balancers', group: 'Reverse Proxies', description: 'In front of every app', depends_on: [], source: src },
    { id: 'lb-2', name: 'Private load balancers', group: 'Reverse Proxies', depends_on: [], source: src },
    { id: 'db', name: 'PostgreSQL', group: 'Databases', depends_on: [], source: src },
  ],
  maintenance: [
    { id: 'pg-upgrade', title: 'PostgreSQL upgrade', components: ['db'], start: '2024-11-20T21:00:00Z', end: '2024-11-20T23:00:00Z' },
    { id: 'lb-now', title: 'Kernel updates', components: ['lb-2'], start: '2024-11-18T11:00:00Z', end: '2024-11-18T13:00:00Z' },
  ],
});

/** Incidents on the public load balancers unless told otherwise. */
const incident = (over: Partial<Incident> = {}): Incident =>
  publishedIncident({ root_component: 'lb', components: [{ id: 'lb', impact: 'partial_outage' }], ...over });
const note = opsNote;

function input(incidents: Incident[], live?: Record<string, 'operational' | 'major_outage' | 'partial_outage'>): V2Input {
  const open = incidents.filter((i) => i.status === 'open');
  return {
    model: statusModel({ plan, incidents: open, live, now: NOW }),
    incidents,
    wording: publicWording(plan),
    pageUrl: 'https://status.example.com/status',
  };
}

/** Keys of an object, sorted; the shape Statuspage documents is compared by them. */
const keys = (o: unknown) => Object.keys(o as object).sort();
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/statuspage-v2/${name}`, import.meta.url), 'utf8')) as Record<string, unknown[]> & {
    page: object;
    status: object;
  };

/** Same keys, and a value of the same JSON type wherever the example's is not null. */
function expectSameShape(ours: unknown, example: unknown, path: string): void {
  if (example === null) return;
  if (Array.isArray(example)) {
    expect(Array.isArray(ours), path).toBe(true);
    if (example.length > 0 && (ours as unknown[]).length > 0) expectSameShape((ours as unknown[])[0], example[0], `${path}[0]`);
    return;
  }
  if (typeof example === 'object') {
    expect(keys(ours), path).toEqual(keys(example));
    for (const k of Object.keys(example)) expectSameShape((ours as Record<string, unknown>)[k], (example as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(typeof ours, path).toBe(typeof example);
}

describe('the documented shapes', () => {
  const inc = incident({
    timeline: [
      { at: '2024-11-18T10:00:00.000Z', kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' },
      note('2024-11-18T10:05:00.000Z', 'A failover is under way.', 'identified'),
    ],
  });

  it('summary.json: page, components and groups, incidents with their updates, status', () => {
    const ours = JSON.parse(JSON.stringify(v2Summary(input([inc])))) as Record<string, unknown[]>;
    const example = fixture('summary.json');
    expect(keys(ours)).toEqual(keys(example));
    expectSameShape(ours.page, example.page, 'page');
    expectSameShape(ours.status, example.status, 'status');
    const [exGroup, exComponent] = example.components as object[];
    const group = ours.components?.find((c) => (c as { group: boolean }).group);
    const component = ours.components?.find((c) => !(c as { group: boolean }).group);
    expectSameShape(group, exGroup, 'group');
    expectSameShape(component, exComponent, 'component');
    expectSameShape(ours.incidents?.[0], example.incidents?.[0], 'incident');
  });

  it('scheduled-maintenances/upcoming.json: windows with scheduled_for and scheduled_until', () => {
    const ours = JSON.parse(JSON.stringify(v2Upcoming(input([])))) as Record<string, unknown[]>;
    const example = fixture('upcoming.json');
    expect(keys(ours)).toEqual(keys(example));
    expect(ours.scheduled_maintenances).toHaveLength(1);
    expectSameShape(ours.scheduled_maintenances?.[0], example.scheduled_maintenances?.[0], 'maintenance');
  });

  it('status.json, components.json, incidents.json and unresolved.json: the page and one list each', () => {
    const i = input([inc]);
    expect(keys(v2Status(i))).toEqual(['page', 'status']);
    expect(keys(v2Components(i))).toEqual(['components', 'page']);
    expect(keys(v2Incidents(i, 50))).toEqual(['incidents', 'page']);
    expect(keys(v2Unresolved(i))).toEqual(['incidents', 'page']);
    expect(v2Status(i).page).toEqual({
      id: 'tocsin',
      name: 'System status',
      url: 'https://status.example.com/status',
      time_zone: 'Etc/UTC',
      updated_at: '2024-11-18T12:00:00.000Z',
    });
  });
});

describe('the mapping', () => {
  it('indicator and words from the worst public component status', () => {
    expect(v2Status(input([])).status).toEqual({ indicator: 'none', description: 'Service Under Maintenance' });
    const cases = [
      ['degraded_performance', 'minor', 'Minor Service Outage'],
      ['partial_outage', 'major', 'Partial System Outage'],
      ['major_outage', 'critical', 'Major Service Outage'],
    ] as const;
    for (const [impact, indicator, description] of cases) {
      const inc = incident({ components: [{ id: 'db', impact }] });
      expect(v2Status(input([inc])).status, impact).toEqual({ indicator, description });
    }
    const model = statusModel({ plan: { ...plan, maintenance: [] }, incidents: [], now: NOW });
    const quiet: V2Input = { ...input([]), model };
    expect(v2Status(quiet).status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
  });

  it('groups are components listing their members; each member names its group', () => {
    const list = v2Components(input([incident()])).components;
    expect(list.map((c) => [c.id, c.position, c.group])).toEqual([
      [groupId('Reverse Proxies'), 1, true],
      ['lb', 2, false],
      ['lb-2', 3, false],
      [groupId('Databases'), 4, true],
      ['db', 5, false],
    ]);
    const proxies = list[0];
    expect(proxies).toMatchObject({ name: 'Reverse Proxies', components: ['lb', 'lb-2'], group_id: null, description: null });
    // The worst of its members: lb is in a confirmed partial outage, lb-2 under maintenance.
    expect(proxies?.status).toBe('partial_outage');
    expect(list[1]).toMatchObject({ group_id: groupId('Reverse Proxies'), description: 'In front of every app', status: 'partial_outage' });
    expect(list[2]).toMatchObject({ status: 'under_maintenance', description: null });
    // Never a component's id (config ids have no "+"), and the same for the same name.
    expect(groupId('Databases')).toMatch(/^group\+[0-9a-f]{12}$/);
    expect(groupId('Databases')).toBe(groupId('Databases'));
    expect(groupId('Databases')).not.toBe(groupId('Reverse Proxies'));
  });

  it('an incident\'s status follows the phases of its public updates, the detector deciding when it is over', () => {
    const inc = incident({
      severity: 'critical',
      timeline: [
        { at: '2024-11-18T10:00:00.000Z', kind: 'opened', text: 'Tocsin detected a problem.', author: 'tocsin' },
        { at: '2024-11-18T10:01:00.000Z', kind: 'signal_added', text: 'probe pg-1 failing', author: 'tocsin' },
        note('2024-11-18T10:05:00.000Z', 'Found it: a full disk.', 'identified'),
        note('2024-11-18T10:20:00.000Z', 'Space freed, watching.', 'monitoring'),
        note('2024-11-18T10:30:00.000Z', 'Still watching.'),
      ],
    });
    const [doc] = v2Unresolved(input([inc])).incidents;
    expect(doc).toMatchObject({
      id: inc.id,
      name: inc.title,
      status: 'monitoring',
      impact: 'critical',
      created_at: '2024-11-18T10:00:00.000Z',
      started_at: '2024-11-18T10:00:00.000Z',
      updated_at: '2024-11-18T10:30:00.000Z',
      monitoring_at: '2024-11-18T10:20:00.000Z',
      resolved_at: null,
      shortlink: `https://status.example.com/status#${inc.id}`,
      page_id: 'tocsin',
    });
    // Newest first; the signal is not public; ids name the entry's place in the timeline.
    expect(doc?.incident_updates.map((u) => [u.id, u.status, u.body])).toEqual([
      [`${inc.id}-u4`, 'monitoring', 'Still watching.'],
      [`${inc.id}-u3`, 'monitoring', 'Space freed, watching.'],
      [`${inc.id}-u2`, 'identified', 'Found it: a full disk.'],
      [`${inc.id}-u0`, 'investigating', `Investigating — ${inc.title}.`],
    ]);
    expect(doc?.components.map((c) => [c.id, c.name, c.status])).toEqual([['lb', 'Public load balancers', 'partial_outage']]);

    // A "resolved" note while Tocsin still sees it open reads as monitoring; resolution decides.
    const early = incident({ timeline: [...inc.timeline, note('2024-11-18T10:40:00.000Z', 'Fixed.', 'resolved')] });
    expect(v2Unresolved(input([early])).incidents[0]?.status).toBe('monitoring');
    expect(v2Unresolved(input([early])).incidents[0]?.incident_updates[0]?.status).toBe('resolved');
    const over = incident({
      status: 'resolved',
      resolved_at: '2024-11-18T11:00:00.000Z',
      timeline: [
        ...inc.timeline,
        { at: '2024-11-18T11:00:00.000Z', kind: 'resolved', text: 'Resolved by ops: disk replaced', author: 'ops' },
      ],
    });
    const [done] = v2Incidents(input([over]), 50).incidents;
    expect(done).toMatchObject({ status: 'resolved', resolved_at: '2024-11-18T11:00:00.000Z', updated_at: '2024-11-18T11:00:00.000Z' });
    expect(done?.incident_updates[0]).toMatchObject({ status: 'resolved', body: 'Resolved: disk replaced' });
    expect(v2Unresolved(input([over])).incidents).toEqual([]);

    // No phase at all: investigating while open, and a reopening starts over.
    const reopened = incident({
      timeline: [
        ...over.timeline,
        { at: '2024-11-18T11:30:00.000Z', kind: 'reopened', text: 'The problem is back', author: 'tocsin' },
      ],
    });
    expect(v2Unresolved(input([reopened])).incidents[0]).toMatchObject({ status: 'investigating', resolved_at: null });
    expect(v2Unresolved(input([incident()])).incidents[0]).toMatchObject({ status: 'investigating', monitoring_at: null });
  });

  it('scheduled maintenance: upcoming ones in upcoming.json, in-progress ones too in the summary', () => {
    const upcoming = v2Upcoming(input([])).scheduled_maintenances;
    expect(upcoming.map((m) => [m.id, m.status, m.scheduled_for, m.scheduled_until])).toEqual([
      ['pg-upgrade@2024-11-20T21:00:00.000Z', 'scheduled', '2024-11-20T21:00:00.000Z', '2024-11-20T23:00:00.000Z'],
    ]);
    // Announced when it entered the page's 7-day horizon: a fixed time, the same on every request.
    expect(upcoming[0]).toMatchObject({ created_at: '2024-11-13T21:00:00.000Z', impact: 'maintenance', name: 'PostgreSQL upgrade' });
    expect(upcoming[0]?.components.map((c) => c.id)).toEqual(['db']);
    expect(upcoming[0]?.incident_updates[0]?.body).toBe(
      'Scheduled maintenance: PostgreSQL upgrade, Wed 20 Nov 21:00–23:00 UTC. Affects: PostgreSQL.',
    );
    const summary = v2Summary(input([])).scheduled_maintenances;
    expect(summary.map((m) => [m.id, m.status])).toEqual([
      ['lb-now@2024-11-18T11:00:00.000Z', 'in_progress'],
      ['pg-upgrade@2024-11-20T21:00:00.000Z', 'scheduled'],
    ]);
    expect(summary[0]?.incident_updates.map((u) => u.status)).toEqual(['in_progress', 'scheduled']);
  });

  it('a component gone from the config since the incident is listed by its id', () => {
    const inc = incident({ components: [{ id: 'old-db', impact: 'major_outage' }] });
    expect(v2Unresolved(input([inc])).incidents[0]?.components[0]).toMatchObject({ id: 'old-db', name: 'old-db', group_id: null });
  });
});

describe('only what an operator confirmed', () => {
  it('never a pending draft nor a dismissed incident, in any document', () => {
    const draft = incident({ review: 'pending', title: 'DRAFT-TITLE', components: [{ id: 'db', impact: 'major_outage' }] });
    const dismissed = incident({ review: 'dismissed', title: 'DISMISSED-TITLE', components: [{ id: 'db', impact: 'major_outage' }] });
    const confirmed = incident({ title: 'Confirmed one' });
    const i = input([draft, dismissed, confirmed], { db: 'major_outage' });
    const all = JSON.stringify([v2Summary(i), v2Incidents(i, 50), v2Unresolved(i), v2Components(i), v2Status(i)]);
    expect(all).toContain('Confirmed one');
    expect(all).not.toContain('DRAFT-TITLE');
    expect(all).not.toContain('DISMISSED-TITLE');
    // The engine sees the database down, but no confirmed incident says so: it stays operational.
    expect(v2Components(i).components.find((c) => c.id === 'db')?.status).toBe('operational');
    expect(v2Incidents(i, 50).incidents.map((x) => x.id)).toEqual([confirmed.id]);
  });
});

describe('bounds', () => {
  it('a 10,000-entry timeline gives the latest updates only; a 10,000-component incident its first 20', () => {
    const timeline: TimelineEntry[] = [{ at: '2024-11-18T00:00:00.000Z', kind: 'opened', text: 'x', author: 'tocsin' }];
    for (let n = 1; n < 10_000; n++) timeline.push(note(new Date(Date.parse('2024-11-18T00:00:00Z') + n * 1000).toISOString(), `note ${n}`));
    const components = Array.from({ length: 10_000 }, (_, n) => ({ id: `app-${n}`, impact: 'major_outage' as const }));
    const [doc] = v2Unresolved(input([incident({ timeline, components })])).incidents;
    expect(doc?.incident_updates).toHaveLength(UPDATES_PER_INCIDENT);
    expect(doc?.incident_updates[0]).toMatchObject({ body: 'note 9999' });
    expect(doc?.components).toHaveLength(20);
  });

  it('incidents.json lists the newest ones first, up to its limit', () => {
    const older = incident({ opened_at: '2024-11-10T00:00:00.000Z', status: 'resolved', resolved_at: '2024-11-10T01:00:00.000Z' });
    const newer = incident({ opened_at: '2024-11-18T09:00:00.000Z' });
    expect(v2Incidents(input([older, newer]), 50).incidents.map((x) => x.id)).toEqual([newer.id, older.id]);
    expect(v2Incidents(input([older, newer]), 1).incidents.map((x) => x.id)).toEqual([newer.id]);
  });
});
