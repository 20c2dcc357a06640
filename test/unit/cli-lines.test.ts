import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { lineBatches } from '../../src/cli/lines.js';

async function linesOf(chunks: string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const batch of lineBatches(Readable.from(chunks.map((c) => Buffer.from(c))))) out.push(...batch);
  return out;
}

describe('lineBatches', () => {
  it('splits on \\n and \\r\\n, across chunk boundaries, keeping empty lines and a last line without a newline', async () => {
    expect(await linesOf(['{"a":1}\n{"b"', ':2}\r\n\n', '{"c":3}\r', '\n{"d":4}'])).toEqual(['{"a":1}', '{"b":2}', '', '{"c":3}', '{"d":4}']);
  });

  it('gives nothing for an empty stream and one line for a file without a newline', async () => {
    expect(await linesOf([])).toEqual([]);
    expect(await linesOf(['only'])).toEqual(['only']);
    expect(await linesOf(['last\r'])).toEqual(['last']);
  });

  it('does not split a multi-byte character cut between chunks', async () => {
    const text = 'é\n';
    const bytes = Buffer.from(text);
    const out: string[] = [];
    for await (const batch of lineBatches(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))) out.push(...batch);
    expect(out).toEqual(['é']);
  });
});
