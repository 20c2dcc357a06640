import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Deadline } from '../../probes/shared/deadline.js';
import { parseHostPort } from '../../probes/shared/host-port.js';
import { classifyNetError, timeoutFailure } from '../../probes/shared/net-errors.js';
import { PhaseClock } from '../../probes/shared/phase-clock.js';

const sysErr = (code: string, message = `${code} happened`): Error =>
  Object.assign(new Error(message), { code });

describe('classifyNetError', () => {
  it.each([
    ['ENOTFOUND', 'dns', 'dns'],
    ['EAI_AGAIN', 'dns', 'dns'],
    ['ECONNREFUSED', 'connect', 'connect_refused'],
    ['ECONNRESET', 'ttfb', 'connect_error'],
    ['EHOSTUNREACH', 'connect', 'connect_error'],
    ['EPIPE', 'ttfb', 'connect_error'],
    ['ECONNRESET', 'tls', 'tls_handshake'],
    ['CERT_HAS_EXPIRED', 'tls', 'tls_cert_expired'],
    ['CERT_NOT_YET_VALID', 'tls', 'tls_cert_expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'tls', 'tls_cert_invalid'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'tls', 'tls_cert_invalid'],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'tls', 'tls_cert_invalid'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'tls', 'tls_cert_invalid'],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'tls', 'tls_protocol'],
    ['ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE', 'tls', 'tls_handshake'],
    ['HPE_INVALID_CONSTANT', 'ttfb', 'protocol_error'],
    ['HPE_HEADER_OVERFLOW', 'ttfb', 'protocol_error'],
    ['ERR_INVALID_ARG_TYPE', undefined, 'internal'],
  ] as const)('%s during %s → %s', (code, phase, expected) => {
    expect(classifyNetError(sysErr(code), phase).error).toBe(expected);
  });

  it('reads OpenSSL messages behind a bare EPROTO', () => {
    const alert = sysErr(
      'EPROTO',
      'write EPROTO 803C:error:0A00042E:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:../rec_layer_s3.c:1601:',
    );
    expect(classifyNetError(alert, 'tls')).toEqual({
      error: 'tls_protocol',
      detail: 'no common TLS protocol version: tlsv1 alert protocol version (EPROTO)',
    });
    const plain = sysErr(
      'EPROTO',
      'write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1:',
    );
    expect(classifyNetError(plain, 'tls')).toMatchObject({ error: 'tls_handshake' });
    expect(classifyNetError(plain, 'tls').detail).toMatch(/does not speak TLS/);
  });

  it('names the phase and says "closed by peer" for hang-ups', () => {
    expect(classifyNetError(sysErr('ECONNRESET', 'socket hang up'), 'ttfb')).toEqual({
      error: 'connect_error',
      detail: 'connection closed by peer during ttfb (ECONNRESET)',
    });
  });

  it('looks inside an AggregateError (several addresses tried)', () => {
    const agg = new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED')], 'all failed');
    expect(classifyNetError(agg, 'connect').error).toBe('connect_refused');
  });

  it('blames Tocsin, not the target, for errors without a code', () => {
    expect(classifyNetError(new TypeError('oops'), 'ttfb').error).toBe('internal');
    expect(classifyNetError('string thrown', undefined).error).toBe('internal');
  });

  it('words timeouts with the phase', () => {
    expect(timeoutFailure('transfer', 2000)).toEqual({
      error: 'timeout',
      detail: 'timeout during transfer (deadline 2000 ms)',
    });
  });
});

describe('parseHostPort', () => {
  it('parses host:port and [v6]:port', () => {
    expect(parseHostPort('10.0.0.3:443')).toEqual({ host: '10.0.0.3', port: 443 });
    expect(parseHostPort('lb-1.example.com:8443')).toEqual({ host: 'lb-1.example.com', port: 8443 });
    expect(parseHostPort('[2001:db8::1]:443')).toEqual({ host: '2001:db8::1', port: 443 });
  });

  it.each(['example.com', ':443', 'a:0', 'a:65536', '2001:db8::1:443', 'a b:1', 'http://a:1'])(
    'rejects %s',
    (text) => {
      expect(parseHostPort(text)).toBeUndefined();
    },
  );
});

describe('PhaseClock', () => {
  it('accumulates repeated phases and reports the one in progress', () => {
    const clock = new PhaseClock();
    expect(clock.current).toBeUndefined();
    clock.enter('connect');
    clock.enter('ttfb');
    expect(clock.current).toBe('ttfb');
    clock.stop();
    clock.enter('connect');
    clock.stop();
    const t = clock.timings();
    expect(Object.keys(t).sort()).toEqual(['connect', 'ttfb']);
    expect(clock.current).toBeUndefined();
  });
});

describe('Deadline', () => {
  it('expires on its own budget and calls onExpire once', async () => {
    const parent = new AbortController();
    const deadline = new Deadline({ signal: parent.signal, timeoutMs: 20 });
    let calls = 0;
    deadline.onExpire(() => calls++);
    await new Promise((r) => setTimeout(r, 60));
    expect(deadline.expired).toBe(true);
    expect(calls).toBe(1);
    deadline.dispose();
    expect(getEventListeners(parent.signal, 'abort')).toHaveLength(0);
  });

  it('follows the runner aborting first, and late onExpire calls still fire', async () => {
    const parent = new AbortController();
    const deadline = new Deadline({ signal: parent.signal, timeoutMs: 10_000 });
    parent.abort();
    expect(deadline.expired).toBe(true);
    let late = false;
    deadline.onExpire(() => {
      late = true;
    });
    await Promise.resolve();
    expect(late).toBe(true);
    deadline.dispose();
  });

  it('unhooks listeners that are cancelled', () => {
    const deadline = new Deadline({ signal: new AbortController().signal, timeoutMs: 10_000 });
    const off = deadline.onExpire(() => undefined);
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(1);
    off();
    expect(getEventListeners(deadline.signal, 'abort')).toHaveLength(0);
    deadline.dispose();
  });

  it('starts expired when the runner signal already is', () => {
    const parent = new AbortController();
    parent.abort();
    const deadline = new Deadline({ signal: parent.signal, timeoutMs: 10_000 });
    expect(deadline.expired).toBe(true);
    deadline.dispose();
  });
});
