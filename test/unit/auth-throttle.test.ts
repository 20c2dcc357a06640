import { describe, expect, it } from 'vitest';
import { AuthThrottle } from '../../src/api/throttle.js';
import { FakeClock } from '../helpers/fake-clock.js';

const IP = '192.0.2.1';

function throttle(opts: Partial<ConstructorParameters<typeof AuthThrottle>[0]> = {}) {
  const clock = new FakeClock();
  return { clock, t: new AuthThrottle({ clock, ...opts }) };
}

describe('AuthThrottle', () => {
  it('tolerates 4 failures, then backs off 1 s, 2 s, 4 s… capped at 5 min', () => {
    const { clock, t } = throttle();
    for (let i = 0; i < 4; i++) {
      expect(t.fail(IP).backoffStarted).toBe(false);
      expect(t.check(IP)).toEqual({ ok: true });
    }
    expect(t.fail(IP).backoffStarted).toBe(true);
    expect(t.check(IP)).toEqual({ ok: false, retryAfterS: 1 });
    clock.advance(999);
    expect(t.check(IP)).toEqual({ ok: false, retryAfterS: 1 });
    clock.advance(1);
    expect(t.check(IP)).toEqual({ ok: true });
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      // Only the first failure of the episode is reported (logged once).
      expect(t.fail(IP).backoffStarted).toBe(false);
      const c = t.check(IP);
      if (c.ok) throw new Error('expected a backoff');
      waits.push(c.retryAfterS);
      clock.advance(c.retryAfterS * 1000);
    }
    expect(waits).toEqual([2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300, 300]);
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    const { clock, t } = throttle({ freeFailures: 1, baseMs: 1500 });
    t.fail(IP);
    expect(t.check(IP)).toEqual({ ok: false, retryAfterS: 2 });
    clock.advance(1400);
    expect(t.check(IP)).toEqual({ ok: false, retryAfterS: 1 });
  });

  it('forgets an address on success', () => {
    const { t } = throttle();
    for (let i = 0; i < 7; i++) t.fail(IP);
    expect(t.check(IP).ok).toBe(false);
    t.succeed(IP);
    expect(t.check(IP)).toEqual({ ok: true });
    expect(t.size).toBe(0);
    // A fresh episode: 4 free failures again, and the fifth is reported again.
    for (let i = 0; i < 4; i++) expect(t.fail(IP).backoffStarted).toBe(false);
    expect(t.fail(IP).backoffStarted).toBe(true);
  });

  it('keeps addresses apart', () => {
    const { t } = throttle();
    for (let i = 0; i < 5; i++) t.fail(IP);
    expect(t.check(IP).ok).toBe(false);
    expect(t.check('192.0.2.2')).toEqual({ ok: true });
  });

  it('expires failures after the window without one', () => {
    const { clock, t } = throttle({ windowMs: 60_000 });
    for (let i = 0; i < 4; i++) t.fail(IP);
    clock.advance(60_000);
    expect(t.check(IP)).toEqual({ ok: true });
    expect(t.size).toBe(0);
    // The count started over: 4 more failures are free.
    for (let i = 0; i < 4; i++) t.fail(IP);
    expect(t.check(IP)).toEqual({ ok: true });
  });

  it('tracks at most maxAddresses, dropping the least recently failing', () => {
    const { t } = throttle({ maxAddresses: 100 });
    for (let i = 0; i < 5; i++) t.fail('10.0.0.0');
    for (let n = 1; n <= 1000; n++) t.fail(`10.0.${n >> 8}.${n & 255}`);
    expect(t.size).toBe(100);
    expect(t.check('10.0.0.0')).toEqual({ ok: true });
    expect(t.check('10.0.3.232').ok).toBe(true);
    // The most recent addresses are still tracked.
    for (let i = 0; i < 4; i++) t.fail('10.0.3.232');
    expect(t.check('10.0.3.232').ok).toBe(false);
    expect(t.size).toBe(100);
  });
});
