import { describe, expect, test } from 'vitest';
import { encodeCommand, MAX_BULK, parseReply, RespProtocolError } from '../../probes/storage/resp.js';

const parse = (text: string | Buffer) => parseReply(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);

describe('encodeCommand', () => {
  test('an array of bulk strings', () => {
    expect(encodeCommand(['SET', 'k', 'v', 'PX', '60000']).toString()).toBe(
      '*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nPX\r\n$5\r\n60000\r\n',
    );
    expect(encodeCommand(['AUTH', 'pä']).toString('latin1')).toContain('$3\r\n');
  });
});

describe('parseReply', () => {
  test.each([
    ['+PONG\r\n', { type: 'simple', value: 'PONG' }],
    ['-WRONGPASS invalid username-password pair\r\n', { type: 'error', value: 'WRONGPASS invalid username-password pair' }],
    [':1\r\n', { type: 'integer', value: 1 }],
    [':-3\r\n', { type: 'integer', value: -3 }],
    ['$-1\r\n', { type: 'bulk', value: null }],
    ['*-1\r\n', { type: 'array', value: null }],
  ])('%j', (text, reply) => {
    expect(parse(text)).toEqual({ reply, next: text.length });
  });

  test('bulk strings, binary-safe, and arrays', () => {
    expect(parse('$5\r\na\r\nbc\r\n')).toEqual({ reply: { type: 'bulk', value: Buffer.from('a\r\nbc') }, next: 11 });
    expect(parse('*2\r\n:1\r\n$1\r\nx\r\n')).toEqual({
      reply: {
        type: 'array',
        value: [
          { type: 'integer', value: 1 },
          { type: 'bulk', value: Buffer.from('x') },
        ],
      },
      next: 15,
    });
  });

  test('an incomplete reply is undefined (wait for more bytes), whatever the cut', () => {
    const whole = '*2\r\n+OK\r\n$3\r\nabc\r\n';
    for (let cut = 0; cut < whole.length; cut++) expect(parse(whole.slice(0, cut))).toBeUndefined();
    expect(parse(whole)?.next).toBe(whole.length);
  });

  test('a second reply in the buffer is left for the next call', () => {
    const buf = Buffer.from('+OK\r\n:2\r\n');
    const first = parseReply(buf);
    expect(first?.next).toBe(5);
    expect(parseReply(buf, first?.next)?.reply).toEqual({ type: 'integer', value: 2 });
  });

  test.each([
    ['HTTP/1.1 400 Bad Request\r\n', 'not a RESP reply (first byte 0x48 \'H\')'],
    ['\x00\x01\r\n', 'not a RESP reply (first byte 0x00)'],
    [':12a\r\n', 'malformed integer "12a"'],
    ['$abc\r\n', 'malformed bulk length "abc"'],
    [`$${MAX_BULK + 1}\r\n`, `bulk length ${MAX_BULK + 1} out of range`],
    ['$3\r\nabcXY', 'bulk string not terminated by CRLF'],
    ['*5000\r\n', 'array of 5000 out of range'],
  ])('garbage %j is a protocol error', (text, message) => {
    expect(() => parse(text)).toThrow(new RespProtocolError(message));
  });

  test('a line that never ends is a protocol error once it is too long', () => {
    expect(parse(`+${'x'.repeat(1000)}`)).toBeUndefined();
    expect(() => parse(`+${'x'.repeat(70_000)}`)).toThrow('reply line too long');
  });
});
