/**
 * Runs the benchmarks: all of them in sequence, or the one named first, with its options.
 *   node dist/bench/run.js                          # every benchmark, default options
 *   node dist/bench/run.js scale --probes 50000     # one benchmark with options
 * Benchmarks print figures; they assert nothing (tests never measure speed).
 */
import { alertBurstBench } from './alert-burst.js';
import { blackboxBench } from './blackbox.js';
import { detectionBench } from './detection.js';
import { engineBench } from './engine.js';
import { fleetBench } from './fleet.js';
import { heapSummaryBench } from './heap-summary.js';
import { idleBench } from './idle.js';
import { httpClientBench } from './http-client.js';
import { lbSyncCheckCostBench } from './lb-sync-check-cost.js';
import { noiseBench } from './noise.js';
import { fleetOutageBench } from './fleet-outage.js';
import { reliabilityBench } from './reliability.js';
import { replayBench } from './replay.js';
import { UsageError } from './lib/args.js';
import { scaleBench } from './scale.js';
import { stormBench } from './storm.js';
import { storageCheckCostBench } from './storage-check-cost.js';
import { tlsCheckCostBench } from './tls-check-cost.js';

interface Benchmark {
  readonly name: string;
  readonly about: string;
  readonly run: (args: readonly string[]) => Promise<void>;
  /** A tool run on a file, not a measurement: left out of the run of every benchmark. */
  readonly tool?: true;
}

const BENCHMARKS: readonly Benchmark[] = [
  {
    name: 'http-client',
    about:
      'CPU-ms per request: axios vs node:http vs the http probe (--requests 3000 --concurrency 16 --rounds 5 --warmup 500 --before PATH)',
    run: httpClientBench,
  },
  {
    name: 'scale',
    about:
      'N http probes through the inline queue (--probes 10000 --interval 30 --seconds 150 --concurrency 256 --addresses 8 --scrape 0 --heap-snapshot FILE)',
    run: scaleBench,
  },
  {
    name: 'tls-cost',
    about: 'CPU-ms per tls check vs a bare tls.connect, RSA 2048 / RSA 4096 / EC P-256 (--checks 500 --rounds 10 --warmup 50 --before PATH)',
    run: tlsCheckCostBench,
  },
  { name: 'lb-sync-cost', about: 'CPU-ms per lb_sync check: 4 HAProxy instances x 2 routes', run: lbSyncCheckCostBench },
  { name: 'storage-cost', about: 'CPU-ms per storage check: s3 (s3rver), redis, tcp', run: storageCheckCostBench },
  { name: 'engine', about: 'rules engine events/s and memory per series (--events 1000000 --series 10000 --failing 0.02)', run: engineBench },
  {
    name: 'blackbox',
    about: 'CPU-s per 1,000 probes: tocsin run vs prometheus-blackbox-exporter, HTTP and TLS (--targets 100 --interval 1 --seconds 45)',
    run: async (a) => {
      await blackboxBench(a);
    },
  },
  {
    name: 'detection',
    about:
      'fault → draft in the API: stopped target, LB left on old config, slow storage (--runs 20 --interval 1; --timeout S, --max-lag S; --recheck S: with and without re-checks side by side)',
    run: async (a) => {
      await detectionBench(a);
    },
  },
  {
    name: 'noise',
    about:
      'notifications, incidents, root, time to notify: Prometheus+Blackbox+Alertmanager vs Tocsin fleet (--fault 120; --recheck S, 0: no re-checks)',
    run: async (a) => {
      await noiseBench(a);
    },
  },
  {
    name: 'fleet',
    about: 'checks/s through BullMQ with 1 and 2 workers vs inline (--probes 2000 --interval 1 --seconds 15)',
    run: fleetBench,
  },
  {
    name: 'replay',
    about:
      'tocsin replay as a child process: 1M mixed events, zone storms vs healthy (--events 1000000 --probes 1000 --storms 100,300,1000,10000 --timeout 600 --quick)',
    run: replayBench,
  },
  {
    name: 'storm',
    about:
      'tocsin run while every app of a zone fails: /healthz and list latency, fault → draft, RSS (--probes 1000 --interval 30 --fault 503 --after 3.5 --quick)',
    run: stormBench,
  },
  {
    name: 'reliability',
    about:
      'notes lost or applied wrongly across kill -9 and Redis restarts, start-up with open incidents (--rounds 20 --redis-rounds 10 --redis-signal SIGTERM --incidents 1000 --writers 3 --seed N)',
    run: reliabilityBench,
  },
  {
    name: 'fleet-outage',
    about:
      'checks lost/duplicated/late and time to a draft across a Redis outage, then the chaos run (--probes 500 --interval 1 --outage 10 --fault-after 2 --before PATH --chaos 1)',
    run: fleetOutageBench,
  },
  {
    name: 'idle',
    about: 'RSS of an idle `tocsin run` with config/tocsin.yml (--runs 3 --settle 15 --before PATH --heap-snapshot DIR)',
    run: idleBench,
  },
  {
    name: 'heap-summary',
    about: 'shallow bytes per constructor of a .heapsnapshot (FILE --top 25); run node with --max-old-space-size=8000',
    run: heapSummaryBench,
    tool: true,
  },
  { name: 'alert-burst', about: 'Alertmanager webhooks of N alerts on one component: answer, /healthz, RSS (--sizes 1000,3000,10000 --rounds 3)', run: alertBurstBench },
];

function usage(): string {
  return [
    'usage: node dist/bench/run.js [NAME [OPTIONS]]',
    ...BENCHMARKS.map((b) => `  ${b.name.padEnd(12)} ${b.about}`),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === '--help' || name === '-h') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const chosen = name === undefined ? BENCHMARKS.filter((b) => !b.tool) : BENCHMARKS.filter((b) => b.name === name);
  if (chosen.length === 0) {
    process.stderr.write(`unknown benchmark "${name}"\n${usage()}\n`);
    return 2;
  }
  process.stdout.write(`# tocsin benchmarks, ${new Date().toISOString()}\n`);
  for (const b of chosen) await b.run(name === undefined ? [] : args);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${usage()}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  },
);
