import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/engine/engine.js';
import { compileWindow } from '../../src/engine/maintenance.js';
import type { IncidentChange } from '../../src/engine/types.js';
import { makePlan } from '../helpers/plan.js';
import { defaultRules } from '../helpers/engine-events.js';

const at = (iso: string) => Date.parse(iso);

describe('maintenance windows', () => {
  it('one-off windows are [start, end)', () => {
    const w = compileWindow({ id: 'w', components: ['x'], start: '2024-11-18T21:00:00Z', end: '2024-11-18T23:00:00Z' });
    expect(w.activeAt(at('2024-11-18T20:59:59.999Z'))).toBeUndefined();
    expect(w.activeAt(at('2024-11-18T21:00:00Z'))).toEqual({ start: at('2024-11-18T21:00:00Z'), end: at('2024-11-18T23:00:00Z') });
    expect(w.activeAt(at('2024-11-18T23:00:00Z'))).toBeUndefined();
  });

  it('cron windows recur for their duration, in UTC by default', () => {
    // Tuesdays 22:00 UTC for 2h. 2024-11-19 is a Tuesday.
    const w = compileWindow({ id: 'w', components: ['x'], cron: '0 22 * * 2', duration: 7_200_000 });
    expect(w.activeAt(at('2024-11-19T21:59:00Z'))).toBeUndefined();
    expect(w.activeAt(at('2024-11-19T22:00:00Z'))?.start).toBe(at('2024-11-19T22:00:00Z'));
    expect(w.activeAt(at('2024-11-19T23:59:59Z'))?.end).toBe(at('2024-11-20T00:00:00Z'));
    expect(w.activeAt(at('2024-11-20T00:00:00Z'))).toBeUndefined();
    expect(w.activeAt(at('2024-11-20T22:30:00Z'))).toBeUndefined();
    expect(w.activeAt(at('2024-11-26T22:30:00Z'))?.start).toBe(at('2024-11-26T22:00:00Z'));
  });

  it('cron windows follow their timezone (22:00 in Paris is 21:00 UTC in winter)', () => {
    const w = compileWindow({ id: 'w', components: ['x'], cron: '0 22 * * *', duration: 3_600_000, timezone: 'Europe/Paris' });
    expect(w.activeAt(at('2024-11-18T21:30:00Z'))?.start).toBe(at('2024-11-18T21:00:00Z'));
    expect(w.activeAt(at('2024-11-18T22:30:00Z'))).toBeUndefined();
    // Summer time: 22:00 in Paris is 20:00 UTC.
    expect(w.activeAt(at('2024-07-01T20:30:00Z'))?.start).toBe(at('2024-07-01T20:00:00Z'));
  });

  it('with both day fields restricted, either matches (standard cron)', () => {
    const w = compileWindow({ id: 'w', components: ['x'], cron: '0 3 1 * 0', duration: 60_000 });
    expect(w.activeAt(at('2024-12-01T03:00:30Z'))).toBeDefined(); // the 1st (a Sunday too)
    expect(w.activeAt(at('2024-11-01T03:00:30Z'))).toBeDefined(); // the 1st, a Friday
    expect(w.activeAt(at('2024-11-10T03:00:30Z'))).toBeDefined(); // a Sunday
    expect(w.activeAt(at('2024-11-11T03:00:30Z'))).toBeUndefined();
  });

  it('a cron window suppresses a dependent component and writes start/end on open incidents', () => {
    const src = { file: '/dev/null', line: 1 };
    const plan = makePlan(
      [
        { id: 'pdb', kind: 'http', component: 'db', intervalMs: 30_000, targets: ['db'] },
        { id: 'papi', kind: 'http', component: 'api', intervalMs: 30_000, targets: ['api'] },
      ],
      {
        components: [
          { id: 'hv', name: 'HV', group: 'I', depends_on: [], source: src },
          { id: 'db', name: 'DB', group: 'A', depends_on: ['hv'], source: src },
          { id: 'api', name: 'API', group: 'A', depends_on: ['db'], source: src },
        ],
        maintenance: [{ id: 'weekly', title: 'Weekly DB upgrade', components: ['db'], cron: '0 22 * * 2', duration: 600_000 }],
      },
    );
    const engine = createEngine({ plan, rules: defaultRules() });
    const docs = new Map<string, IncidentChange['incident']>();
    const feed = (iso: string, probe: string, ok: boolean) => {
      for (const c of [...engine.tick(at(iso)), ...engine.ingest({ at: iso, probe, vantage: 'local', ok, ...(ok ? {} : { error: 'timeout' }) })]) {
        docs.set(c.incident.id, c.incident);
      }
    };
    // The API fails from 21:58 (before the window): a draft at 21:59.
    for (const t of ['21:58:00', '21:58:30', '21:59:00', '21:59:30', '22:00:00', '22:00:30', '22:01:00']) {
      feed(`2024-11-19T${t}Z`, 'papi', false);
    }
    // The DB fails only inside the window, and recovers before its end: nothing.
    for (const t of ['22:01:00', '22:01:30', '22:02:00', '22:02:30']) feed(`2024-11-19T${t}Z`, 'pdb', false);
    for (const t of ['22:03:00', '22:03:30']) feed(`2024-11-19T${t}Z`, 'pdb', true);
    expect(engine.componentStatuses()).toMatchObject({ db: 'under_maintenance', api: 'under_maintenance', hv: 'operational' });
    for (const c of engine.tick(at('2024-11-19T22:10:00Z'))) docs.set(c.incident.id, c.incident);
    const all = [...docs.values()];
    expect(all).toHaveLength(1);
    expect(all[0]?.root_component).toBe('api');
    expect(all[0]?.timeline.map((t) => [t.kind, t.at])).toEqual([
      ['opened', '2024-11-19T21:59:00.000Z'],
      ['maintenance', '2024-11-19T22:00:00.000Z'],
      ['maintenance', '2024-11-19T22:10:00.000Z'],
    ]);
    expect(all[0]?.timeline[2]?.text).toBe('Scheduled maintenance "Weekly DB upgrade" ended on DB');
  });
});
