/**
 * CPU cost of one HTTP check, client side: axios vs plain `node:http` (both without keep-alive,
 * as a probe must open a fresh connection per check) vs Tocsin's own HTTP probe (`httpProbe.run`,
 * which speaks HTTP/1.1 on its own socket). The target runs in a child process, so process.cpuUsage() here
 * counts the client's work only. `--before PATH` adds the probe of another build (PATH is its
 * checkout, built: PATH/dist/probes/http.js), run in the same rounds, so that a change to the
 * probe is measured against the old code under the same load.
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import axios from 'axios';
import { HttpProbeSpec, httpProbe } from '../probes/http.js';
import { checkOptions, numberOption } from './lib/args.js';
import { textOption } from './lib/options.js';
import { cpuMsSince, machineLine } from './lib/process-stats.js';
import { fmt, fmtInt, percentile, sortedCopy } from './lib/stats.js';
import { printTable } from './lib/table.js';
import { startTarget } from './lib/target.js';

/** One request; resolves to whether it succeeded (a 2xx with its body read). */
type Request = (i: number) => Promise<boolean>;

interface Client {
  readonly name: string;
  readonly request: Request;
}

interface Tally {
  requests: number;
  errors: number;
  cpuMs: number;
  wallMs: number;
  /** CPU-ms per request of each round: the median and the cheapest are the least disturbed by other load. */
  readonly perRound: number[];
}

const CHECK_TIMEOUT_MS = 10_000;

/** Runs `count` requests with `concurrency` in flight; returns the failures. */
async function drive(request: Request, count: number, concurrency: number): Promise<number> {
  let next = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        if (!(await request(i))) errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return errors;
}

/** What the probe client needs of a build's `probes/http.js` (this one's, or another's with `--before`). */
interface ProbeModule {
  readonly HttpProbeSpec: Pick<typeof HttpProbeSpec, 'parse'>;
  readonly httpProbe: Pick<typeof httpProbe, 'run'>;
}

/** The probe as the queue runs it: a spec parsed by the kind's schema, the queue's stop signal. */
function probeClient(name: string, probe: ProbeModule, url: (i: number) => string): Client {
  const specs = new Map<number, HttpProbeSpec>();
  // One stop signal for every check, as the queues hand it: the check's deadline is the probe's own
  // timer (an AbortController and a timer per check here would be a cost the daemon does not pay).
  const ctx = { signal: new AbortController().signal, timeoutMs: CHECK_TIMEOUT_MS };
  // Every check in flight listens to it, as to the queue's (run-check.ts lifts the limit the same way).
  setMaxListeners(0, ctx.signal);
  const request: Request = async (i) => {
    const slot = i % 1024;
    let spec = specs.get(slot);
    if (!spec) {
      spec = probe.HttpProbeSpec.parse({ url: url(slot), expect: { status: ['2xx'] } });
      specs.set(slot, spec);
    }
    const [result] = await probe.httpProbe.run(spec, [spec.url], ctx);
    return result?.ok === true;
  };
  return { name, request };
}

