/**
 * Throughput and memory of the rules engine, in process: generated probe-result events over
 * S series (probe × target × vantage) through `tick` + `ingest`, as `tocsin replay` drives it.
 *   npm run build && node dist/bench/engine.js [--events 1000000 --series 10000 --failing 0.02]
 * Each round every series reports once (10 vantages spread over 3 seconds of each 30s round);
 * a share of the probes fails for a stretch, so signals, correlation and incidents are exercised
 * too. Event generation is outside the timed section. Prints events/s, peak RSS and the retained
 * heap after the run against a run with a tenth of the series (memory follows series, not events).
 */
import { pathToFileURL } from 'node:url';
import { defaultPackRules } from '../src/config/pack.js';
import type { Plan, ProbePlan } from '../src/config/plan.js';
import { createEngine } from '../src/engine/engine.js';
import { rulesForPlan } from '../src/engine/pack.js';
import type { ProbeResult } from '../src/events/probe-result.js';
import { checkOptions, numberOption } from './lib/args.js';
import { machineLine, maxRssMB, retainedHeapMB } from './lib/process-stats.js';

const TARGETS = 2;
const VANTAGES = 5;
const INTERVAL_MS = 30_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function makePlan(series: number): Plan {
  const probesCount = Math.max(1, Math.round(series / (TARGETS * VANTAGES)));
  const vantages = Array.from({ length: VANTAGES }, (_, i) => `v${i}`);
  const src = { file: 'bench', line: 1 };
  const components = [
    ...Array.from({ length: 10 }, (_, h) => ({ id: `hv${h}`, name: `HV ${h}`, group: 'Infra', depends_on: [], source: src })),
    ...Array.from({ length: Math.ceil(probesCount / 10) }, (_, c) => ({
      id: `c${c}`,
      name: `Component ${c}`,
      group: 'Apps',
      region: 'PAR',
      depends_on: [`hv${c % 10}`],
      source: src,
    })),
  ];
  const probes: ProbePlan[] = Array.from({ length: probesCount }, (_, p) => ({
    id: `p${p}`,
    kind: 'http',
    component: `c${Math.floor(p / 10)}`,
    intervalMs: INTERVAL_MS,
    timeoutMs: 5000,
    vantages,
    labels: {},
    targets: Array.from({ length: TARGETS }, (_, t) => `p${p}-t${t}`),
    spec: {},
    source: src,
  }));
  return {
    file: 'bench',
    server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [] },
    store: { kind: 'sqlite', path: ':memory:' },
    queue: { kind: 'inline', concurrency: 1 },
    vantage: 'v0',
    vantages,
    components,
    probes,
    rules: defaultPackRules(),
    maintenance: [],
    notifiers: [],
  };
}

/** One round of events: every series once; probes in the failing share fail for rounds 20–60. */
function round(plan: Plan, k: number, failing: number): ProbeResult[] {
  const out: ProbeResult[] = [];
  const failEvery = failing > 0 ? Math.round(1 / failing) : 0;
  plan.probes.forEach((p, pi) => {
    const down = failEvery > 0 && pi % failEvery === 0 && k >= 20 && k < 60;
    p.vantages.forEach((vantage, vi) => {
      const at = new Date(T0 + k * INTERVAL_MS + vi * 600).toISOString();
      for (const target of p.targets) {
        out.push(
          down
            ? { at, probe: p.id, target, vantage, ok: false, error: 'timeout', detail: 'connect timeout', duration_ms: 5000 }
            : { at, probe: p.id, target, vantage, ok: true, duration_ms: 12 },
        );
      }
    });
  });
  // Time order, as a replay file has it.
  return out.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}

function runOnce(events: number, series: number, failing: number) {
  const plan = makePlan(series);
  const engine = createEngine({ plan, rules: rulesForPlan(plan) });
  const perRound = plan.probes.length * TARGETS * VANTAGES;
  let fed = 0;
  let ns = 0n;
  let opened = 0;
  let changes = 0;
  for (let k = 0; fed < events; k++) {
    const batch = round(plan, k, failing).slice(0, events - fed);
    const start = process.hrtime.bigint();
    for (const e of batch) {
      for (const c of engine.tick(Date.parse(e.at))) {
        changes++;
        if (c.opened) opened++;
      }
      for (const c of engine.ingest(e)) {
        changes++;
        if (c.opened) opened++;
      }
    }
    ns += process.hrtime.bigint() - start;
    fed += batch.length;
  }
  changes += engine.flush().length;
  const seconds = Number(ns) / 1e9;
  const snapshotBytes = JSON.stringify(engine.snapshot()).length;
  return { plan, perRound, seconds, opened, changes, snapshotBytes, engine };
}

export async function engineBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['events', 'series', 'failing']);
  const events = numberOption(args, 'events', 1_000_000);
  const series = numberOption(args, 'series', 10_000);
  const failing = numberOption(args, 'failing', 0.02, 0);
  console.log(machineLine());

  const small = runOnce(Math.round(events / 10), Math.round(series / 10), failing);
  const smallHeap = retainedHeapMB();
  const smallKeep = small.engine.now();
  const big = runOnce(events, series, failing);
  const bigHeap = retainedHeapMB();
  // Keep both engines reachable until their heaps were measured.
  if (smallKeep > big.engine.now()) console.log('');
  console.log(
    `rules engine: ${events.toLocaleString('en')} events over ${(big.perRound).toLocaleString('en')} series ` +
      `(${big.plan.probes.length} probes × ${TARGETS} targets × ${VANTAGES} vantages), ${failing * 100}% of probes failing for 40 rounds`,
  );
  console.log(`  throughput: ${Math.round(events / big.seconds).toLocaleString('en')} events/s (${big.seconds.toFixed(2)} s engine time, one core)`);
  console.log(`  incidents opened: ${big.opened}, incident changes: ${big.changes}`);
  console.log(`  peak RSS: ${maxRssMB().toFixed(0)} MB; snapshot: ${(big.snapshotBytes / 1e6).toFixed(1)} MB`);
  console.log(
    `  retained heap with both engines alive: ${bigHeap.toFixed(0)} MB; with the ${small.perRound.toLocaleString('en')}-series engine alone: ${smallHeap.toFixed(0)} MB ` +
      `(${small.perRound.toLocaleString('en')} series: ${Math.round(events / 10).toLocaleString('en')} events at ${Math.round(events / 10 / small.seconds).toLocaleString('en')} events/s)`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  engineBench(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
