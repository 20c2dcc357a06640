/**
 * CPU cost of one lb_sync check, probe side: N real HAProxy instances on 127.0.0.2.. (separate
 * processes, so process.cpuUsage() here counts Tocsin's work only), R routes each, checks run one
 * after the other so that each CPU delta belongs to one check.
 *   npm run build && node dist/bench/lb-sync-check-cost.js [--checks 200 --instances 4 --routes 2 --warmup 20]
 * Variants: the S1 setup (https routes, compare status + header + certificate + body hash, version
 * endpoint) and a plain-http one (status + body hash, no version endpoint).
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { createLbSyncProbe, type LbSyncCheckSpec, LbSyncProbeSpec } from '../probes/lb-sync.js';
import { TlsSpec } from '../probes/shared/tls-spec.js';
import { createTestPki } from '../test/helpers/certs.js';
import { type HaproxyFleet, startHaproxyFleet } from '../test/helpers/haproxy.js';
import { checkOptions, numberOption } from './lib/args.js';
import { cpuMsSince, machineLine } from './lib/process-stats.js';
import { fmt, percentile, sortedCopy } from './lib/stats.js';
import { printTable } from './lib/table.js';

const CHECK_TIMEOUT_MS = 5000;

interface Variant {
  readonly name: string;
  readonly spec: LbSyncCheckSpec;
  /** Requests per check: every route through every instance, plus the version endpoints. */
  readonly requests: number;
}

interface Figures {
  readonly cpu: Float64Array;
  readonly wall: Float64Array;
  readonly failed: number;
}

async function measure(variant: Variant, checks: number, warmup: number): Promise<Figures> {
  const probe = createLbSyncProbe();
  const targets = probe.targets(variant.spec);
  const once = () =>
    probe.run(variant.spec, targets, { signal: AbortSignal.timeout(CHECK_TIMEOUT_MS), timeoutMs: CHECK_TIMEOUT_MS });
  for (let i = 0; i < warmup; i++) await once();
  const cpu: number[] = [];
  const wall: number[] = [];
  let failed = 0;
  for (let i = 0; i < checks; i++) {
    const startCpu = process.cpuUsage();
    const started = performance.now();
    const results = await once();
    wall.push(performance.now() - started);
    cpu.push(cpuMsSince(startCpu));
    failed += results.filter((r) => !r.ok).length;
  }
  return { cpu: sortedCopy(cpu), wall: sortedCopy(wall), failed };
}

function mean(values: Float64Array): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

/** The benchmark, callable from bench/run.ts or on its own. */
export async function lbSyncCheckCostBench(args: readonly string[]): Promise<void> {
  checkOptions(args, ['checks', 'instances', 'routes', 'warmup']);
  const checks = Math.round(numberOption(args, 'checks', 200));
  const count = Math.round(numberOption(args, 'instances', 4));
  const routeCount = Math.round(numberOption(args, 'routes', 2));
  const warmup = Math.round(numberOption(args, 'warmup', 20, 0));
  const hosts = Array.from({ length: routeCount }, (_v, i) => `app${i + 1}.example.test`);
  const site = { version: 42, apps: hosts.map((host) => ({ host })) };

  const pki = await createTestPki();
  let https: HaproxyFleet | undefined;
  let plain: HaproxyFleet | undefined;
  try {
    const cert = await pki.issue('site', { dns: hosts });
    https = await startHaproxyFleet({ count, site, tls: cert });
    plain = await startHaproxyFleet({ count, site });
    const instancesOf = (f: HaproxyFleet) => f.instances.map((i) => i.address);
    const variants: Variant[] = [
      {
        name: 'https, 4 compare items, version endpoint',
        requests: count * routeCount + count,
        spec: {
          ...LbSyncProbeSpec.parse({
            instances: instancesOf(https),
            routes: hosts.map((host) => ({ host })),
            compare: ['status', 'header:x-config-version', 'cert_fingerprint', 'body_sha256'],
            version: { url: https.versionUrl, json_path: 'config.version' },
          }),
          id: 'bench-https',
          tls: TlsSpec.parse({ ca: pki.ca.cert }),
        },
      },
      {
        name: 'http, status + body_sha256',
        requests: count * routeCount,
        spec: {
          ...LbSyncProbeSpec.parse({
            instances: instancesOf(plain),
            routes: hosts.map((host) => ({ host, scheme: 'http' })),
          }),
          id: 'bench-http',
        },
      },
    ];

    process.stdout.write(`\n## lb_sync check cost: ${count} instances x ${routeCount} routes, ${checks} checks\n`);
    process.stdout.write(`${machineLine()}\n`);
    const rows: string[][] = [];
    for (const v of variants) {
      const f = await measure(v, checks, warmup);
      rows.push([
        v.name,
        String(v.requests),
        fmt(mean(f.cpu)),
        fmt(percentile(f.cpu, 50)),
        fmt(percentile(f.cpu, 95)),
        fmt(mean(f.cpu) / v.requests, 3),
        fmt(percentile(f.wall, 50)),
        String(f.failed),
      ]);
    }
    printTable(
      ['variant', 'requests/check', 'CPU ms mean', 'CPU ms p50', 'CPU ms p95', 'CPU ms/request', 'wall ms p50', 'failed'],
      rows,
    );
  } finally {
    await Promise.all([https?.close(), plain?.close()]);
    await pki.cleanup();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  lbSyncCheckCostBench(process.argv.slice(2)).then(
    () => undefined,
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
