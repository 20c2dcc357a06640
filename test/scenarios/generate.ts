// Writes the events.jsonl of every scenario fixture (SCENARIOS.md S1–S13). The files are checked
// in; after changing a scenario here, rerun from the repository root:
//   npm run build && node dist/test/scenarios/generate.js
// Deterministic: the same files every time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeResult } from '../../src/events/probe-result.js';

type Fields = Partial<Omit<ProbeResult, 'at' | 'probe' | 'vantage' | 'target'>> & { ok: boolean };
type Outcome = (i: number, vantage: string, target: string | undefined, t: number) => Fields;

// Run from the repository root (the built copy lives in dist/, the fixtures do not).
const here = join(process.cwd(), 'test', 'scenarios');
const T0 = Date.parse('2023-11-24T09:00:00Z');
const S = 1000;

/**
 * Checks of one probe: `count` rounds every `interval` from `start`, one event per vantage and
 * target; `outcome(i, vantage, target, t)` returns the result fields (default ok).
 */
function checks({
  probe,
  start,
  interval,
  count,
  vantages = ['local'],
  targets = [undefined],
  outcome,
  jitter = 0,
}: {
  probe: string;
  start: number;
  interval: number;
  count: number;
  vantages?: string[];
  targets?: (string | undefined)[];
  outcome?: Outcome;
  jitter?: number;
}): ProbeResult[] {
  const out: ProbeResult[] = [];
  for (let i = 0; i < count; i++) {
    vantages.forEach((vantage, vi) => {
      for (const target of targets) {
        const t = start + i * interval + vi * jitter;
        const r = outcome?.(i, vantage, target, t) ?? { ok: true };
        out.push({
          at: new Date(t).toISOString(),
          probe,
          ...(target === undefined ? {} : { target }),
          vantage,
          duration_ms: r.ok ? 40 : 2000,
          ...r,
        });
      }
    });
  }
  return out;
}

const down = (error: NonNullable<ProbeResult['error']>, detail: string): Fields => ({ ok: false, error, detail });

