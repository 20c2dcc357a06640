import { describe, expect, it } from 'vitest';
import { firstRoundMs } from '../../src/cli/start-up-heap.js';

// The old generation's start-up hold lasts the first round of checks (src/cli/start-up-heap.ts).
describe('the first round of checks', () => {
  it('lasts the longest probe interval', () => {
    const probes = [{ intervalMs: 30_000 }, { intervalMs: 60_000 }, { intervalMs: 10_000 }] as never;
    expect(firstRoundMs({ probes })).toBe(60_000);
  });

  it('is bounded, and empty without probes', () => {
    expect(firstRoundMs({ probes: [{ intervalMs: 3_600_000 }] as never })).toBe(600_000);
    expect(firstRoundMs({ probes: [] })).toBe(0);
  });
});
