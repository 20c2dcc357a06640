import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { compileRules, type Rule } from '../../src/engine/rules.js';
import type { IncidentChange } from '../../src/engine/types.js';
import type { Incident } from '../../src/events/incident.js';
import { makePlan } from '../helpers/plan.js';

// A reload hands the engine a new config: what it detected carries over as across a restart.

const T0 = Date.parse('2026-01-01T00:00:00Z');
const S = 1000;

const probe = (id: string, component: string) => ({ id, kind: 'http', component, intervalMs: 10 * S, vantages: ['v1'], targets: ['t1'] });
const rules = (consecutive: number): Rule[] => compileRules([{ id: 'down', condition: { consecutive } }]).rules;

class Driver {
  readonly docs = new Map<string, Incident>();
  readonly changes: IncidentChange[] = [];
  readonly engine: Engine;
  constructor(plan: Plan, r: Rule[]) {
    this.engine = createEngine({ plan, rules: r });
  }

  check(t: number, probeId: string, ok: boolean): void {
    this.keep(this.engine.tick(T0 + t * S));
    const e = { at: new Date(T0 + t * S).toISOString(), probe: probeId, target: 't1', vantage: 'v1', ok };
    this.keep(this.engine.ingest(ok ? e : { ...e, error: 'timeout' as const, detail: 'timeout!' }));
  }

  keep(changes: IncidentChange[]): void {
    for (const c of changes) {
      this.changes.push(c);
      this.docs.set(c.incident.id, c.incident);
    }
  }

  get opened(): IncidentChange[] {
    this.keep(this.engine.flush());
    return this.changes.filter((c) => c.opened);
  }
}

describe('engine reconfigure (a config reload)', () => {
  it('keeps an open incident open, opens no second one, and watches a probe added by the reload', () => {
    const before = makePlan([probe('web', 'app')]);
    const d = new Driver(before, rules(3));
    for (let t = 0; t <= 20; t += 10) d.check(t, 'web', false);
    expect(d.opened).toHaveLength(1);
    const [first] = d.opened;

    d.keep(d.engine.reconfigure({ plan: makePlan([probe('web', 'app'), probe('api', 'backend')]), rules: rules(3) }));
    for (let t = 30; t <= 50; t += 10) {
      d.check(t, 'web', false);
      d.check(t, 'api', false);
    }
    // Still the one incident for web; the new probe's failures are detected under the new config.
    expect(d.opened).toHaveLength(2);
    expect(d.docs.get(first?.incident.id ?? '')?.status).toBe('open');
    expect(d.opened.filter((c) => c.incident.components.some((x) => x.id === 'app'))).toHaveLength(1);
    expect(d.opened[1]?.incident.components.map((x) => x.id)).toContain('backend');
  });

  it('evaluates the next checks under a changed rule, counting the checks already seen', () => {
    const plan = makePlan([probe('web', 'app')]);
    const d = new Driver(plan, rules(3));
    d.check(0, 'web', false);
    d.check(10, 'web', false);
    // Five consecutive failures now: the two seen count, three more are needed.
    d.keep(d.engine.reconfigure({ plan, rules: rules(5) }));
    d.check(20, 'web', false);
    d.check(30, 'web', false);
    expect(d.opened).toHaveLength(0);
    d.check(40, 'web', false);
    expect(d.opened).toHaveLength(1);
    expect(d.opened[0]?.incident.opened_at).toBe(new Date(T0 + 40 * S).toISOString());
  });

  it('forgets the series and signals of a probe the reload removed, and ignores its late results', () => {
    const d = new Driver(makePlan([probe('web', 'app'), probe('old', 'legacy')]), rules(3));
    d.check(0, 'old', false);
    d.check(10, 'old', false);
    d.keep(d.engine.reconfigure({ plan: makePlan([probe('web', 'app')]), rules: rules(3) }));
    d.check(20, 'old', false);
    d.check(30, 'old', false);
    expect(d.opened).toHaveLength(0);
    expect(d.engine.dropped().unknown_probe).toBe(2);
    expect(JSON.stringify(d.engine.snapshot())).not.toContain('"old"');
  });

  it('applies events buffered before the reload under the old config and hands their changes out', () => {
    const plan = makePlan([probe('web', 'app')]);
    const d = new Driver(plan, rules(3));
    d.check(0, 'web', false);
    d.check(10, 'web', false);
    // The third failure is buffered (its timestamp has not closed yet) when the reload comes.
    d.engine.enqueue({ at: new Date(T0 + 20 * S).toISOString(), probe: 'web', target: 't1', vantage: 'v1', ok: false, error: 'timeout' });
    const changes = d.engine.reconfigure({ plan, rules: rules(3) });
    expect(changes.filter((c) => c.opened)).toHaveLength(1);
  });
});
