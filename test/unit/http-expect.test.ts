import { describe, expect, it } from 'vitest';
import {
  checkCompiled,
  checkExpectations,
  compileExpectations,
  defaultStatuses,
  needsBody,
  type ObservedResponse,
  parseRegexLiteral,
  statusMatches,
} from '../../probes/http/expect.js';
import { HttpProbeSpec } from '../../probes/http/spec.js';
import { httpProbe } from '../../probes/http.js';

const answer = (over: Partial<ObservedResponse> = {}): ObservedResponse => ({
  status: 200,
  headers: {
    'content-type': 'application/json; charset=utf-8',
    'x-config-version': '42',
    'set-cookie': ['a=1', 'b=2'],
  },
  body: '{"status":"ok","version":42}',
  durationMs: 120,
  ...over,
});

describe('statusMatches', () => {
  it('matches exact statuses, classes and numeric strings', () => {
    expect(statusMatches(200, [200])).toBe(true);
    expect(statusMatches(204, ['2xx'])).toBe(true);
    expect(statusMatches(204, ['2XX'])).toBe(true);
    expect(statusMatches(301, ['2xx'])).toBe(false);
    expect(statusMatches(404, ['2xx', 404])).toBe(true);
    expect(statusMatches(418, ['418'])).toBe(true);
    expect(statusMatches(500, ['4xx', 200])).toBe(false);
  });

  it('defaults to 2xx, or 2xx and 3xx when redirects are not followed', () => {
    expect(defaultStatuses(true)).toEqual(['2xx']);
    expect(defaultStatuses(false)).toEqual(['2xx', '3xx']);
  });
});

describe('parseRegexLiteral', () => {
  it('reads /pattern/flags and leaves other text as an exact value', () => {
    expect(parseRegexLiteral('/^v\\d+$/i')?.test('V42')).toBe(true);
    expect(parseRegexLiteral('plain')).toBeUndefined();
    expect(parseRegexLiteral('/')).toBeUndefined();
    expect(parseRegexLiteral('//')).toBeUndefined();
    expect(() => parseRegexLiteral('/(/')).toThrow();
  });
});

describe('checkExpectations', () => {
  it('passes a 2xx answer with no expectations', () => {
    expect(checkExpectations({}, true, answer())).toBeUndefined();
  });

  it('fails an unexpected status, naming the expectation', () => {
    expect(checkExpectations({}, true, answer({ status: 503 }))).toEqual({
      error: 'status',
      detail: 'status 503, expected 2xx',
    });
    expect(checkExpectations({}, false, answer({ status: 302 }))).toBeUndefined();
    expect(checkExpectations({ status: [200, '3xx'] }, true, answer({ status: 201 }))).toEqual({
      error: 'status',
      detail: 'status 201, expected 200, 3xx',
    });
  });

  it('checks headers case-insensitively, exact (trimmed) or by regex, joining repeated ones', () => {
    expect(checkExpectations({ header: { 'X-Config-Version': ' 42 ' } }, true, answer())).toBeUndefined();
    expect(checkExpectations({ header: { 'content-type': '/json/' } }, true, answer())).toBeUndefined();
    expect(checkExpectations({ header: { 'set-cookie': '/a=1, b=2/' } }, true, answer())).toBeUndefined();
    expect(checkExpectations({ header: { 'x-config-version': '41' } }, true, answer())).toEqual({
      error: 'header_mismatch',
      detail: 'header x-config-version is "42", expected "41"',
    });
    expect(checkExpectations({ header: { ETag: '/.+/' } }, true, answer())).toEqual({
      error: 'header_mismatch',
      detail: 'header etag missing, expected /.+/',
    });
  });

  it('checks body_contains and body_regex', () => {
    expect(checkExpectations({ body_contains: '"ok"' }, true, answer())).toBeUndefined();
    expect(checkExpectations({ body_regex: '"version":4\\d' }, true, answer())).toBeUndefined();
    expect(checkExpectations({ body_contains: 'degraded' }, true, answer())).toEqual({
      error: 'body_mismatch',
      detail: 'body does not contain "degraded"',
    });
    expect(checkExpectations({ body_regex: '^<html>' }, true, answer())).toEqual({
      error: 'body_mismatch',
      detail: 'body does not match /^<html>/',
    });
    // No body kept means nothing can match.
    expect(checkExpectations({ body_contains: 'x' }, true, answer({ body: undefined }))?.error).toBe(
      'body_mismatch',
    );
  });

  it('reports latency only when everything else is fine', () => {
    expect(checkExpectations({ max_latency: 100 }, true, answer({ durationMs: 250.4 }))).toEqual({
      error: 'latency',
      detail: 'took 250 ms, max_latency 100 ms',
    });
    expect(checkExpectations({ max_latency: 100 }, true, answer({ durationMs: 99 }))).toBeUndefined();
    expect(
      checkExpectations({ max_latency: 100 }, true, answer({ durationMs: 250, status: 500 }))?.error,
    ).toBe('status');
  });

  it('clips long values in details', () => {
    const long = 'x'.repeat(500);
    const failure = checkExpectations(
      { header: { 'x-long': 'y' } },
      true,
      answer({ headers: { 'x-long': long } }),
    );
    expect(failure?.detail.length).toBeLessThan(200);
  });
});

