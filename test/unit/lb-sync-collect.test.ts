import { describe, expect, it } from 'vitest';
import { limiter } from '../../probes/lb-sync/collect.js';

describe('limiter (requests in flight per check)', () => {
  it('never runs more than its limit at once, and runs every task in order of arrival', async () => {
    const limit = limiter(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const tasks = Array.from({ length: 10 }, (_v, i) =>
      limit(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return i;
      }),
    );
    // Release tasks one at a time; a task arriving meanwhile must queue behind the waiting ones.
    const late = limit(async () => {
      started.push(99);
      return 99;
    });
    for (let released = 0; released < 10; released++) {
      await new Promise((r) => setImmediate(r));
      gates.shift()?.();
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(await late).toBe(99);
    expect(peak).toBe(3);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 99]);
  });
});
