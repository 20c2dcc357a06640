import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import { summariseDocument } from '../../src/events/incident-summary.js';
import { eventFor, eventOf, type NotifyEvent, rerootOf } from '../../src/notify/events.js';
import { type ChangeNews, GroupWait, type Outgoing } from '../../src/notify/grouping.js';
import { RootMemory } from '../../src/notify/roots.js';
import { slackRequest } from '../../src/notify/slack.js';
import { webhookRequest } from '../../src/notify/webhook.js';
import { FakeClock } from '../helpers/fake-clock.js';

// group_wait and incident.rerooted on a fake clock: what each notifier is handed to send, and when.

const T = '2026-01-01T10:00:00.000Z';
const entry = (kind: TimelineEntry['kind'], text: string = kind): TimelineEntry => ({ at: T, kind, text, author: 'tocsin' });

/** A cascade's incident as the store holds it after each change: svc1 first, then the gateway behind it. */
function doc(id: string, over: Partial<Incident> = {}): Incident {
  return {
    id,
    title: 'Apps [PAR]: Service svc1 unreachable',
    status: 'open',
    review: 'pending',
    severity: 'critical',
    opened_at: T,
    resolved_at: null,
    root_component: 'svc1',
    components: [{ id: 'svc1', impact: 'major_outage' }],
    regions: ['PAR'],
    signals: [],
    timeline: [entry('opened')],
    fingerprint: 'svc1',
    ...over,
  };
}

/** The stored change as the dispatcher turns it into news: the root before comes from `roots`. */
function news(roots: RootMemory, stored: Incident, appended: readonly TimelineEntry[], opened = false): ChangeNews {
  const before = roots.swap(stored);
  return {
    stored,
    base: eventOf({ opened, appended }),
    appended,
    reroot: rerootOf({ appended }, before, stored.root_component),
  };
}

/** The cascade's changes, in order: opened at svc1; svc2 joins and the gateway becomes the root. */
function cascade(id = 'inc_c'): { opened: [Incident, TimelineEntry[]]; rerooted: [Incident, TimelineEntry[]] } {
  const opened = doc(id);
  const joined = [entry('component_added', 'Service svc2 affected'), entry('rerooted', 'Common cause: Datacenter gateway')];
  const rerooted = doc(id, {
    title: 'Infrastructure [PAR]: Datacenter gateway — 2 components affected',
    root_component: 'gateway',
    fingerprint: 'gateway',
    components: [
      { id: 'gateway', impact: 'major_outage' },
      { id: 'svc1', impact: 'major_outage' },
      { id: 'svc2', impact: 'major_outage' },
    ],
    timeline: [...opened.timeline, ...joined],
  });
  return { opened: [opened, opened.timeline], rerooted: [rerooted, joined] };
}

/**
 * One notifier's group_wait on a fake clock, and what it was handed to send. `take` is a stored
 * change; `open` and `reroot` are the cascade's two changes.
 */
function notifier(waitMs: number, filter?: NotifyEvent[], limit = 1000) {
  const clock = new FakeClock();
  const sent: Outgoing[] = [];
  const group = new GroupWait({ waitMs, filter, clock, limit, emit: (o) => sent.push(o) });
  const roots = new RootMemory();
  const { opened, rerooted } = cascade();
  const take = (stored: Incident, appended: readonly TimelineEntry[], isNew = false): void =>
    group.take(news(roots, stored, appended, isNew));
  return {
    clock,
    sent,
    group,
    take,
    opened: opened[0],
    rerooted: rerooted[0],
    open: () => take(...opened, true),
    reroot: () => take(...rerooted),
  };
}

/** The document after more entries: a copy with them appended (and `over` applied). */
const after = (d: Incident, appended: TimelineEntry[], over: Partial<Incident> = {}): Incident => ({
  ...d,
  ...over,
  timeline: [...d.timeline, ...appended],
});

