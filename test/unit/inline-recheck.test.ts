import { describe, expect, it } from 'vitest';
import type { ProbeKind } from '../../probes/probe.js';
import type { ProbeResult } from '../../src/events/probe-result.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics/registry.js';
import { InlineQueue } from '../../src/queue/inline.js';
import { ResultsBus } from '../../src/results/bus.js';
import { phaseOffset } from '../../src/schedule/phase.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { makePlan } from '../helpers/plan.js';

const tick = () => new Promise((r) => setImmediate(r));

/** A probe kind answering at once, up or down as the test says. */
function switchKind() {
  const state = { up: true };
  const kind: ProbeKind = {
    kind: 'fake',
    shape: {},
    grouping: 'each',
    targets: () => [],
    run: async (_spec, targets, ctx) => {
      // A `slow` target answers only when aborted (at queue.stop).
      if (targets[0] === 'slow') {
        await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r()));
      }
      return targets.map((target) =>
        state.up ? { target, ok: true, duration_ms: 1 } : { target, ok: false, error: 'connect_refused' as const },
      );
    },
  };
  return { kind, state };
}

function setup(probes: Parameters<typeof makePlan>[0], concurrency = 16) {
  const clock = new FakeClock(0);
  const bus = new ResultsBus();
  const results: ProbeResult[] = [];
  bus.subscribe((r) => results.push(r));
  const metrics = createMetrics({ version: 'test', processMetrics: false });
  const { kind, state } = switchKind();
  const queue = new InlineQueue({ kinds: { fake: kind }, bus, metrics, clock, logger: createLogger('silent'), vantage: 'local', concurrency });
  /** Moves time on in 100 ms steps, letting checks end between them. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 100) {
      clock.advance(100);
      await tick();
    }
  };
  const counts = async () => {
    const out: Record<string, number> = {};
    for (const v of (await metrics.rechecks.get()).values) out[`${v.labels.probe}/${v.labels.result}`] = v.value;
    return out;
  };
  return { clock, queue, results, state, run, counts, plan: makePlan(probes) };
}

const recheck = { intervalMs: 2000, max: 5 };
const at = (r: ProbeResult) => Date.parse(r.at);

describe('InlineQueue re-checks', () => {
  it('re-checks a failure every 2s until 3 in a row, and a recovery until 2 healthy checks', async () => {
    const { queue, results, state, run, counts, plan } = setup([{ intervalMs: 30_000, timeoutMs: 1000, recheck }]);
    await queue.sync(plan);
    await queue.start();
    await run(30_000);
    expect(results).toHaveLength(1);
    const first = at(results[0] as ProbeResult);
    state.up = false;
    await run(30_000);
    // The regular check at first + 30s fails; re-checks 2s and 4s later make three.
    const failing = results.slice(1).map((r) => [at(r) - first, r.ok]);
    expect(failing).toEqual([
      [30_000, false],
      [32_000, false],
      [34_000, false],
    ]);
    // Down for three more regular checks: six failed checks in a row, a solid failure (a shorter
    // one would recover at the regular interval, see recheck.test.ts).
    await run(90_000);
    expect(results).toHaveLength(7);
    state.up = true;
    await run(30_000);
    expect(results.slice(7).map((r) => [at(r) - first, r.ok])).toEqual([
      [150_000, true],
      [152_000, true],
    ]);
    expect(await counts()).toEqual({ 'p0/failed': 2, 'p0/ok': 1 });
    await queue.stop(0);
  });

  it('a blip costs one re-check, then the probe is back on its interval', async () => {
    const { queue, results, state, run, plan } = setup([{ intervalMs: 30_000, timeoutMs: 1000, recheck }]);
    await queue.sync(plan);
    await queue.start();
    state.up = false;
    for (let i = 0; i < 400 && results.length === 0; i++) await run(100);
    state.up = true;
    await run(60_000);
    const first = at(results[0] as ProbeResult);
    expect(results.map((r) => [at(r) - first, r.ok])).toEqual([
      [0, false],
      [2000, true],
      [30_000, true],
      [60_000, true],
    ]);
    await queue.stop(0);
  });

  it('without recheck, a failing probe keeps its interval', async () => {
    const { queue, results, state, run, counts, plan } = setup([{ intervalMs: 30_000, timeoutMs: 1000 }]);
    state.up = false;
    await queue.sync(plan);
    await queue.start();
    await run(90_000);
    const first = at(results[0] as ProbeResult);
    expect(results.map((r) => at(r) - first)).toEqual([0, 30_000, 60_000]);
    expect(await counts()).toEqual({});
    await queue.stop(0);
  });

  it('skips and counts a re-check whose time comes while the pool is full', async () => {
    // One check at a time. A probe `slow` whose slot comes between p0's failure and its re-check
    // holds the only slot: the re-check is skipped, not queued behind it.
    const slot = (id: string, target: string) => phaseOffset(`${id}\u0000${target}\u0000local`, 30_000);
    const p0 = slot('p0', 't0');
    let id = 0;
    while (!(slot(`q${id}`, 'slow') - p0 > 1000 && slot(`q${id}`, 'slow') - p0 < 24_000)) id++;
    const { queue, results, state, run, counts, plan } = setup(
      [
        { id: 'p0', targets: ['t0'], intervalMs: 30_000, timeoutMs: 1000, recheck: { intervalMs: 25_000, max: 5 } },
        { id: `q${id}`, targets: ['slow'], intervalMs: 30_000, timeoutMs: 20_000 },
      ],
      1,
    );
    state.up = false;
    await queue.sync(plan);
    await queue.start();
    await run(p0 + 25_000 + 1000);
    expect(results.map((r) => r.probe)).toEqual(['p0']);
    expect(await counts()).toEqual({ 'p0/skipped': 1 });
    await queue.stop(0);
  });
});
