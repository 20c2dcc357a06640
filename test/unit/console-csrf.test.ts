import { describe, expect, it } from 'vitest';
import { checkCsrf } from '../../src/console/csrf.js';

const TOKEN = 'k2bH1Yc0Zb4nW1o5fC7vR8sT9uV0wX1yZ2aB3cD4eF5';
const base = { host: '127.0.0.1:9470', origin: undefined, referer: undefined, token: TOKEN };

describe('console CSRF check', () => {
  it('accepts the session token from the same origin, or with no origin information', () => {
    expect(checkCsrf(base, TOKEN)).toEqual({ ok: true });
    expect(checkCsrf({ ...base, origin: 'http://127.0.0.1:9470' }, TOKEN)).toEqual({ ok: true });
    expect(checkCsrf({ ...base, referer: 'http://127.0.0.1:9470/console/incidents/x' }, TOKEN)).toEqual({ ok: true });
    // Behind a TLS proxy the scheme differs; the host is what identifies the console.
    expect(checkCsrf({ ...base, host: 'ops.example', origin: 'https://OPS.example' }, TOKEN)).toEqual({ ok: true });
  });

  it('refuses a missing or different token', () => {
    expect(checkCsrf({ ...base, token: undefined }, TOKEN)).toMatchObject({ ok: false, reason: expect.stringContaining('no CSRF token') });
    expect(checkCsrf({ ...base, token: '' }, TOKEN).ok).toBe(false);
    expect(checkCsrf({ ...base, token: `${TOKEN}x` }, TOKEN).ok).toBe(false);
    expect(checkCsrf({ ...base, token: TOKEN.replace('k', 'K') }, TOKEN).ok).toBe(false);
  });

  it('refuses another origin even with the right token', () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:9471', 'null', 'not a url']) {
      expect(checkCsrf({ ...base, origin }, TOKEN)).toMatchObject({ ok: false, reason: expect.stringContaining('another site') });
    }
    expect(checkCsrf({ ...base, referer: 'http://evil.example/x' }, TOKEN).ok).toBe(false);
    // Origin wins over Referer when both are there.
    expect(checkCsrf({ ...base, origin: 'http://evil.example', referer: 'http://127.0.0.1:9470/' }, TOKEN).ok).toBe(false);
    expect(checkCsrf({ ...base, host: undefined, origin: 'http://127.0.0.1:9470' }, TOKEN).ok).toBe(false);
  });
});
