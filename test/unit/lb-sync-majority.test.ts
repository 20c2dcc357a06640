import { describe, expect, it } from 'vitest';
import { fingerprint, NONE } from '../../probes/lb-sync/fingerprint.js';
import { type AnalysisInput, analyse, type InstanceInput, type RouteOutcome } from '../../probes/lb-sync/majority.js';

const COMPARE = ['status', 'header:x-config-version'];

/** An answer with a status and an x-config-version header (none when undefined). */
function answer(status: number, version?: string): RouteOutcome {
  const headers = version === undefined ? {} : { 'x-config-version': version };
  return { kind: 'answer', fingerprint: fingerprint(COMPARE, { status, headers }) };
}

const refused: RouteOutcome = {
  kind: 'failed',
  failure: { error: 'connect_refused', detail: 'connect ECONNREFUSED 10.0.0.4:443 (ECONNREFUSED)' },
};

function inst(instance: string, routes: RouteOutcome[], version?: string): InstanceInput {
  return { instance, routes, version };
}

function run(input: Omit<AnalysisInput, 'routes'> & { routes?: string[] }) {
  return analyse({ routes: input.routes ?? ['app1/', 'app2/'], ...input });
}

describe('fingerprint', () => {
  it('reduces an answer to the compare items, in order', () => {
    const fp = fingerprint(['header:x-a', 'status', 'body_sha256', 'cert_fingerprint'], {
      status: 200,
      headers: { 'x-a': ['1', '2'] },
      bodySha256: 'abc',
    });
    expect(fp.parts).toEqual([
      { item: 'header:x-a', value: '1, 2' },
      { item: 'status', value: '200' },
      { item: 'body_sha256', value: 'abc' },
      { item: 'cert_fingerprint', value: NONE },
    ]);
    expect(fp.status).toBe(200);
  });

  it('gives equal keys to equal answers only', () => {
    const a = fingerprint(COMPARE, { status: 200, headers: { 'x-config-version': '42' } });
    const b = fingerprint(COMPARE, { status: 200, headers: { 'x-config-version': '42', date: 'x' } });
    const c = fingerprint(COMPARE, { status: 200, headers: { 'x-config-version': '43' } });
    expect(a.key).toBe(b.key);
    expect(a.key).not.toBe(c.key);
  });
});

