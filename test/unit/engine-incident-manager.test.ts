import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { TocsinError } from '../../src/errors.js';
import type { IncidentChange } from '../../src/engine/types.js';
import {
  addNote,
  confirmIncident,
  dismissIncident,
  IncidentWriter,
  type IncidentsContext,
  resolveIncident,
} from '../../src/incidents/manager.js';
import { incidentMetricsRecorder } from '../../src/incidents/metrics.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { makePlan } from '../helpers/plan.js';
import { saveDoc } from '../helpers/store-writes.js';
import { defaultRules } from '../helpers/engine-events.js';

// The incident manager against the real embedded store (SQLite in memory): engine changes stored
// atomically with optimistic revisions, operator verbs with their conflicts, and merges.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const plan = makePlan([{ id: 'p', kind: 'http', component: 'app', intervalMs: 10_000, targets: ['t'] }]);
const stores: SqliteStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

function setup(withEngine = true) {
  const store = SqliteStore.open(':memory:');
  stores.push(store);
  const engine = createEngine({ plan, rules: defaultRules() });
  let now = T0;
  const writer = new IncidentWriter(store);
  const ctx: IncidentsContext = { store, writer, clock: { now: () => now }, ...(withEngine ? { engine } : {}) };
  const fail = async (from: number, to: number, ok = false) => {
    const changes: IncidentChange[] = [];
    for (let i = from; i < to; i++) {
      now = T0 + i * 10_000;
      const e = { at: new Date(now).toISOString(), probe: 'p', vantage: 'local', ok, ...(ok ? {} : { error: 'timeout' as const }) };
      changes.push(...engine.tick(now), ...engine.ingest(e));
    }
    now += 10_000;
    changes.push(...engine.tick(now));
    await writer.apply(changes);
  };
  return { store, engine, writer, ctx, fail, setNow: (t: number) => (now = t) };
}

