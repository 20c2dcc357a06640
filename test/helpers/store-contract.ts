import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/events/probe-result.js';
import type { Incident } from '../../src/events/incident.js';
import type { IncidentStore, UptimeStore } from '../../src/store/port.js';
import { saveDoc } from './store-writes.js';
import { uptimeContract } from './uptime-contract.js';

/** An incident document for store tests. */
export function incident(id: string, openedAt: string, overrides: Partial<Incident> = {}): Incident {
  return {
    id,
    title: `Incident ${id}`,
    status: 'open',
    review: 'pending',
    severity: 'major',
    opened_at: openedAt,
    resolved_at: null,
    root_component: 'lb',
    components: [{ id: 'lb', impact: 'partial_outage' }],
    regions: ['PAR'],
    signals: [],
    timeline: [{ at: openedAt, kind: 'opened', text: 'opened', author: 'tocsin' }],
    fingerprint: `fp-${id}`,
    ...overrides,
  };
}

function result(probe: string, target: string, vantage: string, at: string, ok = true): ProbeResult {
  return { at, probe, target, vantage, ok };
}

/**
 * The IncidentStore contract: every adapter runs this same suite (ARCHITECTURE: ports with two
 * adapters each, one shared contract test suite).
 */
export function storeContract(
  name: string,
  open: () => Promise<IncidentStore & UptimeStore>,
  reopen?: () => Promise<IncidentStore & UptimeStore>,
) {
  uptimeContract(name, open, reopen);
  describe(`IncidentStore contract: ${name}`, () => {
    let store: IncidentStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('keeps the newest result per probe, target and vantage', async () => {
      await store.saveLatestResults([
        result('p', 'a', 'v1', '2026-01-01T00:00:00.000Z', true),
        result('p', 'a', 'v2', '2026-01-01T00:00:00.000Z', true),
      ]);
      await store.saveLatestResults([result('p', 'a', 'v1', '2026-01-01T00:00:10.000Z', false)]);
      // An older result arriving late (a slow worker) does not overwrite a newer one.
      await store.saveLatestResults([result('p', 'a', 'v1', '2026-01-01T00:00:05.000Z', true)]);
      const latest = await store.latestResults();
      expect(latest).toHaveLength(2);
      expect(latest.find((r) => r.vantage === 'v1')).toMatchObject({
        ok: false,
        at: '2026-01-01T00:00:10.000Z',
      });
    });

    it('creates an incident only when it does not exist yet', async () => {
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      expect(await saveDoc(store, a, null)).toEqual({ ok: true, revision: 1 });
      expect(await saveDoc(store, a, null)).toEqual({ ok: false, conflict: true });
      expect(await store.getIncident('inc_a')).toEqual({ incident: a, revision: 1 });
      expect(await store.getIncident('inc_missing')).toBeUndefined();
    });

    it('updates with optimistic concurrency: of two writers from one revision, exactly one wins', async () => {
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      await saveDoc(store, a, null);
      const confirm = {
        ...a,
        review: 'confirmed' as const,
        timeline: [...a.timeline, { at: 'x', kind: 'confirmed' as const, text: 'c', author: 'ops' }],
      };
      const dismiss = {
        ...a,
        review: 'dismissed' as const,
        timeline: [...a.timeline, { at: 'x', kind: 'dismissed' as const, text: 'd', author: 'ops' }],
      };
      const outcomes = await Promise.all([saveDoc(store, confirm, 1), saveDoc(store, dismiss, 1)]);
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      const stored = await store.getIncident('inc_a');
      expect(stored?.revision).toBe(2);
      expect(stored?.incident.timeline).toHaveLength(2);
      expect(['confirmed', 'dismissed']).toContain(stored?.incident.review);
      expect(stored?.incident.timeline[1]?.kind).toBe(stored?.incident.review);
    });

    it('appends exactly the entries a write names, after those it was computed from', async () => {
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      await store.saveIncident({ incident: a, append: a.timeline, expectedRevision: null, expectedEntries: 0 });
      const note = { at: '2026-01-01T00:01:00.000Z', kind: 'note' as const, text: 'n', author: 'ops' };
      // The document's own timeline is ignored: only `append` is added.
      const emptied = { ...a, timeline: [] };
      const saved = await store.saveIncident({
        incident: emptied,
        append: [note],
        expectedRevision: 1,
        expectedEntries: 1,
      });
      expect(saved).toEqual({ ok: true, revision: 2 });
      expect((await store.getIncident('inc_a'))?.incident.timeline).toEqual([...a.timeline, note]);
    });

    it('keeps an entry\'s update phase and extension fields of the document, and no phase where none was given', async () => {
      const a = { ...incident('inc_a', '2026-01-01T00:00:00.000Z'), origin: 'operator' as const };
      await store.saveIncident({ incident: a, append: a.timeline, expectedRevision: null, expectedEntries: 0 });
      const update = { at: '2026-01-01T00:01:00.000Z', kind: 'note' as const, text: 'fix deployed', author: 'ops', phase: 'monitoring' as const };
      const edited = { ...a, title: 'Edited', overrides: { at: '2026-01-01T00:01:00.000Z', title: true, removed: ['x'] } };
      const write = { incident: edited, append: [update], expectedRevision: 1, expectedEntries: 1 };
      const saved = await store.saveIncident(write);
      expect(saved).toEqual({ ok: true, revision: 2 });
      const got = (await store.getIncident('inc_a'))?.incident;
      expect(got).toEqual({ ...edited, timeline: [...a.timeline, update] });
      expect(got?.timeline.map((e) => 'phase' in e)).toEqual([...a.timeline.map(() => false), true]);
      expect((await store.listIncidents())[0]).toEqual(got);
    });

    it('refuses a write computed from other entries than those stored, changing nothing', async () => {
      const a = incident('inc_a', '2026-01-01T00:00:00.000Z');
      await store.saveIncident({ incident: a, append: a.timeline, expectedRevision: null, expectedEntries: 0 });
      const entry = { at: 'x', kind: 'note' as const, text: 'late', author: 'ops' };
      // Right revision, wrong count (a writer that never saw the stored entries): a conflict.
      expect(await store.saveIncident({ incident: { ...a, review: 'confirmed' }, append: [entry], expectedRevision: 1, expectedEntries: 0 })).toEqual({
        ok: false,
        conflict: true,
      });
      expect(await store.saveIncident({ incident: { ...a, review: 'confirmed' }, append: [entry], expectedRevision: 1, expectedEntries: 2 })).toEqual({
        ok: false,
        conflict: true,
      });
      const stored = await store.getIncident('inc_a');
      expect(stored?.revision).toBe(1);
      expect(stored?.incident).toEqual(a);
    });

    it('lists newest first, filters by status and review, and pages with a cursor', async () => {
      await saveDoc(store, incident('inc_1', '2026-01-01T00:01:00.000Z'), null);
      await saveDoc(store, incident('inc_2', '2026-01-01T00:02:00.000Z', { status: 'resolved' }), null);
      await saveDoc(store, incident('inc_3', '2026-01-01T00:03:00.000Z', { review: 'confirmed' }), null);
      expect((await store.listIncidents()).map((i) => i.id)).toEqual(['inc_3', 'inc_2', 'inc_1']);
      expect((await store.listIncidents({ status: 'open' })).map((i) => i.id)).toEqual(['inc_3', 'inc_1']);
      expect((await store.listIncidents({ review: 'pending' })).map((i) => i.id)).toEqual(['inc_2', 'inc_1']);
      expect((await store.listIncidents({ limit: 2 })).map((i) => i.id)).toEqual(['inc_3', 'inc_2']);
      expect((await store.listIncidents({ before: 'inc_2' })).map((i) => i.id)).toEqual(['inc_1']);
    });

    it('stores opaque engine state', async () => {
      expect(await store.getState('engine')).toBeUndefined();
      await store.putState('engine', { series: { a: [1, 2] } });
      await store.putState('engine', { series: { a: [3] } });
      expect(await store.getState('engine')).toEqual({ series: { a: [3] } });
    });

    if (reopen) {
      it('keeps everything across a reopen', async () => {
        await saveDoc(store, incident('inc_a', '2026-01-01T00:00:00.000Z'), null);
        await store.saveLatestResults([result('p', 'a', 'v', '2026-01-01T00:00:00.000Z')]);
        await store.putState('k', 1);
        await store.close();
        store = await reopen();
        expect((await store.getIncident('inc_a'))?.incident.id).toBe('inc_a');
        expect(await store.latestResults()).toHaveLength(1);
        expect(await store.getState('k')).toBe(1);
      });
    }
  });
}