function write(dir: string, events: ProbeResult[]): void {
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  writeFileSync(join(here, dir, 'events.jsonl'), `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
}

// S1: 1 of 4 load balancers stops taking config updates for ~3 min past max_lag, then resyncs.
{
  const lbs = ['127.0.0.1:8443', '127.0.0.2:8443', '127.0.0.3:8443', '127.0.0.4:8443'];
  write('s01-lb-desync', checks({
    probe: 'lb-sync-par', start: T0, interval: 15 * S, count: 30, targets: lbs,
    outcome: (i, _v, target) => {
      if (target !== '127.0.0.3:8443' || i < 4 || i >= 20) return { ok: true, observations: { in_sync: true, lag_s: 0, version: '42', majority_version: '42' } };
      const lag = (i - 4) * 15 + 15;
      const obs = { in_sync: false, lag_s: lag, route: 'app1.example.com/', version: '41', majority_version: '42' };
      return lag < 30
        ? { ok: true, detail: `config version 41 on app1.example.com/, majority 42, within max_lag 30s`, observations: obs }
        : { ok: false, error: 'config_out_of_sync', detail: `config version 41 on app1.example.com/, majority 42, for ${lag}s`, observations: obs };
    },
  }));
}

// S2: RSA 4096 certificates: TLS handshakes slow first, then 504s from the same proxies.
write('s02-rsa-handshake', [
  ...checks({
    probe: 'tls-lb', start: T0, interval: 15 * S, count: 40,
    outcome: (i) => (i < 30 ? down('latency', 'handshake 1840ms over max_handshake 500ms (rsa4096)') : { ok: true }),
  }),
  ...checks({
    probe: 'app-https', start: T0 + 5 * S, interval: 15 * S, count: 40,
    outcome: (i) => (i >= 2 && i < 28 ? down('status', 'status 504, expected 2xx') : { ok: true }),
  }),
]);

// S3: object storage slow from far away: first one vantage of three (nothing), then two (degraded).
write('s03-storage-slow', checks({
  probe: 'cellar-ops', start: T0, interval: 30 * S, count: 30, vantages: ['par-a', 'par-b', 'syd'], jitter: 200,
  outcome: (i, v) => {
    const slow = (v === 'syd' && i >= 2 && i < 24) || (v === 'par-b' && i >= 10 && i < 20);
    return slow ? { ok: false, error: 'latency', detail: 'put 2410ms over max_latency 800ms', observations: { ops: { put: 2410 } } } : { ok: true };
  },
}));

// S4: power failure in PAR6: four services on two hypervisors fail within a minute, recover in stages.
{
  const svc: [string, number, number][] = [
    ['lb-http', 0, 40],
    ['db-tcp', 20 * S, 48],
    ['metrics-http', 40 * S, 56],
    ['orch-http', 60 * S, 64],
    // Same minute, another region with no common dependency: never merged.
    ['api-rbx-http', 30 * S, 30],
  ];
  write('s04-dc-power', svc.flatMap(([probe, offset, upAfter]) => checks({
    probe, start: T0 + offset, interval: 15 * S, count: 80,
    outcome: (i) => (i >= 4 && i < upAfter ? down('connect_error', 'connect: EHOSTUNREACH') : { ok: true }),
  })));
}

// S5: one vantage of three cannot reach the hypervisor (the prober's network): no incident.
write('s05-minority-vantage', checks({
  probe: 'hv-ping', start: T0, interval: 15 * S, count: 40, vantages: ['par-a', 'par-b', 'rbx'], jitter: 100,
  outcome: (i, v) => (v === 'rbx' && i >= 5 && i < 30 ? down('timeout', 'connect timeout after 5000ms') : { ok: true }),
}));

// S6: hypervisor lost: a public reverse proxy and an add-on on it unreachable for ~12 minutes.
write('s06-hypervisor-lost', [
  ...checks({ probe: 'proxy-http', start: T0, interval: 15 * S, count: 70, outcome: (i) => (i >= 4 && i < 52 ? down('connect_refused', 'connect ECONNREFUSED') : { ok: true }) }),
  ...checks({ probe: 'addon-tcp', start: T0 + 7 * S, interval: 15 * S, count: 70, outcome: (i) => (i >= 6 && i < 54 ? down('timeout', 'connect timeout after 5000ms') : { ok: true }) }),
]);

// S7: random 503s on the public proxies for one application of three.
write('s07-some-routes', [
  ...checks({ probe: 'app1-http', start: T0, interval: 15 * S, count: 30, outcome: (i) => (i >= 5 && i < 20 ? down('status', 'status 503, expected 2xx') : { ok: true }) }),
  ...checks({ probe: 'app2-http', start: T0 + 2 * S, interval: 15 * S, count: 30 }),
  ...checks({ probe: 'app3-http', start: T0 + 4 * S, interval: 15 * S, count: 30 }),
]);

// S8: an add-on reverse proxy unreachable for 3 minutes (10s checks), back by itself.
write('s08-short-outage', checks({
  probe: 'addon-proxy-http', start: T0, interval: 10 * S, count: 40,
  outcome: (i) => (i >= 10 && i < 28 ? down('connect_refused', 'connect ECONNREFUSED') : { ok: true }),
}));

// S9: a bad API call invalidates the load balancers: LB and the three services behind it fail.
write('s09-lb-dependents', ([
  ['k8s-http', 0],
  ['db-tcp', 15 * S],
  ['lb-http', 30 * S],
  ['iot-http', 45 * S],
] as [string, number][]).flatMap(([probe, offset]) => checks({
  probe, start: T0 + offset, interval: 15 * S, count: 40,
  outcome: (i) => (i >= 2 && i < 30 ? down('status', 'status 502, expected 2xx') : { ok: true }),
})));

// S10: conntrack drops: about half the checks fail for 25 minutes, never 3 in a row; then healthy.
{
  const pattern = 'FOFOOFFOFOOFOFFOFOOFOFFOOFOFFOFOOFOFFOFO';
  write('s10-intermittent', checks({
    probe: 'sites-http', start: T0, interval: 30 * S, count: 80,
    outcome: (i) => (i >= 5 && i < 5 + pattern.length && pattern[i - 5] === 'F' ? down('timeout', 'ttfb timeout after 5000ms') : { ok: true }),
  }));
}

// S11: kernel updates on two hypervisors inside a maintenance window (21:00–23:00 UTC).
{
  const start = Date.parse('2024-11-18T20:50:00Z');
  const at = (hhmm: string) => Date.parse(`2024-11-18T${hhmm}:00Z`);
  const failing = (from: string, to: string): Outcome => (_i, _v, _t, t) => (t >= at(from) && t < at(to) ? down('connect_refused', 'connect ECONNREFUSED') : { ok: true });
  write('s11-maintenance', [
    // Down before the window and into it: opened before, the window's start is in its timeline.
    ...checks({ probe: 'db-c-tcp', start, interval: 30 * S, count: 290, outcome: failing('20:55', '21:20') }),
    // Down and back inside the window: nothing.
    ...checks({ probe: 'db-a-tcp', start: start + 5 * S, interval: 30 * S, count: 290, outcome: failing('21:10', '21:18') }),
    // Down from inside the window until past its end: a draft at the end of the window.
    ...checks({ probe: 'db-b-tcp', start: start + 10 * S, interval: 30 * S, count: 290, outcome: failing('22:50', '23:10') }),
  ]);
}

// S12: object storage cluster unreachable from every vantage until rollback.
write('s12-storage-down', checks({
  probe: 'cellar-c2-tcp', start: T0, interval: 30 * S, count: 20, vantages: ['par-a', 'par-b', 'rbx'], jitter: 150,
  outcome: (i) => (i >= 3 ? down('timeout', 'connect timeout after 5000ms') : { ok: true }),
}));

// S13: a draft dismissed as a false alarm while the odd behaviour goes on (the test dismisses it
// at 09:05), then a second probe of the same component fails too; all recover at 09:25.
write('s13-dismissed', [
  ...checks({ probe: 'api-http', start: T0, interval: 15 * S, count: 120, outcome: (i) => (i >= 4 && i < 100 ? down('status', 'status 500, expected 2xx') : { ok: true }) }),
  ...checks({ probe: 'api-tls', start: T0 + 3 * S, interval: 15 * S, count: 120, outcome: (i) => (i >= 40 && i < 100 ? down('tls_handshake', 'handshake failure alert') : { ok: true }) }),
]);
