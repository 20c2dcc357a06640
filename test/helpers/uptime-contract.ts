import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { componentDays, componentSummary, type HistoryPlan, readHistory } from '../../src/status/history.js';
import { UptimeRecorder } from '../../src/status/history-recorder.js';
import type { IncidentStore, UptimeSpan, UptimeStore } from '../../src/store/port.js';
import { FakeClock } from './fake-clock.js';
import { incident } from './store-contract.js';
import { saveDoc } from './store-writes.js';

type Store = IncidentStore & UptimeStore;

const H = 3_600_000;
const DAY = 24 * H;
const T0 = Date.parse('2026-03-10T00:00:00.000Z');
const plan: HistoryPlan = {
  components: [
    { id: 'lb', name: 'Load balancers', group: 'Edge', depends_on: [] },
    { id: 'api', name: 'API', group: 'Edge', depends_on: ['lb'] },
  ],
  maintenance: [],
};
const silent = { warn: () => undefined, info: () => undefined };

function span(incident: string, component: string, start: number, end: number | null, impact: UptimeSpan['impact'] = 'major_outage'): UptimeSpan {
  return { incident, component, impact, start, end, counted: end ?? start };
}

/**
 * Uptime history on an IncidentStore adapter (part of the shared contract, see store-contract.ts):
 * the store's primitives, then the recorder and the read over them, so both adapters give the
 * same bars for the same incidents.
 */