describe('group_wait', () => {
  it('holds a new draft for group_wait and sends it once, naming the root correlation settled on', () => {
    const { clock, sent, group, open, reroot } = notifier(15_000);
    open();
    clock.advance(3000);
    reroot();
    expect(sent).toEqual([]);
    expect(group.holding).toBe(1);
    clock.advance(11_999);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(sent).toHaveLength(1);
    const [n] = sent;
    expect(n?.event).toBe('incident.opened');
    expect(n?.stored.root_component).toBe('gateway');
    expect(n?.stored.components.map((c) => c.id)).toEqual(['gateway', 'svc1', 'svc2']);
    // Every entry since the draft, in order; no incident.rerooted or incident.updated of its own.
    expect(n?.entries.map((e) => e.kind)).toEqual(['opened', 'component_added', 'rerooted']);
    expect(n?.reroot).toBeUndefined();
    expect(group.holding).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('with group_wait 0 sends the draft at once, then the re-root as its own event', () => {
    const { sent, group, open, reroot } = notifier(0);
    open();
    expect(sent.map((n) => [n.event, n.stored.root_component])).toEqual([['incident.opened', 'svc1']]);
    reroot();
    expect(sent.map((n) => [n.event, n.stored.root_component])).toEqual([
      ['incident.opened', 'svc1'],
      ['incident.rerooted', 'gateway'],
    ]);
    expect(sent[1]?.reroot).toEqual({ from: 'svc1', to: 'gateway' });
    expect(group.holding).toBe(0);
  });

  it('sends changes after the wait as they come: a later re-root is incident.rerooted', () => {
    const { clock, sent, open, reroot } = notifier(15_000);
    open();
    clock.advance(15_000);
    reroot();
    expect(sent.map((n) => n.event)).toEqual(['incident.opened', 'incident.rerooted']);
    expect(sent[0]?.stored.root_component).toBe('svc1');
    expect(sent[1]?.reroot).toEqual({ from: 'svc1', to: 'gateway' });
  });

  it('a resolution during the wait sends the opening as it was just before, then the resolution', () => {
    const { clock, sent, take, open, reroot, rerooted } = notifier(15_000, ['incident.opened', 'incident.resolved']);
    open();
    reroot();
    clock.advance(5000);
    const closing = [entry('recovered'), entry('resolved')];
    take(after(rerooted, closing, { status: 'resolved', resolved_at: T }), closing);
    expect(sent.map((n) => [n.event, n.stored.status, n.stored.root_component])).toEqual([
      ['incident.opened', 'open', 'gateway'],
      ['incident.resolved', 'resolved', 'gateway'],
    ]);
    expect(sent[0]?.entries.map((e) => e.kind)).toEqual(['opened', 'component_added', 'rerooted']);
    expect(sent[1]?.entries).toEqual(closing);
    // Nothing left to fire later.
    expect(clock.pendingTimers).toBe(0);
    clock.advance(60_000);
    expect(sent).toHaveLength(2);
  });

  it('an operator confirmation during the wait sends the opening first, then the confirmation', () => {
    const { sent, take, open, opened } = notifier(15_000);
    open();
    const verb: TimelineEntry = { at: T, kind: 'confirmed', text: 'on it', author: 'ops' };
    take(after(opened, [verb], { review: 'confirmed' }), [verb]);
    expect(sent.map((n) => [n.event, n.stored.review])).toEqual([
      ['incident.opened', 'pending'],
      ['incident.confirmed', 'confirmed'],
    ]);
  });

  it('a reopening waits again', () => {
    const { clock, sent, group, take, open, opened } = notifier(10_000);
    open();
    clock.advance(10_000);
    const closing = [entry('resolved')];
    take(after(opened, closing, { status: 'resolved' }), closing);
    const again = [entry('reopened')];
    take(after(opened, [...closing, ...again]), again);
    expect(sent.map((n) => n.event)).toEqual(['incident.opened', 'incident.resolved']);
    expect(group.holding).toBe(1);
    clock.advance(10_000);
    expect(sent.map((n) => n.event)).toEqual(['incident.opened', 'incident.resolved', 'incident.opened']);
    expect(sent[2]?.entries.map((e) => e.kind)).toEqual(['reopened']);
  });

  it('a notifier that does not take openings holds nothing: its updates go at once', () => {
    const { sent, group, open, reroot } = notifier(10_000, ['incident.updated', 'incident.resolved']);
    open();
    expect(group.holding).toBe(0);
    reroot();
    // Taking incident.updated but not incident.rerooted: a re-root is heard as before, at once.
    expect(sent.map((n) => n.event)).toEqual(['incident.updated']);
  });

  it('holds one opening per incident, and at most `limit`: past it the oldest goes at once', () => {
    const { clock, sent, group, take } = notifier(15_000, undefined, 3);
    for (let i = 1; i <= 5; i++) {
      const d = doc(`inc_${i}`);
      take(d, d.timeline, true);
      // Many changes of one incident are still one held opening.
      for (let k = 0; k < 50; k++) take(d, [entry('signal_added', `s${k}`)]);
      expect(group.holding).toBe(Math.min(i, 3));
    }
    expect(sent.map((n) => n.stored.id)).toEqual(['inc_1', 'inc_2']);
    expect(sent[0]?.entries).toHaveLength(51);
    expect(clock.pendingTimers).toBe(3);
    group.releaseAll();
    expect(sent.map((n) => n.stored.id)).toEqual(['inc_1', 'inc_2', 'inc_3', 'inc_4', 'inc_5']);
    expect(group.holding).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('incident.rerooted', () => {
  it('is delivered to a subscriber with the old and the new root; others hear what they asked for', () => {
    const filters: (NotifyEvent[] | undefined)[] = [
      ['incident.rerooted'],
      undefined,
      ['incident.updated'],
      ['incident.opened', 'incident.resolved'],
    ];
    const heard = filters.map((filter) => {
      const { sent, open, reroot } = notifier(0, filter);
      open();
      reroot();
      return sent.map((n) => `${n.event}${n.reroot ? ` ${n.reroot.from}→${n.reroot.to}` : ''}`);
    });
    expect(heard).toEqual([
      ['incident.rerooted svc1→gateway'],
      ['incident.opened', 'incident.rerooted svc1→gateway'],
      ['incident.updated'],
      ['incident.opened'],
    ]);
  });

  it('needs a root that changed: a rerooted entry alone, or a root moved and back, is an update', () => {
    expect(rerootOf({ appended: [entry('rerooted')] }, 'svc1', 'gateway')).toEqual({ from: 'svc1', to: 'gateway' });
    expect(rerootOf({ appended: [entry('rerooted'), entry('rerooted')] }, 'svc1', 'svc1')).toBeUndefined();
    expect(rerootOf({ appended: [entry('component_added')] }, 'svc1', 'gateway')).toBeUndefined();
    // Opened before this process knew it, and not seeded: the root before is unknown, not made up.
    expect(rerootOf({ appended: [entry('rerooted')] }, undefined, 'gateway')).toEqual({ from: null, to: 'gateway' });
    const reroot = { from: 'svc1', to: 'gateway' };
    expect(eventFor(undefined, 'incident.updated', reroot)).toBe('incident.rerooted');
    expect(eventFor(['incident.updated'], 'incident.updated', reroot)).toBe('incident.updated');
    expect(eventFor(['incident.rerooted'], 'incident.updated', undefined)).toBeUndefined();
    // A re-root within an opening or a resolution is that event (its document names the new root).
    expect(eventFor(['incident.rerooted'], 'incident.resolved', reroot)).toBeUndefined();
    expect(eventFor(undefined, 'incident.opened', reroot)).toBe('incident.opened');
  });

  it('knows the roots of open incidents from the store, and forgets resolved ones', () => {
    const roots = new RootMemory([doc('inc_a'), doc('inc_b', { status: 'resolved', root_component: 'db' })]);
    expect(roots.size).toBe(1);
    expect(roots.swap(doc('inc_a', { root_component: 'gateway' }))).toBe('svc1');
    expect(roots.swap(doc('inc_a', { status: 'resolved', root_component: 'gateway' }))).toBe('gateway');
    expect(roots.size).toBe(0);
    expect(roots.swap(doc('inc_b'))).toBeUndefined();
  });

  it('the webhook body carries `reroot`; the Slack text says where the root moved', () => {
    const { rerooted } = cascade();
    const n = { event: 'incident.rerooted' as const, incident: summariseDocument(rerooted[0]), entries: rerooted[1], id: 'd-1', reroot: { from: 'svc1', to: 'gateway' } };
    const body = JSON.parse(webhookRequest(n, Date.parse(T), undefined).body) as Record<string, unknown>;
    expect(body.event).toBe('incident.rerooted');
    expect(body.reroot).toEqual({ from: 'svc1', to: 'gateway' });
    expect((body.incident as Incident).root_component).toBe('gateway');
    // Other events' bodies are unchanged: no `reroot` key at all.
    const opened = JSON.parse(webhookRequest({ ...n, event: 'incident.opened', reroot: undefined }, Date.parse(T), undefined).body) as Record<string, unknown>;
    expect(Object.keys(opened)).toEqual(['event', 'sent_at', 'incident', 'entries']);
    const slack = JSON.parse(slackRequest(n).body) as { text: string; blocks: unknown[] };
    expect(slack.text).toContain('— rerooted from svc1 to gateway (open, draft, pending review)');
    expect(JSON.stringify(slack.blocks)).toContain('gateway (root): major outage');
  });
});

describe('group_wait in the config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-group-wait-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  /** A config whose `notifiers:` are these lines (line 5 is the first). */
  const load = async (...notifiers: string[]) => {
    const file = join(dir, 'tocsin.yml');
    await writeFile(file, ['components:', '  - { id: api, name: API }', 'probes: []', 'notifiers:', ...notifiers, ''].join('\n'));
    return loadConfig(file, { cwd: dir, env: {} });
  };

  it('defaults to 15s; 0s sends at once; takes the duration syntax', async () => {
    const result = await load(
      '  - { kind: webhook, url: "https://hooks.example.test/a" }',
      '  - { kind: webhook, url: "https://hooks.example.test/b", group_wait: 0s }',
      '  - { kind: slack, url: "https://hooks.example.test/c", group_wait: 1m30s, events: [incident.opened, incident.rerooted] }',
    );
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    expect(result.plan.notifiers.map((n) => n.group_wait)).toEqual([15_000, 0, 90_000]);
    expect(result.plan.notifiers[2]?.events).toEqual(['incident.opened', 'incident.rerooted']);
  });

  it('reports a bad value at its file and line', async () => {
    const result = await load(
      '  - { kind: webhook, url: "https://hooks.example.test/a" }',
      '  - kind: webhook',
      '    url: "https://hooks.example.test/b"',
      '    group_wait: soon',
      '  - { kind: webhook, url: "https://hooks.example.test/c", group_wait: 2h }',
      '  - { kind: webhook, url: "https://hooks.example.test/d", events: [incident.re-rooted] }',
    );
    if (result.ok) throw new Error('loaded without problems');
    expect(result.problems.map(formatProblem)).toEqual([
      'tocsin.yml:8: notifiers[1].group_wait: invalid duration "soon" (use e.g. 500ms, 15s, 2m, 1h)',
      'tocsin.yml:9: notifiers[2].group_wait: must be at most 1h',
      expect.stringMatching(/^tocsin\.yml:10: notifiers\[3\]\.events\[0\]: .*incident\.rerooted/) as unknown as string,
    ]);
  });
});
