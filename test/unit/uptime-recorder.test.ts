import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { UptimeRecorder } from '../../src/status/history-recorder.js';
import type { UptimeWrite } from '../../src/store/port.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { incident } from '../helpers/store-contract.js';

// What an incident write costs uptime history (docs/status-page.md, "How it is kept"): nothing
// in the store when nothing public changed, and only the changed components when one did,
// however many components the incident holds.

const N = 2000;
const silent = { warn: () => undefined, info: () => undefined };

describe('uptime recorder: cost follows the change', () => {
  let store: SqliteStore;
  let clock: FakeClock;
  let recorder: UptimeRecorder;
  const calls = { footprint: 0, spans: [] as string[][], writes: [] as UptimeWrite[] };

  beforeEach(async () => {
    store = SqliteStore.open(':memory:');
    clock = new FakeClock(Date.parse('2026-04-02T12:00:00.000Z'));
    // The recorder's view of the store, counting what it asks.
    const counted = Object.create(store) as SqliteStore;
    Object.assign(counted, {
      uptimeFootprint: (id: string) => {
        calls.footprint++;
        return store.uptimeFootprint(id);
      },
      uptimeSpans: (components: readonly string[], from: number) => {
        calls.spans.push([...components]);
        return store.uptimeSpans(components, from);
      },
      saveUptime: (write: UptimeWrite) => {
        calls.writes.push(write);
        return store.saveUptime(write);
      },
      onIncidentSaved: store.onIncidentSaved.bind(store),
      getState: store.getState.bind(store),
      putState: store.putState.bind(store),
      pruneUptime: store.pruneUptime.bind(store),
      listIncidents: store.listIncidents.bind(store),
    });
    recorder = new UptimeRecorder({ store: counted, clock, logger: silent });
    await recorder.start();
    calls.footprint = 0;
    calls.spans = [];
    calls.writes = [];
  });
  afterEach(async () => {
    await store.close();
  });

  const zone = (over: Partial<Incident> = {}): Incident =>
    incident('inc_zone', new Date(clock.now() - 3_600_000).toISOString(), {
      review: 'confirmed',
      components: Array.from({ length: N }, (_, i) => ({ id: `app-${i}`, impact: 'major_outage' as const })),
      ...over,
    });

  it('reads nothing for writes that change nothing public, and only the changed component for an edit', async () => {
    const doc = zone();
    recorder.record(doc);
    await recorder.idle();
    expect(calls.writes).toHaveLength(1);
    expect(calls.writes[0]?.put).toHaveLength(N);

    // Notes, new signals: the same footprint, compared in memory.
    for (let i = 0; i < 50; i++) recorder.record({ ...doc, title: `note ${i}` });
    await recorder.idle();
    expect(calls.footprint).toBe(1);
    expect(calls.writes).toHaveLength(1);

    // One component's impact changes: that component alone is recomputed.
    const components = doc.components.map((c) => (c.id === 'app-7' ? { id: c.id, impact: 'partial_outage' as const } : c));
    recorder.record({ ...doc, components });
    await recorder.idle();
    expect(calls.spans.at(-1)).toEqual(['app-7']);
    expect(calls.writes.at(-1)?.put.map((s) => s.component)).toEqual(['app-7']);
    expect(new Set(calls.writes.at(-1)?.days.map((d) => d.component))).toEqual(new Set(['app-7']));
  });

  it('never records a draft, however often it is written', async () => {
    const draft = zone({ review: 'pending' });
    for (let i = 0; i < 20; i++) recorder.record({ ...draft, title: `tick ${i}` });
    await recorder.idle();
    expect(calls.writes).toEqual([]);
    expect(calls.footprint).toBe(1);
    expect(await store.openUptimeSpans()).toEqual([]);
  });
});
