import { describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { comp, EngineDriver, HOUR, iso, MIN, planOf, probe, rounds, SEC, T0 } from '../helpers/engine-events.js';

// Dismissed drafts (CONTRACT §5.9, SCENARIOS S13 and S16): the same failure going on never comes
// back as a new draft; a failure of another rule on the component during the dismissal, and any
// failure after the dismissed one recovered, is a new pending draft naming the dismissed one.
// A dismissal never hides a later outage.

const INTERVAL = 10 * SEC;
const plan = planOf(
  [comp('api'), comp('web')],
  [
    probe('api-http', 'api', ['v1', 'v2', 'v3'], { targets: ['https://api.example/health'] }),
    probe('api-tls', 'api', ['v1', 'v2', 'v3'], { targets: ['api.example:443'], kind: 'tls' }),
    probe('api-slow', 'api', ['v1', 'v2', 'v3'], { targets: ['https://api.example/search'] }),
    probe('api-lb', 'api', ['v1', 'v2', 'v3'], { targets: ['10.0.0.1:443', '10.0.0.2:443', '10.0.0.3:443'], kind: 'lb_sync' }),
    probe('web-http', 'web', ['v1', 'v2', 'v3'], { targets: ['https://web.example/'] }),
  ],
);
const p = Object.fromEntries(plan.probes.map((x) => [x.id, { id: x.id, vantages: x.vantages, targets: x.targets }]));
const api = p['api-http'] as { id: string; vantages: string[]; targets: string[] };
const tls = p['api-tls'] as typeof api;
const slow = p['api-slow'] as typeof api;
const lb = p['api-lb'] as typeof api;

/** `probe` checks from `from` to `to` (every 10 s), each failing with `error` (undefined: healthy). */
const checks = (x: typeof api, from: number, to: number, error?: string) => rounds(x, from, to, () => error, INTERVAL);

/** A draft for api-http timing out from T0, dismissed at T0 + 1 min; the driver and the draft. */
function dismissedDraft(): { d: EngineDriver; draft: Incident } {
  const d = new EngineDriver(plan);
  d.feedAll(checks(api, T0, T0 + MIN, 'timeout'));
  const [draft] = d.incidents();
  if (!draft) throw new Error('no draft opened');
  expect(draft.review).toBe('pending');
  d.keep(d.engine.operatorAction({ incidentId: draft.id, action: 'dismiss', by: 'ops', at: T0 + MIN, reason: 'synthetic endpoint' }));
  return { d, draft };
}

const byId = (d: EngineDriver, id: string): Incident | undefined => d.incidents().find((i) => i.id === id);

describe('while the dismissed failure goes on', () => {
  it('no new draft for an hour of the same failure; the dismissal and its reason are in the timeline', () => {
    const { d, draft } = dismissedDraft();
    d.feedAll(checks(api, T0 + MIN, T0 + HOUR + MIN, 'timeout'));
    expect(d.openedIds()).toEqual([draft.id]);
    const inc = byId(d, draft.id);
    expect(inc).toMatchObject({ status: 'open', review: 'dismissed' });
    expect(inc?.timeline.find((e) => e.kind === 'dismissed')).toMatchObject({ author: 'ops', text: 'Dismissed by ops: synthetic endpoint' });
    expect(d.engine.incidents().map((i) => [i.id, i.review])).toEqual([[draft.id, 'dismissed']]);
  });

  it('a single healthy check in the middle does not end it: still no new draft', () => {
    const { d, draft } = dismissedDraft();
    d.feedAll(checks(api, T0 + MIN, T0 + 5 * MIN, 'timeout'));
    d.feedAll(checks(api, T0 + 5 * MIN, T0 + 5 * MIN + INTERVAL));
    d.feedAll(checks(api, T0 + 5 * MIN + INTERVAL, T0 + 10 * MIN, 'timeout'));
    expect(d.openedIds()).toEqual([draft.id]);
    expect(byId(d, draft.id)).toMatchObject({ status: 'open', review: 'dismissed' });
  });

  it('another probe failing under the same rule on the component joins the dismissed incident quietly', () => {
    const { d, draft } = dismissedDraft();
    // The TLS probe of the same API starts failing (rule outage too) ten minutes later.
    d.feedAll([
      ...checks(api, T0 + MIN, T0 + 20 * MIN, 'timeout'),
      ...checks(tls, T0 + 10 * MIN, T0 + 20 * MIN, 'tls_handshake'),
    ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)));
    expect(d.openedIds()).toEqual([draft.id]);
    const inc = byId(d, draft.id);
    expect(inc?.review).toBe('dismissed');
    expect(inc?.signals.map((s) => [s.rule, s.probe])).toEqual([
      ['outage', 'api-http'],
      ['outage', 'api-tls'],
    ]);
  });

  it.each([
    ['degraded', slow, 'latency'],
    ['lb-sync', lb, 'config_out_of_sync'],
  ])('a failure of another rule (%s) on the component is a new pending draft', (rule, other, error) => {
    const { d, draft } = dismissedDraft();
    d.feedAll([
      ...checks(api, T0 + MIN, T0 + 10 * MIN, 'timeout'),
      ...checks(other, T0 + 3 * MIN, T0 + 10 * MIN, error),
    ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)));
    const opened = d.openedIds();
    expect(opened).toHaveLength(2);
    const fresh = byId(d, opened[1] ?? '');
    expect(fresh?.id).not.toBe(draft.id);
    expect(fresh).toMatchObject({ status: 'open', review: 'pending', root_component: 'api' });
    expect(fresh?.signals.map((s) => [s.rule, s.probe])).toEqual([[rule, other.id]]);
    // The dismissed one keeps only the failure it was dismissed for.
    const dismissed = byId(d, draft.id);
    expect(dismissed).toMatchObject({ status: 'open', review: 'dismissed' });
    expect(dismissed?.signals.map((s) => s.probe)).toEqual(['api-http']);
  });
});

