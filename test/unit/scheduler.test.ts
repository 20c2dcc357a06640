import { describe, expect, it } from 'vitest';
import { nextSlot, phaseOffset } from '../../src/schedule/phase.js';
import { Scheduler } from '../../src/schedule/scheduler.js';
import { FakeClock } from '../helpers/fake-clock.js';

function recorder() {
  const due: { key: string; dueAt: number; firedAt: number }[] = [];
  const missed: { key: string; slots: number }[] = [];
  return { due, missed };
}

describe('phase', () => {
  it('spreads 10,000 keys over the interval without a burst', () => {
    const interval = 30_000;
    const perSecond = new Array<number>(30).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const off = phaseOffset(`probe-${i}\u0000http://t/${i}\u0000local`, interval);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off).toBeLessThan(interval);
      perSecond[Math.floor(off / 1000)] = (perSecond[Math.floor(off / 1000)] ?? 0) + 1;
    }
    // Uniform would be 333 per second; no second may hold more than 1.5x that.
    expect(Math.max(...perSecond)).toBeLessThan(500);
    expect(Math.min(...perSecond)).toBeGreaterThan(200);
  });

  it('is stable for a key and the next slot is strictly in the future', () => {
    expect(phaseOffset('a', 15_000)).toBe(phaseOffset('a', 15_000));
    expect(nextSlot(1000, 1000, 0)).toBe(2000);
    expect(nextSlot(1500, 1000, 200)).toBe(2200);
    expect(nextSlot(1200, 1000, 200)).toBe(2200);
  });
});

describe('Scheduler', () => {
  it('fires each entry once per interval, on its phase', () => {
    const clock = new FakeClock(0);
    const { due, missed } = recorder();
    const s = new Scheduler(clock, {
      onDue: (key, dueAt) => due.push({ key, dueAt, firedAt: clock.now() }),
      onMissed: (key, slots) => missed.push({ key, slots }),
    });
    s.set([
      { key: 'a', intervalMs: 1000 },
      { key: 'b', intervalMs: 2500 },
    ]);
    s.start();
    clock.advance(10_000);
    const a = due.filter((d) => d.key === 'a');
    const b = due.filter((d) => d.key === 'b');
    expect(a).toHaveLength(10);
    expect(b).toHaveLength(4);
    for (const d of due) expect(d.firedAt).toBe(d.dueAt);
    expect(a[1]?.dueAt).toBe((a[0]?.dueAt ?? 0) + 1000);
    expect(a[0]?.dueAt).toBe(phaseOffset('a', 1000) + 1000 * (phaseOffset('a', 1000) === 0 ? 1 : 0));
    expect(missed).toEqual([]);
  });

  it('keeps one timer whatever the number of entries', () => {
    const clock = new FakeClock(0);
    const s = new Scheduler(clock, { onDue: () => {}, onMissed: () => {} });
    s.set(Array.from({ length: 5000 }, (_, i) => ({ key: `k${i}`, intervalMs: 30_000 })));
    s.start();
    expect(clock.pendingTimers).toBe(1);
    clock.advance(45_000);
    expect(clock.pendingTimers).toBe(1);
  });

  it('counts slots missed during a stall instead of firing them in a burst', () => {
    const clock = new FakeClock(0);
    const { due, missed } = recorder();
    const s = new Scheduler(clock, {
      onDue: (key, dueAt) => due.push({ key, dueAt, firedAt: clock.now() }),
      onMissed: (key, slots) => missed.push({ key, slots }),
    });
    s.set([{ key: 'a', intervalMs: 1000 }]);
    s.start();
    clock.advance(1000);
    const before = due.length;
    clock.stall(5500);
    clock.advance(1);
    expect(due.length - before).toBe(1);
    expect(missed.reduce((n, m) => n + m.slots, 0)).toBe(5);
  });

  it('set() keeps unchanged entries, drops removed ones and re-times changed ones', () => {
    const clock = new FakeClock(0);
    const { due } = recorder();
    const s = new Scheduler(clock, {
      onDue: (key, dueAt) => due.push({ key, dueAt, firedAt: clock.now() }),
      onMissed: () => {},
    });
    s.set([
      { key: 'a', intervalMs: 1000 },
      { key: 'b', intervalMs: 1000 },
    ]);
    s.start();
    clock.advance(3000);
    s.set([
      { key: 'a', intervalMs: 1000 },
      { key: 'c', intervalMs: 500 },
    ]);
    due.length = 0;
    clock.advance(3000);
    expect(due.filter((d) => d.key === 'a')).toHaveLength(3);
    expect(due.filter((d) => d.key === 'b')).toHaveLength(0);
    expect(due.filter((d) => d.key === 'c')).toHaveLength(6);
    expect(s.size).toBe(2);
  });

  it('stops firing after stop()', () => {
    const clock = new FakeClock(0);
    let n = 0;
    const s = new Scheduler(clock, { onDue: () => n++, onMissed: () => {} });
    s.set([{ key: 'a', intervalMs: 100 }]);
    s.start();
    clock.advance(1000);
    const fired = n;
    s.stop();
    clock.advance(1000);
    expect(n).toBe(fired);
    expect(s.running).toBe(false);
  });
});