describe('analyse', () => {
  it('finds every instance in sync when all agree', () => {
    const a = run({
      instances: ['i1', 'i2', 'i3'].map((i) => inst(i, [answer(200, '42'), answer(404, '42')], '42')),
    });
    expect(a.verdicts).toEqual([0, 1, 2].map(() => ({ kind: 'compared', differences: [] })));
    expect(a.majorityVersion).toBe('42');
  });

  it('names the stale instance of S1 and what differs on each route', () => {
    const fresh = () => [answer(200, '43'), answer(200, '43')];
    const a = run({
      instances: [
        inst('i1', fresh(), '43'),
        inst('i2', fresh(), '43'),
        inst('i3', fresh(), '43'),
        inst('i4', [answer(200, '42'), answer(404, '42')], '42'),
      ],
    });
    expect(a.verdicts.slice(0, 3).every((v) => v.kind === 'compared' && v.differences.length === 0)).toBe(true);
    expect(a.verdicts[3]).toEqual({
      kind: 'compared',
      differences: [
        {
          route: 'app1/',
          against: 'majority',
          parts: [{ item: 'header:x-config-version', value: '42', reference: '43' }],
        },
        {
          route: 'app2/',
          against: 'majority',
          parts: [
            { item: 'status', value: '404', reference: '200' },
            { item: 'header:x-config-version', value: '42', reference: '43' },
          ],
        },
        { against: 'majority', parts: [{ item: 'version', value: '42', reference: '43' }] },
      ],
    });
    expect(a.majorityVersion).toBe('43');
  });

  it('gives an unreachable instance its own failure and leaves it out of the majority', () => {
    const a = run({
      routes: ['app1/'],
      instances: [
        inst('i1', [refused]),
        inst('i2', [refused]),
        inst('i3', [answer(200, '43')]),
        inst('i4', [answer(200, '42')]),
        inst('i5', [answer(200, '43')]),
      ],
    });
    expect(a.verdicts[0]).toEqual({ kind: 'failed', route: 'app1/', failure: refused.failure });
    expect(a.verdicts[1]?.kind).toBe('failed');
    // Two refused instances do not make a "majority" of failures: 43 is served by 2 of the 3 that answered.
    expect(a.verdicts[2]).toEqual({ kind: 'compared', differences: [] });
    expect(a.verdicts[3]).toMatchObject({ kind: 'compared', differences: [{ route: 'app1/', against: 'majority' }] });
  });

  it('fails an instance on its first failed route, while its other routes still count', () => {
    const a = run({
      instances: [
        inst('i1', [answer(200, '43'), refused]),
        inst('i2', [answer(200, '43'), answer(200, '43')]),
        inst('i3', [answer(200, '42'), answer(200, '43')]),
      ],
    });
    expect(a.verdicts[0]).toMatchObject({ kind: 'failed', route: 'app2/' });
    // i1's answer on app1 is part of app1's majority (2 of 3 serve 43), so i3 differs there.
    expect(a.verdicts[2]).toMatchObject({ differences: [{ route: 'app1/', against: 'majority' }] });
  });

  describe('ties', () => {
    it('are broken by the expected version', () => {
      const a = run({
        routes: ['app1/'],
        expectedVersion: '42',
        instances: [inst('i1', [answer(200, '42')], '42'), inst('i2', [answer(200, '43')], '43')],
      });
      expect(a.verdicts[0]).toEqual({ kind: 'compared', differences: [] });
      expect(a.verdicts[1]).toMatchObject({
        differences: [
          { route: 'app1/', against: 'majority' },
          { against: 'majority', parts: [{ item: 'version', value: '43', reference: '42' }] },
          { against: 'expected', parts: [{ item: 'version', value: '43', reference: '42' }] },
        ],
      });
      expect(a.majorityVersion).toBe('42');
    });

    it('are broken by the highest version without an expected one', () => {
      const a = run({
        routes: ['app1/'],
        instances: [inst('i1', [answer(200, '42')], '9'), inst('i2', [answer(200, '43')], '10')],
      });
      expect(a.majorityVersion).toBe('10');
      expect(a.verdicts[1]).toEqual({ kind: 'compared', differences: [] });
      expect(a.verdicts[0]).toMatchObject({
        differences: [
          { route: 'app1/', against: 'majority', parts: [{ item: 'header:x-config-version', reference: '43' }] },
          { against: 'majority', parts: [{ item: 'version', value: '9', reference: '10' }] },
        ],
      });
    });

    it('never go to a server error (S7: 503 on some instances only)', () => {
      const a = run({
        routes: ['app3/'],
        instances: [
          inst('i1', [answer(503, '42')]),
          inst('i2', [answer(200, '42')]),
          inst('i3', [answer(503, '42')]),
          inst('i4', [answer(200, '42')]),
        ],
      });
      expect(a.verdicts.map((v) => (v.kind === 'compared' ? v.differences.length : -1))).toEqual([1, 0, 1, 0]);
      expect(a.verdicts[0]).toMatchObject({
        differences: [{ parts: [{ item: 'status', value: '503', reference: '200' }] }],
      });
    });

    it('leave no reference when nothing breaks them: every instance differs', () => {
      const a = run({
        routes: ['app1/'],
        instances: [inst('i1', [answer(200, '42')]), inst('i2', [answer(200, '43')])],
      });
      for (const v of a.verdicts) {
        expect(v).toMatchObject({
          kind: 'compared',
          differences: [
            { route: 'app1/', against: 'no_majority', among: 2, parts: [{ item: 'header:x-config-version' }] },
          ],
        });
      }
    });
  });

  it('holds a fleet that agrees with itself against the expected version', () => {
    const a = run({
      routes: ['app1/'],
      expectedVersion: '43',
      instances: ['i1', 'i2', 'i3'].map((i) => inst(i, [answer(200, '42')], '42')),
    });
    for (const v of a.verdicts) {
      expect(v).toEqual({
        kind: 'compared',
        differences: [{ against: 'expected', parts: [{ item: 'version', value: '42', reference: '43' }] }],
      });
    }
  });

  it('flags a version that differs even when the answers agree', () => {
    const a = run({
      routes: ['app1/'],
      instances: [
        inst('i1', [answer(200)], '42'),
        inst('i2', [answer(200)], '42'),
        inst('i3', [answer(200)], '41'),
        inst('i4', [answer(200)]),
      ],
    });
    expect(a.verdicts[2]).toEqual({
      kind: 'compared',
      differences: [{ against: 'majority', parts: [{ item: 'version', value: '41', reference: '42' }] }],
    });
    // An instance that reported no version is not blamed for it.
    expect(a.verdicts[3]).toEqual({ kind: 'compared', differences: [] });
  });

  it('keeps a single instance in sync with itself', () => {
    const a = run({ routes: ['app1/'], instances: [inst('i1', [answer(500)])] });
    expect(a.verdicts).toEqual([{ kind: 'compared', differences: [] }]);
  });
});