describe('compileExpectations', () => {
  it('compiles once and gives the same verdict at every check, /g and /y patterns included', () => {
    const compiled = compileExpectations(
      { header: { 'X-Config-Version': '/4/g', 'content-type': '/application/y' }, body_regex: '"ok"' },
      true,
    );
    for (let check = 0; check < 3; check++) expect(checkCompiled(compiled, answer())).toBeUndefined();
    const failing = compileExpectations({ header: { 'x-config-version': '/^41$/g' } }, true);
    for (let check = 0; check < 2; check++) {
      expect(checkCompiled(failing, answer())).toEqual({
        error: 'header_mismatch',
        detail: 'header x-config-version is "42", expected /^41$/g',
      });
    }
  });
});

describe('needsBody', () => {
  it('keeps the body only for body expectations', () => {
    expect(needsBody({})).toBe(false);
    expect(needsBody({ header: { a: 'b' }, max_latency: 5 })).toBe(false);
    expect(needsBody({ body_contains: 'ok' })).toBe(true);
    expect(needsBody({ body_regex: 'ok' })).toBe(true);
  });
});

describe('HttpProbeSpec', () => {
  it('applies the documented defaults', () => {
    const spec = HttpProbeSpec.parse({ url: 'https://api.example.com/health' });
    expect(spec).toEqual({
      url: 'https://api.example.com/health',
      method: 'GET',
      headers: {},
      headers_env: {},
      follow_redirects: true,
      max_body_size: 1_048_576,
      expect: {},
    });
  });

  it('parses expectations, durations and methods', () => {
    const spec = HttpProbeSpec.parse({
      url: 'http://10.0.0.3/health',
      method: 'head',
      address: '[::1]:8443',
      expect: { status: [200, '3xx'], max_latency: '1.5s', header: { server: '/nginx/i' } },
    });
    expect(spec.method).toBe('HEAD');
    expect(spec.expect.max_latency).toBe(1500);
    expect(spec.expect.status).toEqual([200, '3xx']);
  });

  it.each([
    [{ url: 'ftp://example.com/' }, 'url'],
    [{ url: 'not a url' }, 'url'],
    [{ url: 'http://x/', method: 'GET /' }, 'method'],
    [{ url: 'http://x/', address: 'example.com' }, 'address'],
    [{ url: 'http://x/', address: 'example.com:99999' }, 'address'],
    [{ url: 'http://x/', headers: { 'bad header': 'v' } }, 'headers'],
    [{ url: 'http://x/', headers: { ok: 'line\r\nbreak' } }, 'headers'],
    [{ url: 'http://x/', max_body_size: 0 }, 'max_body_size'],
    [{ url: 'http://x/', expect: { status: ['2xy'] } }, 'expect'],
    [{ url: 'http://x/', expect: { status: [700] } }, 'expect'],
    [{ url: 'http://x/', expect: { body_regex: '(' } }, 'expect'],
    [{ url: 'http://x/', expect: { header: { a: '/(/' } } }, 'expect'],
    [{ url: 'http://x/', expect: { max_latency: 'soon' } }, 'expect'],
    [{ url: 'http://x/', expect: { unknown: 1 } }, 'expect'],
    [{ url: 'http://x/', follow: true }, ''],
  ])('rejects %j (at %s)', (raw, path) => {
    const parsed = HttpProbeSpec.safeParse(raw);
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path[0] ?? '').toBe(path);
  });

  it('gives the URL, or the address, as the target', () => {
    expect(httpProbe.targets(HttpProbeSpec.parse({ url: 'https://a.example/' }))).toEqual([
      'https://a.example/',
    ]);
    expect(
      httpProbe.targets(HttpProbeSpec.parse({ url: 'https://a.example/', address: '10.0.0.3:443' })),
    ).toEqual(['10.0.0.3:443']);
    expect(httpProbe.grouping).toBe('each');
    expect(httpProbe.kind).toBe('http');
  });
});