describe('IncidentWriter', () => {
  it('stores engine changes with their timeline, revision by revision', async () => {
    const { store, fail } = setup();
    await fail(0, 3);
    const [inc] = await store.listIncidents();
    expect(inc?.timeline.map((t) => t.kind)).toEqual(['opened']);
    await fail(3, 5, true);
    const stored = await store.getIncident(inc?.id ?? '');
    expect(stored?.incident.status).toBe('resolved');
    expect(stored?.incident.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved']);
    expect(stored?.revision).toBeGreaterThanOrEqual(2);
  });

  it('on a conflict re-reads and merges: operator entries and review kept, detector entries appended', async () => {
    const { store, fail } = setup();
    await fail(0, 3);
    const [inc] = await store.listIncidents();
    const id = inc?.id ?? '';
    // Another writer (a second process) confirms behind the writer's back.
    const current = await store.getIncident(id);
    if (!current) throw new Error('not stored');
    const confirmed = {
      ...current.incident,
      review: 'confirmed' as const,
      timeline: [...current.incident.timeline, { at: new Date(T0 + 35_000).toISOString(), kind: 'confirmed' as const, text: 'Confirmed by eve', author: 'eve' }],
    };
    expect((await saveDoc(store, confirmed, current.revision)).ok).toBe(true);
    await fail(3, 5, true);
    const after = (await store.getIncident(id))?.incident;
    expect(after?.review).toBe('confirmed');
    expect(after?.status).toBe('resolved');
    expect(after?.timeline.map((t) => t.kind)).toEqual(['opened', 'confirmed', 'recovered', 'resolved']);
  });
});

describe('IncidentWriter outbox', () => {
  it('keeps a change the store could not take and writes it when the store answers again', async () => {
    const { store, writer, fail } = setup();
    await fail(0, 3);
    const id = (await store.listIncidents())[0]?.id ?? '';
    const save = store.saveIncident.bind(store);
    store.saveIncident = async () => {
      throw new TocsinError('UNAVAILABLE', 'store unavailable: test outage');
    };
    await expect(fail(3, 5, true)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(writer.unsaved).toBe(1);
    store.saveIncident = save;
    await writer.retry();
    expect(writer.unsaved).toBe(0);
    expect((await store.getIncident(id))?.incident.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved']);
  });

  it('drops a change refused for good (a conflict that never settles) so later writes and verbs go on', async () => {
    const { store, ctx, writer, fail } = setup();
    await fail(0, 3);
    const id = (await store.listIncidents())[0]?.id ?? '';
    const save = store.saveIncident.bind(store);
    store.saveIncident = async () => ({ ok: false, conflict: true });
    await expect(fail(3, 5, true)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(writer.unsaved).toBe(0);
    store.saveIncident = save;
    const noted = await addNote(ctx, id, { by: 'ops', text: 'still here' });
    expect(noted.timeline.at(-1)?.text).toBe('still here');
  });
});

describe('operator verbs', () => {
  it('confirm, note and resolve go through the engine and land in the store', async () => {
    const { store, ctx, fail } = setup();
    await fail(0, 3);
    const id = (await store.listIncidents())[0]?.id ?? '';
    expect((await confirmIncident(ctx, id, { by: 'ops', note: 'customers notified' })).review).toBe('confirmed');
    await addNote(ctx, id, { by: 'ops', text: 'root cause: full disk' });
    const resolved = await resolveIncident(ctx, id, { by: 'ops' });
    expect(resolved.status).toBe('resolved');
    const stored = (await store.getIncident(id))?.incident;
    expect(stored?.timeline.map((t) => [t.kind, t.author])).toEqual([
      ['opened', 'tocsin'],
      ['confirmed', 'ops'],
      ['note', 'ops'],
      ['resolved', 'ops'],
    ]);
    expect(stored?.timeline[1]?.text).toBe('Confirmed by ops: customers notified');
  });

  it('maps illegal transitions to CONFLICT, bad input to INVALID, unknown ids to NOT_FOUND', async () => {
    const { store, ctx, fail } = setup();
    await fail(0, 3);
    const id = (await store.listIncidents())[0]?.id ?? '';
    await expect(dismissIncident(ctx, id, { by: 'ops', reason: ' ' })).rejects.toMatchObject({ code: 'INVALID' });
    await dismissIncident(ctx, id, { by: 'ops', reason: 'maintenance we forgot to declare' });
    await expect(confirmIncident(ctx, id, { by: 'ops' })).rejects.toMatchObject({ code: 'CONFLICT', status: 409 });
    await expect(addNote(ctx, 'inc_missing', { by: 'ops', text: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await store.getIncident(id))?.incident.review).toBe('dismissed');
  });

  it('works on stored incidents the engine does not know (no engine, or forgotten)', async () => {
    const first = setup();
    await first.fail(0, 3);
    const id = (await first.store.listIncidents())[0]?.id ?? '';
    const writer = new IncidentWriter(first.store);
    const ctx: IncidentsContext = { store: first.store, writer, clock: { now: () => T0 + 99_000 } };
    const confirmed = await confirmIncident(ctx, id, { by: 'ann' });
    expect(confirmed.review).toBe('confirmed');
    await expect(dismissIncident(ctx, id, { by: 'ann', reason: 'no' })).rejects.toMatchObject({ code: 'CONFLICT' });
    const stored = (await first.store.getIncident(id))?.incident;
    expect(stored?.timeline.map((t) => t.kind)).toEqual(['opened', 'confirmed']);
  });
});

describe('incident metrics', () => {
  it('count drafts and reviews per rule, the detection delay, and incidents by status and review', async () => {
    const { store, ctx, writer, fail } = setup();
    const metrics = createMetrics({ version: 'test', processMetrics: false });
    writer.onApplied(incidentMetricsRecorder(metrics, []));
    await fail(0, 3);
    const id = (await store.listIncidents())[0]?.id ?? '';
    await dismissIncident(ctx, id, { by: 'ops', reason: 'false alarm' });
    const text = await metrics.registry.metrics();
    expect(text).toContain('tocsin_incidents_opened_total{rule="outage"} 1');
    expect(text).toContain('tocsin_incident_reviews_total{rule="outage",review="dismissed"} 1');
    expect(text).toContain('tocsin_incidents{status="open",review="dismissed"} 1');
    expect(text).toContain('tocsin_incidents{status="open",review="pending"} 0');
    // First failed check at 0s, draft at the third check (20s).
    expect(text).toContain('tocsin_detection_delay_seconds_sum 20');
  });
});
