import { describe, expect, it } from 'vitest';
import {
  clearedSessionCookie,
  readCookie,
  sameSecret,
  SessionStore,
  sessionCookie,
} from '../../src/console/sessions.js';

const ops = { name: 'ops', role: 'operator' as const };

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('console session store', () => {
  it('creates sessions with distinct random ids and CSRF tokens, holding only the principal', () => {
    const store = new SessionStore();
    const a = store.create(ops);
    const b = store.create(ops);
    expect(a.id).not.toBe(b.id);
    expect(a.csrf).not.toBe(b.csrf);
    expect(a.id).not.toBe(a.csrf);
    expect(a.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.principal).toEqual(ops);
    expect(store.get(a.id)).toBe(a);
    expect(store.get('unknown')).toBeUndefined();
    expect(store.get(undefined)).toBeUndefined();
  });

  it('expires a session after the idle time, and keeps it while it is used', () => {
    const c = clock();
    const store = new SessionStore({ idleMs: 1000, maxAgeMs: 10_000, now: c.now });
    const s = store.create(ops);
    c.advance(900);
    expect(store.get(s.id)).toBe(s);
    c.advance(900); // 1800 since creation, 900 since last use
    expect(store.get(s.id)).toBe(s);
    c.advance(1000);
    expect(store.get(s.id)).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('expires a session at its maximum age even when used all along', () => {
    const c = clock();
    const store = new SessionStore({ idleMs: 1000, maxAgeMs: 2500, now: c.now });
    const s = store.create(ops);
    for (let i = 0; i < 4; i++) {
      c.advance(600); // never idle for long: used at 600, 1200, 1800, 2400
      expect(store.get(s.id)).toBe(s);
    }
    c.advance(600);
    expect(store.get(s.id)).toBeUndefined();
  });

  it('is bounded: signing in past the bound drops the least recently used session', () => {
    const c = clock();
    const store = new SessionStore({ maxSessions: 3, now: c.now });
    const [a, b, s3] = [store.create(ops), store.create(ops), store.create(ops)];
    c.advance(10);
    store.get(a.id); // a is now the most recently used
    const d = store.create(ops);
    expect(store.size).toBe(3);
    expect(store.get(b.id)).toBeUndefined();
    for (const s of [a, s3, d]) expect(store.get(s.id)).toBe(s);
  });

  it('sweeps expired sessions when a new one is created', () => {
    const c = clock();
    const store = new SessionStore({ idleMs: 100, now: c.now });
    store.create(ops);
    store.create(ops);
    c.advance(200);
    store.create(ops);
    expect(store.size).toBe(1);
  });

  it('signs out', () => {
    const store = new SessionStore();
    const s = store.create(ops);
    store.destroy(s.id);
    expect(store.get(s.id)).toBeUndefined();
  });
});

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/, Secure only over https', () => {
    expect(sessionCookie('abc', false)).toBe('tocsin_session=abc; Path=/; HttpOnly; SameSite=Strict');
    expect(sessionCookie('abc', true)).toBe('tocsin_session=abc; Path=/; HttpOnly; SameSite=Strict; Secure');
    expect(clearedSessionCookie(false)).toContain('Max-Age=0');
  });

  it('is read from a Cookie header among others', () => {
    expect(readCookie('a=1; tocsin_session=xyz; b=2', 'tocsin_session')).toBe('xyz');
    expect(readCookie('tocsin_session_other=1', 'tocsin_session')).toBeUndefined();
    expect(readCookie(undefined, 'tocsin_session')).toBeUndefined();
    expect(readCookie('garbage', 'tocsin_session')).toBeUndefined();
  });
});

describe('sameSecret', () => {
  it('is true only for equal strings, whatever the lengths', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
    expect(sameSecret('', 'a')).toBe(false);
  });
});
