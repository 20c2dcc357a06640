import { describe, expect, test } from 'vitest';
import { Leftovers, s3Failure } from '../../probes/storage/s3.js';
import { checkLatency, freshKey, INSTANCE_ID, opTimeout } from '../../probes/storage/ops.js';
import { encodeKey, parseS3Error, s3Address, signedHeaders } from '../../probes/storage/s3-request.js';
import { verifySigV4 } from '../helpers/s3rver.js';
import type { IncomingMessage } from 'node:http';

describe('checkLatency', () => {
  const ops = { put: 812.4, get: 350, delete: 40 };

  test('no limit, or within limits: no failure', () => {
    expect(checkLatency(ops, undefined)).toBeUndefined();
    expect(checkLatency(ops, 2000)).toBeUndefined();
    expect(checkLatency(ops, { put: 900, get: 400 })).toBeUndefined();
  });

  test('a duration limits the sum of the ops', () => {
    expect(checkLatency(ops, 1000)).toEqual({
      error: 'latency',
      detail: 'slow: 1202 ms in total > max_latency 1s (put 812 ms, get 350 ms, delete 40 ms)',
    });
  });

  test('a map limits each op named, and names every slow one', () => {
    expect(checkLatency(ops, { put: 500, get: 300 })).toEqual({
      error: 'latency',
      detail: 'slow: put 812 ms > 500ms, get 350 ms > 300ms',
    });
    // An op that did not run cannot be slow.
    expect(checkLatency({ connect: 5 }, { get: 1 })).toBeUndefined();
  });
});

describe('opTimeout', () => {
  test('names the op, and the phase within it when it differs', () => {
    expect(opTimeout('get', 'ttfb', 1000)).toEqual({
      error: 'timeout',
      detail: 'timeout during get (ttfb, deadline 1000 ms)',
    });
    expect(opTimeout('ping', 'ping', 800).detail).toBe('timeout during ping (deadline 800 ms)');
    expect(opTimeout(undefined, undefined, 500).detail).toBe('timeout during check (deadline 500 ms)');
  });
});

describe('keys', () => {
  test('fresh keys carry the prefix, this process id, the time and a random part', () => {
    const a = freshKey('tocsin-probe/', 1_700_000_000_000);
    const b = freshKey('tocsin-probe/', 1_700_000_000_000);
    expect(a).toMatch(new RegExp(`^tocsin-probe/${INSTANCE_ID}-1700000000000-[0-9a-f]{8}$`));
    expect(a).not.toBe(b);
  });

  test('encodeKey encodes like SigV4 (RFC 3986), keeping slashes', () => {
    expect(encodeKey('a b/c!d\'(e)*f~g')).toBe('a%20b/c%21d%27%28e%29%2Af~g');
  });
});

describe('s3Address', () => {
  test('path style: endpoint host, /bucket/key, a path prefix kept', () => {
    expect(s3Address(new URL('https://cellar.example.com'), 'b', 'k/1', true)).toEqual({
      https: true,
      connectHost: 'cellar.example.com',
      connectPort: 443,
      hostHeader: 'cellar.example.com',
      path: '/b/k/1',
      tlsName: 'cellar.example.com',
    });
    expect(s3Address(new URL('http://127.0.0.1:9000/s3/'), 'b', 'k', true)).toMatchObject({
      connectHost: '127.0.0.1',
      connectPort: 9000,
      hostHeader: '127.0.0.1:9000',
      path: '/s3/b/k',
    });
  });

  test('virtual-hosted: dials the endpoint, Host and TLS name are bucket.host', () => {
    expect(s3Address(new URL('https://cellar.example.com:8443'), 'media', 'k', false)).toEqual({
      https: true,
      connectHost: 'cellar.example.com',
      connectPort: 8443,
      hostHeader: 'media.cellar.example.com:8443',
      path: '/k',
      tlsName: 'media.cellar.example.com',
    });
  });
});

describe('signing', () => {
  test('signed headers verify with the right secret and not with another (the test server check)', () => {
    const address = s3Address(new URL('http://127.0.0.1:9000'), 'b', 'tocsin-probe/x-1', true);
    const bytes = Buffer.from('hello');
    const sha256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';
    const headers = signedHeaders({
      method: 'PUT',
      address,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AK', secretAccessKey: 'right' },
      tls: undefined,
      body: { bytes, sha256 },
    });
    expect(headers).toMatchObject({
      host: '127.0.0.1:9000',
      'x-amz-content-sha256': sha256,
      'content-length': '5',
      authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=AK\/\d{8}\/us-east-1\/s3\/aws4_request, /),
    });
    const req = { method: 'PUT', url: address.path, headers } as unknown as IncomingMessage;
    expect(verifySigV4(req, new Map([['AK', 'right']]))).toBeUndefined();
    expect(verifySigV4(req, new Map([['AK', 'wrong']]))).toBe('SignatureDoesNotMatch');
  });
});

describe('S3 errors', () => {
  const xml = (code: string, message = 'm') =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>1</RequestId></Error>`;

  test('parseS3Error reads Code and Message', () => {
    expect(parseS3Error(xml('SlowDown', 'Please reduce your request rate.'))).toEqual({
      code: 'SlowDown',
      message: 'Please reduce your request rate.',
    });
    expect(parseS3Error('<html>bad gateway</html>')).toEqual({});
    expect(parseS3Error(undefined)).toEqual({});
  });

  test.each([
    [403, xml('SignatureDoesNotMatch'), 'put', 'put: auth: SignatureDoesNotMatch (403): m'],
    [403, xml('InvalidAccessKeyId'), 'put', 'put: auth: InvalidAccessKeyId (403): m'],
    [403, xml('AccessDenied'), 'get', 'get: auth: AccessDenied (403): m'],
    [403, '', 'delete', 'delete: auth: access denied (403)'],
    [404, xml('NoSuchBucket'), 'put', 'put: missing bucket "b" (404 NoSuchBucket)'],
    [404, xml('NoSuchKey'), 'get', 'get: the object just put is missing (404 NoSuchKey)'],
    [503, xml('SlowDown', 'Reduce your rate'), 'put', 'put: 503 SlowDown: Reduce your rate'],
    [502, '<html>bad gateway</html>', 'get', 'get: 502'],
  ])('%d %s on %s', (status, text, op, detail) => {
    expect(s3Failure(op, 'b', { status, text })).toEqual({ error: 'storage_error', detail });
  });

  test('2xx is no failure; a network failure passes through', () => {
    expect(s3Failure('put', 'b', { status: 200 })).toBeUndefined();
    const failure = { error: 'connect_refused', detail: 'put: refused' } as const;
    expect(s3Failure('put', 'b', { failure })).toBe(failure);
  });
});

describe('Leftovers', () => {
  test('keys are taken back per bucket, oldest first', () => {
    const l = new Leftovers(10);
    l.add('a', 'k1');
    l.add('b', 'k2');
    l.add('a', 'k3');
    expect(l.take('a')).toEqual(['k1', 'k3']);
    expect(l.take('a')).toEqual([]);
    expect(l.size).toBe(1);
  });

  test('bounded: past the cap the oldest keys are forgotten', () => {
    const l = new Leftovers(3);
    for (const k of ['k1', 'k2', 'k3', 'k4']) l.add('a', k);
    l.add('b', 'k5');
    expect(l.size).toBe(3);
    expect(l.take('a')).toEqual(['k3', 'k4']);
    expect(l.take('b')).toEqual(['k5']);
  });
});