describe('after the dismissed failure recovered', () => {
  /** The dismissed draft's failure ends at T0 + 10 min: two healthy checks resolve it. */
  function recovered(): { d: EngineDriver; draft: Incident; recoveredAt: number } {
    const { d, draft } = dismissedDraft();
    d.feedAll(checks(api, T0 + MIN, T0 + 10 * MIN, 'timeout'));
    d.feedAll(checks(api, T0 + 10 * MIN, T0 + 12 * MIN));
    const inc = byId(d, draft.id);
    expect(inc).toMatchObject({ status: 'resolved', review: 'dismissed' });
    return { d, draft, recoveredAt: T0 + 12 * MIN };
  }

  /** The component fails again from `from` (probe `x`), healthy before. */
  function failsAgain(d: EngineDriver, x: typeof api, from: number, error: string): void {
    d.feedAll(checks(api, T0 + 12 * MIN, from));
    d.feedAll(checks(x, from, from + 2 * MIN, error));
  }

  function expectNewDraftNaming(d: EngineDriver, draft: Incident, from: number): Incident {
    const opened = d.openedIds();
    expect(opened).toHaveLength(2);
    const fresh = byId(d, opened[1] ?? '');
    expect(fresh?.id).not.toBe(draft.id);
    expect(fresh).toMatchObject({ status: 'open', review: 'pending', root_component: 'api' });
    expect(Date.parse(fresh?.opened_at ?? '')).toBeGreaterThanOrEqual(from);
    expect(fresh?.timeline[0]?.kind).toBe('opened');
    expect(fresh?.timeline[0]?.text).toContain(draft.id);
    // The dismissed one stays as operators left it: dismissed, resolved, not reopened.
    const old = byId(d, draft.id);
    expect(old).toMatchObject({ status: 'resolved', review: 'dismissed' });
    expect(old?.timeline.map((e) => e.kind)).not.toContain('reopened');
    return fresh as Incident;
  }

  it('the same failure within the reopen cool-down is a new pending draft naming the dismissed one', () => {
    const { d, draft } = recovered();
    const from = T0 + 20 * MIN;
    failsAgain(d, api, from, 'timeout');
    const fresh = expectNewDraftNaming(d, draft, from);
    expect(fresh.signals[0]?.since).toBe(iso(from));
  });

  it('another probe of the component failing within the cool-down is a new pending draft too', () => {
    const { d, draft } = recovered();
    failsAgain(d, tls, T0 + 15 * MIN, 'tls_handshake');
    expectNewDraftNaming(d, draft, T0 + 15 * MIN);
  });

  it('an hour later, past the cool-down, the real outage is a pending draft naming the dismissed one (S16)', () => {
    const { d, draft } = recovered();
    const from = T0 + 12 * MIN + HOUR;
    failsAgain(d, api, from, 'connect_refused');
    expectNewDraftNaming(d, draft, from);
  });

  it('a dismissal does not affect other components', () => {
    const { d, draft } = recovered();
    const web = p['web-http'] as typeof api;
    d.feedAll(checks(web, T0 + 13 * MIN, T0 + 15 * MIN, 'timeout'));
    const opened = d.openedIds();
    expect(opened).toHaveLength(2);
    const fresh = byId(d, opened[1] ?? '');
    expect(fresh).toMatchObject({ review: 'pending', root_component: 'web' });
    expect(fresh?.timeline[0]?.text).not.toContain(draft.id);
  });
});
