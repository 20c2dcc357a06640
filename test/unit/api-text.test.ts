import { describe, expect, it } from 'vitest';
import { DismissBody, IncidentListQuery, IncidentPartQuery, NoteBody, parseWith, textProblem } from '../../src/api/schemas.js';

describe('operator text hygiene', () => {
  it('accepts ordinary text, line breaks (LF and CRLF), tabs, emoji and joiners', () => {
    for (const text of ['planned failover', 'line one\nline two', 'a\r\nb', 'col\tcol', 'é — 中文 👨‍👩‍👧 🇫🇷', 'می‌خواهم']) {
      expect(textProblem(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('refuses C0, DEL and C1 controls, a lone CR, bidi overrides and isolates, invisible marks and lone surrogates', () => {
    const cases: [string, string][] = [
      ['hi \u001b[31m', 'U+001B at 3'],
      ['\u0000', 'U+0000 at 0'],
      ['a\rb', 'U+000D at 1'],
      ['x\u007f', 'U+007F at 1'],
      ['x\u009b2J', 'U+009B at 1'],
      ['abc\u202egnp.exe', 'U+202E at 3'],
      ['\u202a', 'U+202A at 0'],
      ['\u2066x\u2069', 'U+2066 at 0'],
      ['\u2069', 'U+2069 at 0'],
      ['zero\u200bwidth', 'U+200B at 4'],
      ['\ufeffbom', 'U+FEFF at 0'],
      ['a\u2028b', 'U+2028 at 1'],
      ['👍👍\u202e', 'U+202E at 2'], // positions count characters, not UTF-16 units
      ['a\ud800', 'U+D800 at 1'],
    ];
    for (const [text, where] of cases) {
      expect(textProblem(text), JSON.stringify(text)).toBe(`control characters are not allowed (${where})`);
    }
  });

  it('is applied by every text field of the verbs, naming the field (after trimming)', () => {
    expect(parseWith(NoteBody, { text: '  hi \u001b[31m' }, 'body')).toEqual({
      ok: false,
      message: 'text: control characters are not allowed (U+001B at 3)',
    });
    expect(parseWith(DismissBody, { reason: 'x\u202e' }, 'body')).toEqual({
      ok: false,
      message: 'reason: control characters are not allowed (U+202E at 1)',
    });
    expect(parseWith(NoteBody, { text: ' two\nlines ' }, 'body')).toEqual({ ok: true, value: { text: 'two\nlines' } });
  });
});

describe('numeric query parameters', () => {
  it('accept plain decimal integers only, naming the field', () => {
    for (const limit of ['1e2', '10.0', ' 5', '5 ', '', '0x0a', '+5', '-1', ['1', '2']]) {
      expect(parseWith(IncidentListQuery, { limit }, 'query'), JSON.stringify(limit)).toEqual({
        ok: false,
        message: 'limit: expected an integer',
      });
    }
    expect(parseWith(IncidentListQuery, { limit: '501' }, 'query')).toEqual({ ok: false, message: 'limit: must be at most 500' });
    expect(parseWith(IncidentListQuery, { limit: '0' }, 'query')).toEqual({ ok: false, message: 'limit: must be at least 1' });
    expect(parseWith(IncidentListQuery, { limit: '99999999999999999999' }, 'query').ok).toBe(false);
    expect(parseWith(IncidentPartQuery, { limit: '1e2' }, 'query')).toEqual({ ok: false, message: 'limit: expected an integer' });
    expect(parseWith(IncidentListQuery, { components: '1e2' }, 'query')).toMatchObject({ ok: false, message: expect.stringMatching(/^components: /) });
    expect(parseWith(IncidentListQuery, { signals: '10.0' }, 'query')).toMatchObject({ ok: false, message: expect.stringMatching(/^signals: /) });
  });

  it('still default and parse', () => {
    expect(parseWith(IncidentListQuery, {}, 'query')).toMatchObject({ ok: true, value: { limit: 50 } });
    expect(parseWith(IncidentListQuery, { limit: '007' }, 'query')).toMatchObject({ ok: true, value: { limit: 7 } });
    expect(parseWith(IncidentPartQuery, {}, 'query')).toMatchObject({ ok: true, value: { limit: 100 } });
    expect(parseWith(IncidentPartQuery, { limit: '1000' }, 'query')).toMatchObject({ ok: true, value: { limit: 1000 } });
  });
});
