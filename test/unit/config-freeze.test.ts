import { describe, expect, it } from 'vitest';
import { frozenCopy } from '../../src/config/freeze.js';

describe('frozenCopy (the plan handed out by the loader)', () => {
  it('copies and freezes plain objects and arrays all the way down, leaving the input as it was', () => {
    const input = { a: { b: [1, { c: 'x' }] }, url: new URL('https://a.example/') };
    const out = frozenCopy(input);
    expect(out).toEqual(input);
    expect(out.a).not.toBe(input.a);
    expect(Object.isFrozen(out.a.b[1])).toBe(true);
    expect(Object.isFrozen(input.a)).toBe(false);
    // Not data: kept as is, unfrozen.
    expect(out.url).toBe(input.url);
    expect(Object.isFrozen(out.url)).toBe(false);
  });

  it('one frozen empty object serves every empty object, by prototype', () => {
    const plan = frozenCopy({ probes: [{ labels: {}, headers: {} }, { labels: {}, headers: { x: '1' } }] });
    const [first, second] = plan.probes;
    expect(first?.labels).toBe(second?.labels);
    expect(first?.headers).toBe(second?.labels);
    expect(second?.headers).toEqual({ x: '1' });
    expect(Object.isFrozen(first?.labels)).toBe(true);
    const bare = frozenCopy({ a: Object.create(null) as object, b: {} });
    expect(Object.getPrototypeOf(bare.a)).toBe(null);
    expect(Object.getPrototypeOf(bare.b)).toBe(Object.prototype);
  });

  it('one frozen list serves every equal list of short strings; other lists are copied each', () => {
    const plan = frozenCopy({
      probes: [
        { vantages: ['par-a', 'par-b'], spec: { vantages: ['par-a', 'par-b'] }, targets: ['a'] },
        { vantages: ['par-a', 'par-b'], spec: { vantages: ['par-a', 'par-b'] }, targets: ['b'] },
        { vantages: ['par-ab'], spec: { vantages: ['par-a', 'b'] }, targets: [1] },
      ],
    });
    const [one, two, three] = plan.probes;
    expect(one?.vantages).toBe(two?.vantages);
    expect(one?.vantages).toBe(one?.spec.vantages);
    expect(two?.spec.vantages).toBe(one?.vantages);
    expect(Object.isFrozen(one?.vantages)).toBe(true);
    expect(one?.targets).not.toBe(two?.targets);
    // Same characters, other items: not the same list.
    expect(three?.vantages).toEqual(['par-ab']);
    expect(three?.spec.vantages).toEqual(['par-a', 'b']);
    expect(three?.vantages).not.toBe(three?.spec.vantages);
    // A list holding other than strings is copied (its items may be objects).
    const objects = frozenCopy({ a: [{ x: 1 }], b: [{ x: 1 }] });
    expect(objects.a).not.toBe(objects.b);
  });

  it('a key named __proto__ (from YAML) stays a plain key, so the object is not empty', () => {
    const parsed = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    const out = frozenCopy(parsed);
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
  });
});
