import { describe, expect, it } from 'vitest';
import { type HopRequest, isFailure, nextHop } from '../../probes/http/redirect.js';

const first: HopRequest = {
  url: new URL('https://www.example.test/login?x=1'),
  method: 'POST',
  headers: { authorization: 'Bearer t', cookie: 'a=1', 'content-type': 'application/json', 'x-trace': '1' },
  body: '{}',
  connectTo: { host: '10.0.0.3', port: 443 },
};
const home = { origin: 'https://www.example.test', connectTo: first.connectTo };

function hop(status: number, location: string | undefined, from: HopRequest = first): HopRequest {
  const next = nextHop(from, status, location, home);
  if (next === undefined || isFailure(next)) throw new Error(`expected a hop, got ${JSON.stringify(next)}`);
  return next;
}

describe('nextHop', () => {
  it('is final for non-redirect statuses and redirects without Location', () => {
    expect(nextHop(first, 200, '/x', home)).toBeUndefined();
    expect(nextHop(first, 304, '/x', home)).toBeUndefined();
    expect(nextHop(first, 300, '/x', home)).toBeUndefined();
    expect(nextHop(first, 302, undefined, home)).toBeUndefined();
    expect(nextHop(first, 302, '', home)).toBeUndefined();
  });

  it('resolves relative locations and drops the fragment', () => {
    expect(hop(307, '../next#frag').url.href).toBe('https://www.example.test/next');
    expect(hop(307, '?page=2').url.href).toBe('https://www.example.test/login?page=2');
  });

  it('keeps method and body on 307/308, turns POST into GET on 301/302/303', () => {
    for (const status of [307, 308]) {
      const next = hop(status, '/a');
      expect(next.method).toBe('POST');
      expect(next.body).toBe('{}');
      expect(next.headers['content-type']).toBe('application/json');
    }
    for (const status of [301, 302, 303]) {
      const next = hop(status, '/a');
      expect(next.method).toBe('GET');
      expect(next.body).toBeUndefined();
      expect(next.headers['content-type']).toBeUndefined();
      expect(next.headers['x-trace']).toBe('1');
    }
    const put = { ...first, method: 'PUT' };
    expect(hop(302, '/a', put).method).toBe('PUT');
    expect(hop(303, '/a', put).method).toBe('GET');
    expect(hop(303, '/a', { ...first, method: 'HEAD' }).method).toBe('HEAD');
  });

  it('keeps the address and credentials on the same origin only', () => {
    const same = hop(307, '/b');
    expect(same.connectTo).toEqual({ host: '10.0.0.3', port: 443 });
    expect(same.headers).toEqual(first.headers);

    const other = hop(307, 'https://login.example.test/');
    expect(other.connectTo).toBeUndefined();
    expect(other.headers.authorization).toBeUndefined();
    expect(other.headers.cookie).toBeUndefined();
    expect(other.headers['x-trace']).toBeUndefined();

    // Coming back home restores the address (it names an instance of the probe's own site).
    expect(hop(307, 'https://www.example.test/c', other).connectTo).toEqual(first.connectTo);
    // A scheme change is another origin.
    expect(hop(301, 'http://www.example.test/login').connectTo).toBeUndefined();
  });

  it('drops every probe header on another origin, keeping only those of a body still sent', () => {
    const withSecret: HopRequest = {
      ...first,
      headers: { ...first.headers, 'x-secret': 's3cr3t', 'user-agent': 'mine', host: 'www.example.test' },
    };
    // 307 keeps the body, so the headers that describe it stay; nothing else does.
    expect(hop(307, 'https://other.example.test/', withSecret).headers).toEqual({
      'content-type': 'application/json',
    });
    // 303 turns it into a GET: nothing is left.
    expect(hop(303, 'https://other.example.test/', withSecret).headers).toEqual({});
    // Another port or scheme is another origin too.
    expect(hop(307, 'https://www.example.test:8443/', withSecret).headers['x-secret']).toBeUndefined();
    expect(hop(307, 'http://www.example.test/', withSecret).headers['x-secret']).toBeUndefined();
    // Same origin: all kept.
    expect(hop(307, '/next', withSecret).headers).toEqual(withSecret.headers);
    // Not restored when the chain comes back to the probe's origin.
    const away = hop(302, 'https://other.example.test/', withSecret);
    expect(hop(302, 'https://www.example.test/back', away).headers['x-secret']).toBeUndefined();
  });

  it('fails unsupported schemes and unparsable locations as protocol_error', () => {
    expect(nextHop(first, 302, 'ftp://files.example.test/', home)).toMatchObject({ error: 'protocol_error' });
    expect(nextHop(first, 302, 'http://[bad', home)).toMatchObject({ error: 'protocol_error' });
  });
});
