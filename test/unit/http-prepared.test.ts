import { describe, expect, it } from 'vitest';
import { prepared } from '../../probes/http/prepared.js';
import { HttpProbeSpec } from '../../probes/http/spec.js';

describe('prepared', () => {
  it('works a spec out once and keeps it with that spec object', () => {
    const raw = {
      url: 'http://example.test:8080/health?full=1',
      address: '[::1]:8443',
      headers: { 'X-Api-Key': 'k', Accept: 'text/plain' },
      headers_env: { Authorization: 'API_AUTH' },
      follow_redirects: { allow_link_local: true },
      expect: { body_regex: 'ok', header: { Server: '/nginx/i' } },
    };
    const spec = HttpProbeSpec.parse(raw);
    const prep = prepared(spec);
    expect(prepared(spec)).toBe(prep);
    expect(prepared(HttpProbeSpec.parse(raw))).not.toBe(prep);

    expect(prep.connectTo).toEqual({ host: '::1', port: 8443 });
    expect(prep).toMatchObject({ follow: true, allowLinkLocal: true, keepText: true });
    expect(prep.headers).toEqual({ 'x-api-key': 'k', accept: 'text/plain' });
    expect(Object.isFrozen(prep.headers)).toBe(true);
    expect(prep.envHeaders).toEqual([['authorization', 'Authorization', 'API_AUTH']]);
    expect(prep.expect.headers.map((h) => h.name)).toEqual(['server']);
    expect(prep.expect.bodyRegex?.pattern.test('all ok')).toBe(true);
  });

  it('shares one prepared form among plain probes (no headers, address or expectations)', () => {
    const a = prepared(HttpProbeSpec.parse({ url: 'https://a.example.test/' }));
    const b = prepared(HttpProbeSpec.parse({ url: 'http://b.example.test/health', method: 'HEAD', body: 'x' }));
    expect(b).toBe(a);
    expect(a).toMatchObject({ follow: true, allowLinkLocal: false, keepText: false, connectTo: undefined });
    expect(a.headers).toEqual({});
    expect(a.envHeaders).toEqual([]);
    expect(a.expect.accepted).toEqual(['2xx']);

    const unfollowed = prepared(HttpProbeSpec.parse({ url: 'https://a.example.test/', follow_redirects: false }));
    expect(unfollowed).not.toBe(a);
    expect(unfollowed.expect.accepted).toEqual(['2xx', '3xx']);
    for (const raw of [
      { headers: { a: 'b' } },
      { address: '10.0.0.1:443' },
      { expect: { max_latency: '1s' } },
      { follow_redirects: { allow_link_local: true } },
    ]) {
      expect(prepared(HttpProbeSpec.parse({ url: 'https://a.example.test/', ...raw }))).not.toBe(a);
    }
  });
});
