import { describe, expect, it } from 'vitest';
import type { ProbePlan } from '../../src/config/plan.js';
import { COALESCE_MS } from '../../src/engine/changes.js';
import { Replay } from '../../src/engine/replay.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { comp, defaultRules, iso, MIN, planOf, SEC, T0 } from '../helpers/engine-events.js';

// A zone failing under thousands of apps (CONTRACT §5.11, SCENARIOS S14): one incident rooted at
// the zone (which has no probe of its own) listing every app, and a timeline a reader can still
// read: entries about single components written within one coalescing window are one entry.

const APPS = 2000;
const VANTAGES = ['par-a', 'par-b', 'ams-a'];
const INTERVAL = 30 * SEC;
const appId = (i: number): string => `app-${String(i).padStart(4, '0')}`;

const plan = planOf(
  [comp('zone'), ...Array.from({ length: APPS }, (_, i) => comp(appId(i), ['zone']))],
  Array.from({ length: APPS }, (_, i): Partial<ProbePlan> => ({
    id: `${appId(i)}-http`,
    kind: 'http',
    component: appId(i),
    vantages: VANTAGES,
    targets: [`https://${appId(i)}.example/`],
    intervalMs: INTERVAL,
  })),
);

const FAIL_FROM = T0 + 2 * INTERVAL;
const FAIL_TO = FAIL_FROM + 10 * MIN;
const END = FAIL_TO + 4 * INTERVAL;

/**
 * Every app checked once per 30 s from every vantage, spread over the interval as the scheduler
 * phases them (app i at i x 15 ms, vantages a few ms apart); all failing from FAIL_FROM to FAIL_TO.
 */
function* events(): Generator<ProbeResult> {
  const spread = INTERVAL / APPS;
  for (let round = T0; round < END; round += INTERVAL) {
    for (let i = 0; i < APPS; i++) {
      for (let v = 0; v < VANTAGES.length; v++) {
        const at = round + Math.floor(i * spread) + v * 4;
        const down = at >= FAIL_FROM && at < FAIL_TO;
        const e: ProbeResult = { at: iso(at), probe: `${appId(i)}-http`, target: `https://${appId(i)}.example/`, vantage: VANTAGES[v] ?? '', ok: !down };
        if (down) Object.assign(e, { error: 'timeout', detail: 'connect: no answer within 5s', duration_ms: 5000 });
        yield e;
      }
    }
  }
}

describe('a zone failing under 2,000 apps', () => {
  it('is one incident rooted at the zone, listing every app, with a short coalesced timeline', () => {
    const replay = new Replay({ plan, rules: defaultRules() });
    let fed = 0;
    for (const e of events()) {
      replay.feed(e);
      fed++;
    }
    expect(fed).toBe(APPS * VANTAGES.length * ((END - T0) / INTERVAL));
    const all = replay.finish();
    expect(all).toHaveLength(1);
    const [inc] = all;
    if (!inc) throw new Error('no incident');

    expect(inc.root_component).toBe('zone');
    expect(inc.status).toBe('resolved');
    const ids = inc.components.map((c) => c.id);
    expect(ids[0]).toBe('zone');
    expect(new Set(ids)).toEqual(new Set(['zone', ...Array.from({ length: APPS }, (_, i) => appId(i))]));
    expect(ids).toHaveLength(APPS + 1);
    expect(inc.signals.length).toBeGreaterThanOrEqual(APPS);
    expect(new Set(inc.signals.map((s) => s.probe)).size).toBe(APPS);
    expect(inc.severity).toBe('critical');
    // Drafted at the third failed check of the first app, each signal since its first failed check.
    expect(Date.parse(inc.opened_at)).toBeLessThan(FAIL_FROM + 3 * INTERVAL);
    for (const s of inc.signals) {
      expect(Date.parse(s.since)).toBeGreaterThanOrEqual(FAIL_FROM);
      expect(Date.parse(s.since)).toBeLessThan(FAIL_FROM + INTERVAL);
    }

    // Short: a few entries, not one per app.
    const kinds = inc.timeline.map((e) => e.kind);
    expect(inc.timeline.length).toBeLessThan(30);
    expect(kinds[0]).toBe('opened');
    expect(kinds.at(-1)).toBe('resolved');

    // Every app but the first (named in `opened`) is in a component_added entry: coalesced
    // ("N more components affected: ...") when more than 3 fell in one window, else one each.
    const opener = inc.timeline[0]?.text ?? '';
    const added = inc.timeline.filter((e) => e.kind === 'component_added');
    let coalesced = 0;
    const singles: number[] = [];
    for (const e of added) {
      const m = /^(\d+) more components? affected: /.exec(e.text);
      if (m) {
        expect(Number(m[1])).toBeGreaterThan(3);
        coalesced += Number(m[1]);
      } else {
        expect(e.text).toMatch(/^Also affected: /);
        singles.push(Date.parse(e.at));
      }
    }
    expect(coalesced).toBeGreaterThan(0);
    expect(coalesced + singles.length).toBe(APPS - 1);
    expect(opener).toMatch(/APP-\d{4}/);
    // More than 3 single entries within one window would have been coalesced.
    singles.sort((a, b) => a - b);
    for (let k = 0; k + 3 < singles.length; k++) {
      expect((singles[k + 3] ?? 0) - (singles[k] ?? 0)).toBeGreaterThanOrEqual(COALESCE_MS);
    }

    // Recoveries read the same way.
    let back = 0;
    for (const e of inc.timeline.filter((x) => x.kind === 'recovered')) {
      const m = /^(\d+) components? available again: /.exec(e.text);
      back += m ? Number(m[1]) : 1;
    }
    expect(back).toBe(APPS);
  }, 120_000);
});
