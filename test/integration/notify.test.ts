import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NotifierSpec } from '../../src/config/schema.js';
import type { IncidentChange } from '../../src/engine/types.js';
import { IncidentWriter } from '../../src/incidents/manager.js';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import { type SummarisedIncident, summariseDocument } from '../../src/events/incident-summary.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import { type DispatcherOptions, NotificationDispatcher } from '../../src/notify/dispatcher.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { waitFor } from '../helpers/cli.js';
import { largeIncident } from '../helpers/large-incident.js';

// The dispatcher against a real HTTP receiver on loopback: signatures, filters, retries, timeouts,
// final 4xx, the Slack shape and delivery order. Backoff is shortened through options.

interface Received {
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly at: number;
}

type Behaviour = (req: Received, n: number) => number | 'hang';

/** A loopback receiver whose answer per request is scripted by `behaviour`. */
class Receiver {
  readonly requests: Received[] = [];
  behaviour: Behaviour = () => 200;
  #server: Server | undefined;
  #hung: ServerResponse[] = [];
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
        this.requests.push(r);
        const answer = this.behaviour(r, this.requests.length);
        if (answer === 'hang') {
          this.#hung.push(res);
          return;
        }
        res.writeHead(answer, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.#server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  reset(): void {
    this.requests.length = 0;
    this.behaviour = () => 200;
    for (const res of this.#hung.splice(0)) res.destroy();
  }

  async stop(): Promise<void> {
    this.reset();
    const server = this.#server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const T = '2026-01-01T10:00:00.000Z';

function incident(over: Partial<Incident> = {}): Incident {
  return {
    id: 'inc_0123456789abcdef0123',
    title: 'Reverse Proxies [PAR]: Public load balancers unreachable',
    status: 'open',
    review: 'pending',
    severity: 'critical',
    opened_at: T,
    resolved_at: null,
    root_component: 'lb',
    components: [
      { id: 'lb', impact: 'major_outage' },
      { id: 'db', impact: 'partial_outage' },
    ],
    regions: ['PAR'],
    signals: [{ rule: 'outage', probe: 'lb-http', targets: ['t1'], vantages: ['v1'], error: 'timeout', since: T, until: null }],
    timeline: [{ at: T, kind: 'opened', text: 'Tocsin detected a problem: lb-http failing.', author: 'tocsin' }],
    fingerprint: 'lb',
    ...over,
  };
}

function change(kind: TimelineEntry['kind'] | 'new', doc = incident()): [IncidentChange, Incident] {
  const entry: TimelineEntry = { at: T, kind: kind === 'new' ? 'opened' : kind, text: `entry ${kind}`, author: 'tocsin' };
  const stored = kind === 'new' ? doc : { ...doc, timeline: [...doc.timeline, entry] };
  return [{ incident: stored, appended: [entry], opened: kind === 'new', rule: 'outage', firstFailureMs: Date.parse(T) }, stored];
}

/** Log lines, to check that no secret reaches them. */
class LogSink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

const SECRET = 'webhook-secret-value-42';
const receiver = new Receiver();
let logs: LogSink;
let metrics: Metrics;
const dispatchers: NotificationDispatcher[] = [];

function dispatcher(notifiers: Partial<NotifierSpec>[], opts: Partial<DispatcherOptions> = {}): NotificationDispatcher {
  const d = new NotificationDispatcher({
    // group_wait 0 unless a test says otherwise: these tests are about delivery, sent at once.
    notifiers: notifiers.map((n) => ({ kind: 'webhook', url: `${receiver.url}/hook`, timeout: 2000, group_wait: 0, ...n })),
    logger: pino({ level: 'debug' }, logs),
    metrics,
    env: { TOCSIN_HOOK_SECRET: SECRET },
    baseDelayMs: 20,
    random: () => 0.5,
    ...opts,
  });
  dispatchers.push(d);
  return d;
}

async function counted(notifier: string, result: string): Promise<number> {
  const m = await metrics.notifications.get();
  const mine = m.values.filter((v) => v.labels.notifier === notifier && v.labels.result === result);
  return mine.reduce((a, v) => a + v.value, 0);
}

describe('notification dispatcher (real loopback receiver)', () => {
  beforeAll(() => receiver.start());
  afterEach(async () => {
    for (const d of dispatchers.splice(0)) await d.stop(200);
    receiver.reset();
  });
  afterAll(() => receiver.stop());

  beforeEach(() => {
    logs = new LogSink();
    metrics = createMetrics({ version: 'test', processMetrics: false });
  });

  it('signs the webhook body; the documented verification accepts it and rejects a tampered body', async () => {
    const d = dispatcher([{ secret_env: 'TOCSIN_HOOK_SECRET' }]);
    d.listener(...change('new'));
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    const r = receiver.requests[0];
    if (!r) throw new Error('no request');
    expect(r.headers['content-type']).toMatch(/application\/json/);
    expect(r.headers['x-tocsin-event']).toBe('incident.opened');
    const ts = String(r.headers['x-tocsin-timestamp']);
    const sig = String(r.headers['x-tocsin-signature']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    // The receiver side, as docs/notifications.md shows it.
    const verify = (body: string): boolean => {
      const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex')}`);
      const given = Buffer.from(sig);
      return expected.length === given.length && timingSafeEqual(expected, given);
    };
    expect(verify(r.body)).toBe(true);
    expect(verify(r.body.replace('critical', 'minor'))).toBe(false);
    const body = JSON.parse(r.body) as { event: string; sent_at: string; incident: Incident; entries: TimelineEntry[] };
    expect(body.event).toBe('incident.opened');
    expect(Number.isNaN(Date.parse(body.sent_at))).toBe(false);
    // The document as the API answers it: small, so whole, plus the counts.
    expect(body.incident).toEqual(summariseDocument(incident()));
    expect(body.incident).toMatchObject(incident());
    expect(body.entries.map((e) => e.kind)).toEqual(['opened']);
    expect(await counted('webhook-0', 'success')).toBe(1);
    expect(logs.text).not.toContain(SECRET);
    expect(logs.text).not.toContain(sig.slice(7));
  });

  it('sends the summary of a 10,000-component incident to webhooks and Slack, not every component', async () => {
    const d = dispatcher([{}, { kind: 'slack', url: `${receiver.url}/slack` }]);
    const big = largeIncident(10_000, { review: 'pending' });
    d.listener(...change('new', big));
    await d.idle();
    const hook = receiver.requests.find((r) => r.path === '/hook');
    const slack = receiver.requests.find((r) => r.path === '/slack');
    if (!hook || !slack) throw new Error('not delivered');
    expect(hook.body.length).toBeLessThan(64 * 1024);
    const body = JSON.parse(hook.body) as { incident: SummarisedIncident };
    expect(body.incident.components).toEqual(big.components.slice(0, 100));
    expect(body.incident.signals).toHaveLength(100);
    expect(body.incident).toMatchObject({
      component_counts: { total: 10_001, degraded_performance: 1000, partial_outage: 2000, major_outage: 7001 },
      components_truncated: true,
      signal_counts: { total: 10_000 },
      signals_truncated: true,
    });
    expect(slack.body.length).toBeLessThan(8 * 1024);
    expect(slack.body).toContain('10,001 components: 7,001 major outage');
    expect(slack.body).toContain('and 9,991 more');
  });

  it('sends no signature headers without a secret', async () => {
    const d = dispatcher([{}]);
    d.listener(...change('note'));
    await d.idle();
    expect(receiver.requests[0]?.headers['x-tocsin-signature']).toBeUndefined();
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({ event: 'incident.updated' });
  });

  it('sends only the events a notifier asks for', async () => {
    const d = dispatcher([
      { url: `${receiver.url}/a`, events: ['incident.opened', 'incident.resolved'] },
      { url: `${receiver.url}/b` },
    ]);
    for (const k of ['new', 'signal_added', 'confirmed', 'dismissed', 'resolved', 'reopened', 'recovered'] as const) d.listener(...change(k));
    await d.idle();
    const events = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => String(r.headers['x-tocsin-event']));
    expect(events('/a')).toEqual(['incident.opened', 'incident.resolved', 'incident.opened']);
    expect(events('/b')).toEqual([
      'incident.opened',
      'incident.updated',
      'incident.confirmed',
      'incident.dismissed',
      'incident.resolved',
      'incident.opened',
      'incident.updated',
    ]);
  });

  it('retries after 500s with growing waits, then succeeds', async () => {
    receiver.behaviour = (_r, n) => (n <= 2 ? 500 : 200);
    const d = dispatcher([{}], { baseDelayMs: 50 });
    d.listener(...change('new'));
    await d.idle();
    expect(receiver.requests).toHaveLength(3);
    const [a, b, c] = receiver.requests.map((r) => r.at);
    // Jitter is pinned to the middle: 50 ms, then 100 ms.
    expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(45);
    expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(95);
    // Each attempt is the same delivery.
    expect(new Set(receiver.requests.map((r) => r.headers['x-tocsin-delivery'])).size).toBe(1);
    expect(await counted('webhook-0', 'success')).toBe(1);
    expect(await counted('webhook-0', 'failure')).toBe(0);
  });

  it('does not retry a 4xx other than 408 and 429', async () => {
    receiver.behaviour = (r) => (r.path === '/gone' ? 404 : r.path === '/busy' ? (receiver.requests.filter((x) => x.path === '/busy').length < 2 ? 429 : 200) : 200);
    const d = dispatcher([{ url: `${receiver.url}/gone` }, { url: `${receiver.url}/busy` }]);
    d.listener(...change('new'));
    await d.idle();
    expect(receiver.requests.filter((r) => r.path === '/gone')).toHaveLength(1);
    expect(receiver.requests.filter((r) => r.path === '/busy')).toHaveLength(2);
    expect(await counted('webhook-0', 'failure')).toBe(1);
    expect(await counted('webhook-1', 'success')).toBe(1);
    expect(logs.text).toContain('HTTP 404');
  });

  it('a hanging receiver times out, is retried, then counted as a failure; the caller never waits', async () => {
    receiver.behaviour = () => 'hang';
    const d = dispatcher([{ timeout: 150 }], { maxAttempts: 3 });
    // onApplied only enqueues: it returns nothing to wait for, and nothing has been sent yet.
    expect(d.listener(...change('new'))).toBeUndefined();
    expect(d.listener(...change('resolved'))).toBeUndefined();
    expect(receiver.requests).toHaveLength(0);
    expect(d.depth()['webhook-0']).toBe(1);
    await waitFor(async () => ((await counted('webhook-0', 'failure')) === 2 ? true : undefined), 10_000, 20);
    expect(receiver.requests).toHaveLength(6);
    expect(logs.text).toContain('no answer within 150 ms');
  });

  it('the incident writer stores changes while the receiver hangs', async () => {
    receiver.behaviour = () => 'hang';
    const store = await SqliteStore.open(':memory:');
    try {
      const writer = new IncidentWriter(store);
      const d = dispatcher([{ timeout: 5000 }]);
      writer.onApplied(d.listener);
      const [opened] = change('new');
      const [resolved] = change('resolved');
      // Both stored, one after the other, while the first notification is still unanswered.
      await writer.apply([opened, resolved]);
      expect((await store.getIncident(opened.incident.id))?.incident.status).toBe('open');
      await waitFor(() => (receiver.requests.length === 1 ? true : undefined), 5000, 10);
      expect(d.depth()['webhook-0']).toBe(1);
      expect(await counted('webhook-0', 'success')).toBe(0);
    } finally {
      await store.close();
    }
  });

  it('keeps order per notifier and drops the oldest beyond capacity', async () => {
    const d = dispatcher([{}], { capacity: 3 });
    receiver.behaviour = (_r, n) => (n === 1 ? 500 : 200);
    const notes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
    for (const text of notes) {
      const [c, s] = change('note');
      d.listener({ ...c, appended: [{ at: T, kind: 'note', text, author: 'ops' }] }, s);
    }
    await d.idle();
    const texts = receiver.requests.map((r) => (JSON.parse(r.body) as { entries: TimelineEntry[] }).entries[0]?.text);
    // n1 was in flight (retried in place); n2 and n3 were dropped when n5 and n6 came.
    expect(texts).toEqual(['n1', 'n1', 'n4', 'n5', 'n6']);
    expect(await counted('webhook-0', 'dropped')).toBe(2);
    expect(await counted('webhook-0', 'success')).toBe(4);
    expect((await metrics.notificationQueueDepth.get()).values[0]?.value).toBe(0);
  });

  it('posts a Slack-compatible message', async () => {
    const d = dispatcher([{ kind: 'slack', url: `${receiver.url}/services/T000/B000/XXXX` }]);
    d.listener(...change('confirmed'));
    await d.idle();
    const msg = JSON.parse(receiver.requests[0]?.body ?? '{}') as { text: string; blocks: { type: string; text?: { text: string }; fields?: { text: string }[] }[] };
    expect(msg.text).toContain('[CRITICAL] Reverse Proxies [PAR]: Public load balancers unreachable');
    expect(msg.text).toContain('confirmed');
    expect(msg.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Reverse Proxies [PAR]: Public load balancers unreachable', emoji: true } });
    const all = JSON.stringify(msg.blocks);
    expect(all).toContain('*Severity*');
    expect(all).toContain('lb (root): major outage');
    expect(all).toContain('db: partial outage');
    expect(all).toContain('entry confirmed');
    expect(all).toContain('open (draft, pending review)');
    expect(receiver.requests[0]?.headers['x-tocsin-signature']).toBeUndefined();
  });

  it('holds an opening for group_wait and sends it once, naming the root the re-root settled on', async () => {
    const d = dispatcher([{ group_wait: 1000 }]);
    const [opened, first] = change('new');
    d.listener(opened, first);
    // A cascade: the gateway behind lb fails too and becomes the root, within the wait.
    const rerooted = incident({
      root_component: 'gateway',
      fingerprint: 'gateway',
      components: [{ id: 'gateway', impact: 'major_outage' }, ...first.components],
      timeline: [...first.timeline, { at: T, kind: 'rerooted', text: 'Common cause: gateway', author: 'tocsin' }],
    });
    d.listener({ ...opened, incident: rerooted, appended: rerooted.timeline.slice(1), opened: false }, rerooted);
    expect(d.holding()['webhook-0']).toBe(1);
    expect(d.depth()['webhook-0']).toBe(0);
    await waitFor(() => (receiver.requests.length > 0 ? true : undefined), 10_000, 20);
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    const body = JSON.parse(receiver.requests[0]?.body ?? '{}') as { event: string; incident: Incident; entries: TimelineEntry[] };
    expect(body.event).toBe('incident.opened');
    expect(body.incident.root_component).toBe('gateway');
    expect(body.entries.map((e) => e.kind)).toEqual(['opened', 'rerooted']);
    expect(d.holding()['webhook-0']).toBe(0);
    expect(await counted('webhook-0', 'success')).toBe(1);
  });

  it('sends incident.rerooted with the root before and after to a notifier that takes it', async () => {
    const d = dispatcher([{ url: `${receiver.url}/rerooted`, events: ['incident.rerooted'] }, { url: `${receiver.url}/updated`, events: ['incident.updated'] }]);
    const [opened, first] = change('new');
    d.listener(opened, first);
    const rerooted = incident({
      root_component: 'gateway',
      fingerprint: 'gateway',
      timeline: [...first.timeline, { at: T, kind: 'rerooted', text: 'Common cause: gateway', author: 'tocsin' }],
    });
    d.listener({ ...opened, incident: rerooted, appended: rerooted.timeline.slice(1), opened: false }, rerooted);
    await d.idle();
    type Body = { event: string; reroot?: unknown; incident: Incident };
    const bodies = (path: string): Body[] =>
      receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as Body);
    expect(bodies('/rerooted').map((b) => [b.event, b.reroot, b.incident.root_component])).toEqual([
      ['incident.rerooted', { from: 'lb', to: 'gateway' }, 'gateway'],
    ]);
    // A notifier that asked for incident.updated only hears the re-root as it always did.
    expect(bodies('/updated').map((b) => [b.event, b.reroot])).toEqual([['incident.updated', undefined]]);
  });

  it('stop sends the openings held for group_wait rather than losing them', async () => {
    const d = dispatcher([{ group_wait: 600_000 }]);
    d.listener(...change('new'));
    expect(d.holding()['webhook-0']).toBe(1);
    expect(await d.stop(5000)).toBe(true);
    expect(receiver.requests.map((r) => r.headers['x-tocsin-event'])).toEqual(['incident.opened']);
    expect(await counted('webhook-0', 'success')).toBe(1);
  });

  it('stop drains within its bound and drops what is left', async () => {
    receiver.behaviour = () => 'hang';
    const d = dispatcher([{ timeout: 5000 }]);
    d.listener(...change('new'));
    d.listener(...change('resolved'));
    await waitFor(() => (receiver.requests.length > 0 ? true : undefined), 5000, 10);
    expect(await d.stop(100)).toBe(false);
    expect(await counted('webhook-0', 'dropped')).toBe(2);
    // After stop nothing is queued.
    d.listener(...change('note'));
    expect(await counted('webhook-0', 'dropped')).toBe(3);
    expect(receiver.requests).toHaveLength(1);
  });
});