function clients(base: string, before: { readonly path: string; readonly probe: ProbeModule } | undefined): Client[] {
  const url = (i: number): string => `${base}/p/${i}`;

  // Node 20's global agent keeps connections alive; a probe must not, so give axios an agent that does not.
  const ax = axios.create({ httpAgent: new http.Agent({ keepAlive: false }) });
  const viaAxios: Request = async (i) => {
    const res = await ax.get(url(i));
    return res.status >= 200 && res.status < 300;
  };

  const viaNode: Request = (i) =>
    new Promise<boolean>((resolve, reject) => {
      const req = http.get(url(i), { agent: false }, (res) => {
        res.on('data', () => {});
        res.on('error', reject);
        res.on('end', () => resolve((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300));
      });
      req.on('error', reject);
    });

  return [
    { name: 'node:http (agent: false)', request: viaNode },
    { name: 'axios (keepAlive: false)', request: viaAxios },
    probeClient('tocsin httpProbe.run', { HttpProbeSpec, httpProbe }, url),
    ...(before ? [probeClient(`httpProbe.run before (${before.path})`, before.probe, url)] : []),
  ];
}

export async function httpClientBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['requests', 'concurrency', 'rounds', 'warmup', 'before']);
  const total = numberOption(args, 'requests', 3000);
  const concurrency = numberOption(args, 'concurrency', 16);
  const rounds = numberOption(args, 'rounds', 5);
  const warmup = numberOption(args, 'warmup', 500);
  const perRound = Math.ceil(total / rounds);
  const beforePath = textOption(args, 'before');
  const before =
    beforePath === undefined
      ? undefined
      : {
          path: beforePath,
          probe: (await import(pathToFileURL(resolve(beforePath, 'dist/probes/http.js')).href)) as ProbeModule,
        };

  process.stdout.write(
    `\n## http-client: CPU per request, ${perRound * rounds} requests per client in ${rounds} interleaved rounds, concurrency ${concurrency}, no keep-alive\n`,
  );
  process.stdout.write(`${machineLine()}\n`);

  const target = await startTarget(['127.0.0.1']);
  try {
    const [listener] = target.listeners;
    if (!listener) throw new Error('target server has no listener');
    const list = clients(`http://${listener.host}:${listener.port}`, before);
    const tallies = new Map<string, Tally>(
      list.map((c) => [c.name, { requests: 0, errors: 0, cpuMs: 0, wallMs: 0, perRound: [] }]),
    );

    // Warm-up: JIT, module loading and the first connections stay out of the figures.
    for (const c of list) await drive(c.request, warmup, concurrency);

    for (let round = 0; round < rounds; round++) {
      // Rotate the order so that no client always runs first (or right after the same neighbour).
      for (let k = 0; k < list.length; k++) {
        const c = list[(round + k) % list.length];
        if (!c) continue;
        const tally = tallies.get(c.name);
        if (!tally) continue;
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        const errors = await drive(c.request, perRound, concurrency);
        const wallMs = performance.now() - t0;
        const cpuMs = cpuMsSince(cpu);
        tally.requests += perRound;
        tally.errors += errors;
        tally.cpuMs += cpuMs;
        tally.wallMs += wallMs;
        tally.perRound.push(cpuMs / perRound);
      }
    }

    const baseline = tallies.get(list[0]?.name ?? '');
    const basePerReq = baseline ? baseline.cpuMs / baseline.requests : Number.NaN;
    printTable(
      ['client', 'requests', 'errors', 'CPU-ms/req', 'median round', 'best round', 'req/s', 'CPU vs node:http'],
      list.map((c) => {
        const t = tallies.get(c.name) ?? { requests: 0, errors: 0, cpuMs: 0, wallMs: 0, perRound: [] };
        const byRound = sortedCopy(t.perRound);
        const perReq = t.cpuMs / t.requests;
        return [
          c.name,
          fmtInt(t.requests),
          fmtInt(t.errors),
          fmt(perReq, 3),
          fmt(percentile(byRound, 50), 3),
          fmt(byRound[0] ?? Number.NaN, 3),
          fmtInt(t.requests / (t.wallMs / 1000)),
          `${fmt(perReq / basePerReq, 2)}x`,
        ];
      }),
    );
    const ts = await target.stats();
    process.stdout.write(
      `target (child process): ${fmtInt(ts.requests)} requests served, ${fmt(ts.cpuMs / Math.max(1, ts.requests), 3)} CPU-ms/req of its own (not counted above); ` +
        `TIME_WAIT peak server-side ${fmtInt(ts.peak.timeWaitServer)}, client-side ${fmtInt(ts.peak.timeWaitClient)}\n`,
    );
  } finally {
    await target.stop();
  }
}