export function uptimeContract(name: string, open: () => Promise<Store>, reopen?: () => Promise<Store>) {
  describe(`uptime history contract: ${name}`, () => {
    let store: Store;
    let clock: FakeClock;
    let recorder: UptimeRecorder;
    beforeEach(async () => {
      store = await open();
      clock = new FakeClock(T0 + 10 * DAY + 12 * H);
      recorder = new UptimeRecorder({ store, clock, logger: silent });
    });
    afterEach(async () => {
      await store.close();
    });

    it('stores spans and day rows, found by incident, component, openness and day', async () => {
      await store.saveUptime({
        put: [span('inc_a', 'lb', T0, T0 + H), span('inc_a', 'api', T0, T0 + 2 * H), span('inc_b', 'lb', T0 + DAY, null, 'partial_outage')],
        remove: [],
        days: [
          { day: '2026-03-10', component: 'lb', major: 3600, partial: 0, degraded: 0 },
          { day: '2026-03-10', component: 'api', major: 7200, partial: 0, degraded: 0 },
          { day: '2026-03-11', component: 'lb', major: 0, partial: 60, degraded: 5 },
        ],
      });
      expect((await store.uptimeFootprint('inc_a')).sort((a, b) => a.component.localeCompare(b.component))).toEqual([
        span('inc_a', 'api', T0, T0 + 2 * H),
        span('inc_a', 'lb', T0, T0 + H),
      ]);
      expect(await store.uptimeFootprint('inc_missing')).toEqual([]);
      // Spans still open or ending at or after `from`.
      expect((await store.uptimeSpans(['lb'], T0 + 2 * H)).map((s) => s.incident)).toEqual(['inc_b']);
      expect((await store.uptimeSpans(['lb', 'api'], T0)).map((s) => `${s.incident}/${s.component}`).sort()).toEqual([
        'inc_a/api',
        'inc_a/lb',
        'inc_b/lb',
      ]);
      expect(await store.openUptimeSpans()).toEqual([span('inc_b', 'lb', T0 + DAY, null, 'partial_outage')]);
      expect(await store.openUptimeSpans('api')).toEqual([]);
      expect(await store.uptimeDays('2026-03-10', '2026-03-11')).toEqual([
        { day: '2026-03-10', component: 'api', major: 7200, partial: 0, degraded: 0 },
        { day: '2026-03-10', component: 'lb', major: 3600, partial: 0, degraded: 0 },
        { day: '2026-03-11', component: 'lb', major: 0, partial: 60, degraded: 5 },
      ]);
      expect(await store.uptimeDays('2026-03-11', '2026-03-12', 'lb')).toEqual([
        { day: '2026-03-11', component: 'lb', major: 0, partial: 60, degraded: 5 },
      ]);
    });

    it('drops a day row written with zero seconds and a span removed; a closed span is no longer open', async () => {
      await store.saveUptime({
        put: [span('inc_a', 'lb', T0, null)],
        remove: [],
        days: [{ day: '2026-03-10', component: 'lb', major: 10, partial: 0, degraded: 0 }],
      });
      await store.saveUptime({
        put: [span('inc_a', 'lb', T0, T0 + H)],
        remove: [],
        days: [{ day: '2026-03-10', component: 'lb', major: 0, partial: 0, degraded: 0 }],
      });
      expect(await store.openUptimeSpans()).toEqual([]);
      expect(await store.uptimeDays('2026-03-01', '2026-03-31')).toEqual([]);
      await store.saveUptime({ put: [], remove: [{ incident: 'inc_a', component: 'lb' }], days: [] });
      expect(await store.uptimeFootprint('inc_a')).toEqual([]);
      expect(await store.uptimeSpans(['lb'], 0)).toEqual([]);
    });

    it('prunes day rows before the first kept day and spans that ended before the kept time', async () => {
      await store.saveUptime({
        put: [span('inc_old', 'lb', T0, T0 + H), span('inc_new', 'lb', T0 + 5 * DAY, T0 + 5 * DAY + H), span('inc_open', 'api', T0, null)],
        remove: [],
        days: [
          { day: '2026-03-10', component: 'lb', major: 3600, partial: 0, degraded: 0 },
          { day: '2026-03-15', component: 'lb', major: 3600, partial: 0, degraded: 0 },
        ],
      });
      await store.pruneUptime('2026-03-12', T0 + 2 * DAY);
      expect((await store.uptimeDays('2026-01-01', '2026-12-31')).map((d) => d.day)).toEqual(['2026-03-15']);
      expect(await store.uptimeFootprint('inc_old')).toEqual([]);
      expect(await store.uptimeFootprint('inc_new')).toHaveLength(1);
      // An open span is kept however old it is.
      expect(await store.uptimeFootprint('inc_open')).toHaveLength(1);
    });

    it('records confirmed incidents only: pending drafts and dismissed incidents colour no bar', async () => {
      await recorder.start();
      const opened = new Date(T0 + 9 * DAY).toISOString();
      const resolved = new Date(T0 + 9 * DAY + 6 * H).toISOString();
      await saveDoc(store, incident('inc_draft', opened, { components: [{ id: 'lb', impact: 'major_outage' }] }), null);
      await saveDoc(store, incident('inc_dismissed', opened, { review: 'dismissed', status: 'resolved', resolved_at: resolved }), null);
      await recorder.idle();
      expect(await store.uptimeDays('2026-01-01', '2026-12-31')).toEqual([]);
      let history = await readHistory(store, plan, clock.now());
      expect(componentSummary(history, 'lb')).toEqual({ uptime: 100, days_with_incidents: 0 });

      // Confirming the draft publishes it: now, and only now, it colours its days.
      const draft = await store.getIncident('inc_draft');
      if (!draft) throw new Error('draft not stored');
      await saveDoc(store, { ...draft.incident, review: 'confirmed', status: 'resolved', resolved_at: resolved }, draft.revision);
      await recorder.idle();
      expect(await store.uptimeDays('2026-01-01', '2026-12-31')).toEqual([
        { day: '2026-03-19', component: 'lb', major: 6 * 3600, partial: 0, degraded: 0 },
      ]);
      history = await readHistory(store, plan, clock.now());
      const day = componentDays(history, 'lb').find((d) => d.day === '2026-03-19');
      expect(day).toMatchObject({ uptime: 75, worst: 'major_outage' });
    });

    it('colours past days for a retroactive post, and recomputes them when it is edited', async () => {
      await recorder.start();
      // Posted now about two days ago, 20:00 to 04:00 the next day: two days coloured.
      const post = incident('inc_retro', new Date(T0 + 8 * DAY + 20 * H).toISOString(), {
        review: 'confirmed',
        status: 'resolved',
        resolved_at: new Date(T0 + 9 * DAY + 4 * H).toISOString(),
        components: [
          { id: 'lb', impact: 'partial_outage' },
          { id: 'api', impact: 'major_outage' },
        ],
      });
      await saveDoc(store, post, null);
      await recorder.idle();
      expect(await store.uptimeDays('2026-03-18', '2026-03-19')).toEqual([
        { day: '2026-03-18', component: 'api', major: 4 * 3600, partial: 0, degraded: 0 },
        { day: '2026-03-18', component: 'lb', major: 0, partial: 4 * 3600, degraded: 0 },
        { day: '2026-03-19', component: 'api', major: 4 * 3600, partial: 0, degraded: 0 },
        { day: '2026-03-19', component: 'lb', major: 0, partial: 4 * 3600, degraded: 0 },
      ]);
      // An edit: api no longer affected, the end moved to 02:00.
      await saveDoc(
        store,
        { ...post, components: [{ id: 'lb', impact: 'partial_outage' }], resolved_at: new Date(T0 + 9 * DAY + 2 * H).toISOString() },
        1,
      );
      await recorder.idle();
      expect(await store.uptimeDays('2026-03-18', '2026-03-19')).toEqual([
        { day: '2026-03-18', component: 'lb', major: 0, partial: 4 * 3600, degraded: 0 },
        { day: '2026-03-19', component: 'lb', major: 0, partial: 2 * 3600, degraded: 0 },
      ]);
      const history = await readHistory(store, plan, clock.now());
      expect(componentDays(history, 'api').every((d) => d.worst !== 'major_outage')).toBe(true);
      // History starts with the post's first day now: 60 h so far, 6 h of partial outage at 0.3.
      const lb = componentSummary(history, 'lb');
      expect(lb.days_with_incidents).toBe(2);
      expect(lb.uptime).toBe(97);
    });

    it('counts overlapping incidents on a component once, at the worse impact', async () => {
      await recorder.start();
      const at = (h: number) => new Date(T0 + 9 * DAY + h * H).toISOString();
      const confirmed = (id: string, from: number, to: number, impact: Incident['components'][number]['impact']) =>
        incident(id, at(from), { review: 'confirmed', status: 'resolved', resolved_at: at(to), components: [{ id: 'lb', impact }] });
      await saveDoc(store, confirmed('inc_1', 1, 5, 'degraded_performance'), null);
      await saveDoc(store, confirmed('inc_2', 3, 4, 'major_outage'), null);
      await recorder.idle();
      expect(await store.uptimeDays('2026-03-19', '2026-03-19')).toEqual([
        { day: '2026-03-19', component: 'lb', major: 3600, partial: 0, degraded: 3 * 3600 },
      ]);
    });

    it('adds what an open incident accrued since it was last counted, without a write', async () => {
      await recorder.start();
      const open = incident('inc_open', new Date(clock.now() - 2 * H).toISOString(), {
        review: 'confirmed',
        components: [{ id: 'api', impact: 'major_outage' }],
      });
      await saveDoc(store, open, null);
      await recorder.idle();
      clock.advance(H);
      const history = await readHistory(store, plan, clock.now());
      const today = componentDays(history, 'api').at(-1);
      // Opened 10:00: 10:00 → 12:00 counted at the write, 12:00 → 13:00 added by the read.
      expect(today?.seconds.major_outage).toBe(3 * 3600);
      expect(today?.worst).toBe('major_outage');
      // Crossing midnight: yesterday is whole, today counts from 00:00.
      clock.advance(12 * H);
      const later = await readHistory(store, plan, clock.now());
      const days = componentDays(later, 'api');
      expect(days.at(-2)?.seconds.major_outage).toBe(14 * 3600);
      expect(days.at(-1)?.seconds.major_outage).toBe(3600);
    });

    if (reopen) {
      it('keeps uptime history across a reopen', async () => {
        await recorder.start();
        await saveDoc(
          store,
          incident('inc_a', new Date(T0 + 9 * DAY).toISOString(), {
            review: 'confirmed',
            status: 'resolved',
            resolved_at: new Date(T0 + 9 * DAY + H).toISOString(),
          }),
          null,
        );
        await recorder.idle();
        const before = await readHistory(store, plan, clock.now());
        await store.close();
        store = await reopen();
        const after = await readHistory(store, plan, clock.now());
        expect(after).toEqual(before);
        expect(componentSummary(after, 'lb').days_with_incidents).toBe(1);
      });
    }
  });
}
