import { describe, expect, it } from 'vitest';
import { requestHead, USER_AGENT } from '../../probes/http/exchange.js';
import {
  HttpParseError,
  MAX_HEAD_BYTES,
  type ResponseHead,
  ResponseParser,
} from '../../probes/http/response-parser.js';

interface Read {
  head?: ResponseHead;
  body: string;
  complete: boolean;
  /** Whether the response was whole when the peer closed (after every byte was pushed). */
  whole?: boolean;
}

/**
 * Feeds `wire` to a parser in pieces of `step` bytes (every split point is exercised by the
 * callers that loop over steps), then closes when `close` is set.
 */
function read(wire: string, opts: { step?: number; head?: boolean; close?: boolean } = {}): Read {
  const out: Read = { body: '', complete: false };
  const parser = new ResponseParser(opts.head ?? false, {
    head: (head) => {
      out.head = head;
      return true;
    },
    body: (chunk) => {
      out.body += chunk.toString('latin1');
      return true;
    },
    complete: () => {
      out.complete = true;
    },
  });
  const bytes = Buffer.from(wire, 'latin1');
  const step = opts.step ?? bytes.length;
  for (let at = 0; at < bytes.length; at += step) parser.push(bytes.subarray(at, at + step));
  if (opts.close) out.whole = parser.end();
  return out;
}

function parseError(wire: string): HttpParseError {
  try {
    read(wire, { close: true });
  } catch (err) {
    if (err instanceof HttpParseError) return err;
    throw err;
  }
  throw new Error('expected an HttpParseError');
}

