import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../src/events/incident.js';
import { eventOf, type Notification, wants } from '../../src/notify/events.js';
import { slackRequest } from '../../src/notify/slack.js';
import { sign, webhookRequest } from '../../src/notify/webhook.js';
import type { Incident } from '../../src/events/incident.js';
import { summariseDocument } from '../../src/events/incident-summary.js';
import { BIG_COUNTS, largeIncident } from '../helpers/large-incident.js';

const T = '2026-01-01T10:00:00.000Z';
const entry = (kind: TimelineEntry['kind']): TimelineEntry => ({ at: T, kind, text: kind, author: 'tocsin' });

const stored: Incident = {
  id: 'inc_1',
  title: 'Add-ons [PAR]: Databases — DbDown',
  status: 'resolved',
  review: 'confirmed',
  severity: 'major',
  opened_at: T,
  resolved_at: T,
  root_component: 'db',
  components: [{ id: 'db', impact: 'partial_outage' }],
  regions: ['PAR'],
  signals: [],
  timeline: [entry('opened'), entry('resolved')],
  fingerprint: 'db',
};
/** What notifications carry: the API's summarised form. */
const doc = summariseDocument(stored);

describe('incident change → notification event', () => {
  it.each([
    [true, ['opened'], 'incident.opened'],
    [false, ['reopened', 'component_added'], 'incident.opened'],
    [false, ['recovered', 'resolved'], 'incident.resolved'],
    [false, ['confirmed'], 'incident.confirmed'],
    [false, ['dismissed'], 'incident.dismissed'],
    [false, ['signal_added', 'impact_changed'], 'incident.updated'],
    [false, ['rerooted'], 'incident.updated'],
    [false, ['note'], 'incident.updated'],
    [false, ['maintenance'], 'incident.updated'],
    [false, [], undefined],
  ] as const)('opened=%s %j → %s', (opened, kinds, event) => {
    expect(eventOf({ opened, appended: kinds.map(entry) })).toBe(event);
  });

  it('filters by the notifier events (none given: all)', () => {
    expect(wants(undefined, 'incident.updated')).toBe(true);
    expect(wants(['incident.opened'], 'incident.updated')).toBe(false);
    expect(wants(['incident.opened'], 'incident.opened')).toBe(true);
  });
});

describe('webhook body and signature', () => {
  const n: Notification = { event: 'incident.resolved', incident: doc, entries: [entry('resolved')], id: 'd-1' };

  it('signs "<timestamp>.<body>" with HMAC-SHA256 and says so in two headers', () => {
    const now = Date.parse(T) + 1500;
    const req = webhookRequest(n, now, 's3cret');
    expect(req.headers['X-Tocsin-Timestamp']).toBe(String(Math.floor(now / 1000)));
    const expected = createHmac('sha256', 's3cret').update(`${Math.floor(now / 1000)}.${req.body}`).digest('hex');
    expect(req.headers['X-Tocsin-Signature']).toBe(`sha256=${expected}`);
    expect(sign('s3cret', '1', 'x')).not.toBe(sign('other', '1', 'x'));
    expect(JSON.parse(req.body)).toEqual({ event: 'incident.resolved', sent_at: new Date(now).toISOString(), incident: doc, entries: [entry('resolved')] });
    // A small incident is the stored document plus the counts.
    expect(JSON.parse(req.body).incident).toEqual({
      ...stored,
      component_counts: { total: 1, degraded_performance: 0, partial_outage: 1, major_outage: 0 },
      components_truncated: false,
      signal_counts: { total: 0, by_rule: {} },
      signals_truncated: false,
    });
    expect(req.headers['X-Tocsin-Delivery']).toBe('d-1');
  });

  it('carries counts and the first 100 components and signals of a 10,000-component incident', () => {
    const big = largeIncident(10_000);
    const req = webhookRequest({ event: 'incident.opened', incident: summariseDocument(big), entries: [], id: 'd-2' }, Date.parse(T), 'k');
    expect(req.body.length).toBeLessThan(64 * 1024);
    const body = JSON.parse(req.body) as { incident: ReturnType<typeof summariseDocument> };
    expect(body.incident.components).toHaveLength(100);
    expect(body.incident.components[0]?.id).toBe(big.root_component);
    expect(body.incident.signals).toHaveLength(100);
    expect(body.incident.component_counts).toEqual(BIG_COUNTS);
    expect(body.incident.signal_counts).toEqual({ total: 10_000, by_rule: { outage: 9000, slow: 1000 } });
    expect(body.incident).toMatchObject({ components_truncated: true, signals_truncated: true });
    expect(body.incident.timeline).toEqual(big.timeline);
  });

  it('has no signature headers without a secret', () => {
    const req = webhookRequest(n, Date.parse(T), undefined);
    expect(Object.keys(req.headers).sort()).toEqual(['Content-Type', 'X-Tocsin-Delivery', 'X-Tocsin-Event']);
  });
});

describe('slack message', () => {
  it('has a fallback text and blocks with title, severity, status, components and the latest entry', () => {
    const body = JSON.parse(slackRequest({ event: 'incident.resolved', incident: doc, entries: [entry('resolved')], id: 'x' }).body) as {
      text: string;
      blocks: { type: string }[];
    };
    expect(body.text).toBe(':white_check_mark: [MAJOR] Add-ons [PAR]: Databases — DbDown — resolved (resolved, confirmed)');
    expect(body.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'section', 'context']);
    const all = JSON.stringify(body.blocks);
    expect(all).toContain('db (root): partial outage');
    expect(all).toContain('*10:00 UTC* (resolved, tocsin): resolved');
  });

  it('counts the components of a 10,000-component incident per impact and lists the first ten', () => {
    const big = largeIncident(10_000);
    const req = slackRequest({ event: 'incident.opened', incident: summariseDocument(big), entries: [], id: 'x' });
    expect(req.body.length).toBeLessThan(8 * 1024);
    const body = JSON.parse(req.body) as { blocks: { text?: { text: string } }[] };
    const section = body.blocks[2]?.text?.text ?? '';
    expect(section).toContain('10,001 components: 7,001 major outage, 2,000 partial outage, 1,000 degraded performance');
    expect(section).toContain('• zone-par1 (root): major outage');
    expect(section.match(/^• /gm)).toHaveLength(11);
    expect(section).toContain('• and 9,991 more');
  });

  it('clips a long title to Slack header limit', () => {
    const long = { ...doc, title: 'x'.repeat(400) };
    const body = JSON.parse(slackRequest({ event: 'incident.opened', incident: long, entries: [], id: 'x' }).body) as {
      blocks: { text?: { text: string } }[];
    };
    expect(body.blocks[0]?.text?.text.length).toBe(150);
  });
});
