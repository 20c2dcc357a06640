import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/config/plan.js';
import { planChanges, Reloader, type ReloadOutcome } from '../../src/config/reload.js';
import { makePlan } from '../helpers/plan.js';

const base = makePlan([
  { id: 'a', targets: ['https://a/'] },
  { id: 'b', targets: ['https://b/'] },
  { id: 'c', targets: ['https://c/'] },
]);

describe('planChanges: what a reload changes', () => {
  it('counts probes added, removed, changed and unchanged; where a probe is written does not count', () => {
    const [a, b] = base.probes;
    const next: Plan = {
      ...base,
      probes: [
        { ...(a as Plan['probes'][number]), source: { file: 'moved.yml', line: 40 } },
        { ...(b as Plan['probes'][number]), intervalMs: 5000 },
        ...makePlan([{ id: 'd' }]).probes,
      ],
    };
    expect(planChanges(base, next)).toEqual({
      status: 'success',
      probes: { added: 1, removed: 1, changed: 1, unchanged: 1 },
      restart_required: [],
    });
  });

  it('names the settings that apply at the next start only', () => {
    const next: Plan = {
      ...base,
      server: { ...base.server, listen: { host: '0.0.0.0', port: 9470 } },
      store: { ...base.store, path: '/elsewhere.db' } as Plan['store'],
      vantage: 'fra',
    };
    expect(planChanges(base, next).restart_required).toEqual(['server.listen', 'store', 'vantage']);
  });
});

describe('Reloader', () => {
  it('keeps the running plan when the config has problems or is refused, and takes it otherwise', async () => {
    const outcomes: ReloadOutcome[] = [];
    const next = makePlan([{ id: 'z' }]);
    const answers = [
      { ok: false as const, problems: ['tocsin.yml:3: probes[0].url: required'] },
      { ok: true as const, plan: next },
      { ok: true as const, plan: next },
    ];
    let refuse = true;
    const reloader = new Reloader(base, {
      load: async () => answers.shift() ?? { ok: true, plan: next },
      apply: async () => {
        if (refuse) {
          refuse = false;
          throw new Error('server.tokens: TOKEN_X is shorter than 16 characters');
        }
      },
      onOutcome: (o) => outcomes.push(o),
    });
    expect(await reloader.reload()).toEqual({ ok: false, problems: ['tocsin.yml:3: probes[0].url: required'] });
    expect(reloader.plan).toBe(base);
    expect((await reloader.reload()).ok).toBe(false);
    expect(reloader.plan).toBe(base);
    const applied = await reloader.reload();
    expect(applied.ok).toBe(true);
    expect(reloader.plan).toBe(next);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false, true]);
  });

  it('runs one reload at a time, in the order asked', async () => {
    const order: string[] = [];
    let n = 0;
    const reloader = new Reloader(base, {
      load: async () => {
        const mine = ++n;
        order.push(`load ${mine}`);
        await new Promise((r) => setTimeout(r, 5));
        return { ok: true, plan: makePlan([{ id: `p${mine}` }]) };
      },
      apply: async (plan) => {
        order.push(`apply ${plan.probes[0]?.id}`);
      },
      onOutcome: () => undefined,
    });
    await Promise.all([reloader.reload(), reloader.reload()]);
    expect(order).toEqual(['load 1', 'apply p1', 'load 2', 'apply p2']);
    expect(reloader.plan.probes[0]?.id).toBe('p2');
  });
});