describe('ResponseParser', () => {
  const fixed = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world';
  const chunked =
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n';

  it('reads a Content-Length body, whatever the split of the bytes', () => {
    for (let step = 1; step <= fixed.length; step++) {
      const got = read(fixed, { step });
      expect(got).toMatchObject({ body: 'hello world', complete: true });
      expect(got.head).toEqual({
        status: 200,
        httpVersion: '1.1',
        headers: { 'content-type': 'text/plain', 'content-length': '11' },
      });
    }
  });

  it('decodes a chunked body with extensions and trailers, whatever the split', () => {
    for (let step = 1; step <= chunked.length; step++) {
      const got = read(chunked, { step });
      expect(got).toMatchObject({ body: 'hello world', complete: true });
      // Trailer fields are not headers.
      expect(got.head?.headers['x-trailer']).toBeUndefined();
    }
  });

  it('is not complete until the last chunk and its trailer section', () => {
    expect(read(chunked.slice(0, -2), { close: true })).toMatchObject({ complete: false, whole: false });
  });

  it('reads a body without framing to the close', () => {
    const got = read('HTTP/1.0 200 OK\r\n\r\nuntil the end', { close: true });
    expect(got).toMatchObject({ body: 'until the end', complete: true, whole: true });
    expect(got.head?.httpVersion).toBe('1.0');
  });

  it('reports a Content-Length body cut short as not whole', () => {
    expect(read(fixed.slice(0, -3), { close: true })).toMatchObject({
      body: 'hello wo',
      complete: false,
      whole: false,
    });
  });

  it('gives HEAD, 204 and 304 answers no body, whatever they declare', () => {
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n', { head: true })).toMatchObject({
      complete: true,
      body: '',
    });
    for (const status of [204, 304]) {
      expect(read(`HTTP/1.1 ${status} X\r\nContent-Length: 9\r\n\r\n`)).toMatchObject({ complete: true });
    }
  });

  it('skips interim 1xx answers and reads the final one', () => {
    const got = read(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n${fixed}`);
    expect(got.head?.status).toBe(200);
    expect(got.head?.headers.link).toBeUndefined();
    expect(got).toMatchObject({ body: 'hello world', complete: true });
  });

  it('lets Transfer-Encoding win over Content-Length, and a non-chunked coding run to the close', () => {
    const both = 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    expect(read(both)).toMatchObject({ body: 'hello', complete: true });
    const gzip = read('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\nabc', { close: true });
    expect(gzip).toMatchObject({ body: 'abc', whole: true });
  });

  it('builds the header object as node:http does', () => {
    const got = read(
      'HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nVary: a\r\nVary:  b \r\n' +
        'ETag: "1"\r\nETag: "2"\r\nCookie: x\r\nCookie: y\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n',
    );
    expect(got.head?.headers).toEqual({
      'set-cookie': ['a=1', 'b=2'],
      vary: 'a, b',
      etag: '"1"',
      cookie: 'x; y',
      'x-empty': '',
      'content-length': '0',
    });
  });

  it('accepts bare LF line ends and a status line without a reason', () => {
    expect(read('HTTP/1.1 200\nContent-Length: 2\n\nok')).toMatchObject({ body: 'ok', complete: true });
  });

  it('hands the sink no more once it says stop', () => {
    let bodies = 0;
    const parser = new ResponseParser(false, {
      head: () => true,
      body: () => {
        bodies++;
        return false;
      },
      complete: () => {
        throw new Error('not complete');
      },
    });
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    parser.push(Buffer.from('defghij'));
    expect(bodies).toBe(1);
    expect(parser.done).toBe(true);
  });

  it('declares the length of a body only while one is due', () => {
    const lengths: (number | undefined)[] = [];
    for (const [wire, head] of [
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', false],
      ['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', true],
      ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 10\r\n\r\n', false],
    ] as const) {
      const parser: ResponseParser = new ResponseParser(head, {
        head: () => {
          lengths.push(parser.declaredLength);
          return true;
        },
        body: () => true,
        complete: () => undefined,
      });
      parser.push(Buffer.from(wire));
    }
    expect(lengths).toEqual([10, undefined, undefined]);
  });

  it('refuses what is not HTTP/1.x, naming it as llhttp did', () => {
    expect(parseError('SSH-2.0-OpenSSH_9.6\r\n').code).toBe('HPE_INVALID_CONSTANT');
    expect(parseError('HTTP/1.1 2000 OK\r\n\r\n').code).toBe('HPE_INVALID_STATUS');
    expect(parseError('HTTP/2.0 200 OK\r\n\r\n').code).toBe('HPE_INVALID_VERSION');
    expect(parseError('HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n').code).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(parseError('HTTP/1.1 200 OK\r\nA: b\r\n folded\r\n\r\n').code).toBe('HPE_INVALID_HEADER_TOKEN');
    expect(parseError('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n').code).toBe(
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    );
    expect(parseError('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n').code).toBe('HPE_INVALID_CONTENT_LENGTH');
    expect(parseError('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n').code).toBe(
      'HPE_INVALID_CHUNK_SIZE',
    );
    expect(parseError('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n').code).toBe('HPE_STRICT');
  });

  it('counts a long header line that arrives a byte at a time once toward the cap', () => {
    const long = `HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(MAX_HEAD_BYTES - 100)}\r\nContent-Length: 2\r\n\r\nok`;
    const got = read(long, { step: 1 });
    expect(got).toMatchObject({ body: 'ok', complete: true });
    expect(got.head?.headers['x-long']).toHaveLength(MAX_HEAD_BYTES - 100);
  });

  it('holds no more than the cap of a head that never ends, nor of a chunk-size line', () => {
    const endless = `HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(MAX_HEAD_BYTES)}`;
    for (const step of [1000, MAX_HEAD_BYTES * 2]) {
      expect(() => read(endless, { step })).toThrow(expect.objectContaining({ code: 'HPE_HEADER_OVERFLOW' }));
    }
    const manyLines = `HTTP/1.1 200 OK\r\n${'X-A: b\r\n'.repeat(MAX_HEAD_BYTES / 8)}\r\n`;
    expect(() => read(manyLines, { step: 64 })).toThrow(expect.objectContaining({ code: 'HPE_HEADER_OVERFLOW' }));
    const longChunkLine = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;${'e'.repeat(2000)}`;
    expect(() => read(longChunkLine, { step: 100 })).toThrow(
      expect.objectContaining({ code: 'HPE_INVALID_CHUNK_SIZE' }),
    );
  });
});

describe('requestHead', () => {
  const url = new URL('http://example.test:8080/path?q=1');

  it('writes the request line, User-Agent, Host, the probe headers and Connection: close', () => {
    expect(requestHead({ url, method: 'GET', headers: { 'x-a': 'b' } })).toBe(
      `GET /path?q=1 HTTP/1.1\r\nuser-agent: ${USER_AGENT}\r\nhost: example.test:8080\r\nx-a: b\r\nconnection: close\r\n\r\n`,
    );
  });

  it('lets the probe override Host and User-Agent in place, and declares the body length in bytes', () => {
    expect(
      requestHead({ url, method: 'POST', headers: { host: 'site', 'user-agent': 'me/1' }, body: 'é' }),
    ).toBe('POST /path?q=1 HTTP/1.1\r\nuser-agent: me/1\r\nhost: site\r\ncontent-length: 2\r\nconnection: close\r\n\r\n');
    expect(requestHead({ url, method: 'PUT', headers: {} })).toContain('content-length: 0\r\n');
    expect(requestHead({ url, method: 'DELETE', headers: {} })).not.toContain('content-length');
  });

  it('refuses a header value that could split the request, without showing it', () => {
    const failure = requestHead({ url, method: 'GET', headers: { authorization: 'secret\r\nX-Evil: 1' } });
    expect(failure).toEqual({
      error: 'internal',
      detail:
        'header authorization holds a character HTTP does not allow (a control character such as CR or LF, or one outside Latin-1)',
    });
  });
});
