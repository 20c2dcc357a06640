/**
 * Noise and diagnosis vs the usual stack (issue item 6). One loopback topology, watched at the same
 * time by
 * - Prometheus + Blackbox exporter + Alertmanager (Debian packages), configured as an operator
 *   would: every target probed from 3 vantages (one scrape job per vantage; each vantage reaches the
 *   gateway by its own address, see Topology), scraped every 5 s; `probe_success == 0` for 30 s (alert
 *   `ProbeFailed`) and a faster variant for 15 s (`ProbeFailedFast`); Alertmanager grouping by
 *   alertname with its default timers (group_wait 30s, group_interval 5m, repeat_interval 4h),
 *   notifying a webhook with `send_resolved`;
 * - Tocsin in fleet mode: `tocsin run` (queue bullmq, redis-server) and 3 `tocsin worker`s bound to
 *   the same 3 source addresses, the same 6 checks every 5 s (timeout 2 s), components with
 *   `depends_on`, a webhook notifier for `incident.opened` and `incident.resolved`.
 * Topology: a gateway process-in-the-bench (the shared dependency, "datacenter gateway") with a
 * health listener of its own and one TCP listener in front of each of 5 HTTP services.
 * Scenarios (each from a fresh start of both sides, then the fault for `--fault` seconds, then
 * `--recovery` seconds after the repair):
 * - cascade (S4/S9): the gateway stops: its health check and the 5 services fail together;
 * - S5: vantage b's network fails: every connection from 127.0.0.3 is reset, the others are fine;
 * - S10: one service answers 503 to about half of the requests, at random.
 * Both receivers are in this process and time-stamp each notification on arrival.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Incident } from '../src/events/incident.js';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';
import { checkOptions, numberOption } from './lib/args.js';
import { BLACKBOX_BIN, requireBinary, type Service, startBlackbox } from './lib/blackbox.js';
import { barPlotSvg, IMG_DIR, linePlotSvg, type Marker, writeSvg } from './lib/plot.js';
import {
  requireStack,
  startAlertmanager,
  startPrometheus,
  startTocsinDaemon,
  startTocsinWorker,
  type TocsinProcess,
} from './lib/prometheus-stack.js';
import { machineLine } from './lib/process-stats.js';
import { fmt } from './lib/stats.js';
import { printTable } from './lib/table.js';

const VANTAGES = [
  { name: 'a', source: '127.0.0.2', path: '127.0.0.5' },
  { name: 'b', source: '127.0.0.3', path: '127.0.0.6' },
  { name: 'c', source: '127.0.0.4', path: '127.0.0.7' },
] as const;
const SERVICES = 5;
const INTERVAL_S = 5;
const TIMEOUT_S = 2;
const TOKEN_ENV = 'TOCSIN_BENCH_NOISE_TOKEN';
const TOKEN = 'bench-noise-viewer-token-0123';

type ScenarioName = 'cascade' | 's5' | 's10';

/** The topology: 5 HTTP services, each reached through the gateway, plus the gateway's own health. */
class Topology {
  /** S10: share of requests service 1 answers with 503. */
  flakyShare = 0;
  /** S5: this vantage's connections are reset (its network is broken). */
  blockedVantage: (typeof VANTAGES)[number] | undefined;
  gatewayUp = true;
  readonly services: http.Server[] = [];
  readonly servicePorts: number[] = [];
  /** Gateway listener ports per listening address: [health, svc1..svc5]. */
  readonly gatewayPorts = new Map<string, number[]>();
  #gateway: net.Server[] = [];
  readonly #sockets = new Set<net.Socket>();

  async start(): Promise<void> {
    for (let i = 0; i < SERVICES; i++) {
      const server = http.createServer((_req, res) => {
        const fail = i === 0 && Math.random() < this.flakyShare;
        res.writeHead(fail ? 503 : 200, { 'content-type': 'text/plain', connection: 'close' }).end(fail ? 'busy\n' : 'ok\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      this.services.push(server);
      this.servicePorts.push(portOf(server));
    }
    await this.startGateway();
  }

  /**
   * The gateway's listeners: its health answers itself, the others relay to their service. It
   * listens on 127.0.0.1 (Tocsin's workers reach it from their own source addresses) and on one
   * address per vantage of the stack (Blackbox exporter 0.23's http prober cannot bind a source
   * address, so each of its vantages reaches the gateway by its own path): a vantage's network is
   * cut by resetting what comes from its source address or arrives on its path.
   */
  async startGateway(): Promise<void> {
    const upstreams: (number | undefined)[] = [undefined, ...this.servicePorts];
    this.#gateway = [];
    for (const host of ['127.0.0.1', ...VANTAGES.map((v) => v.path)]) {
      const ports = this.gatewayPorts.get(host) ?? [];
      this.gatewayPorts.set(host, ports);
      for (const [i, upstream] of upstreams.entries()) {
        const server = net.createServer((client) => {
          const blocked = this.blockedVantage;
          if (blocked && (client.remoteAddress === blocked.source || client.localAddress === blocked.path)) {
            client.resetAndDestroy();
            return;
          }
          this.#sockets.add(client);
          client.once('close', () => this.#sockets.delete(client));
          client.on('error', () => client.destroy());
          if (upstream === undefined) {
            client.once('data', () => client.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n'));
            return;
          }
          const up = net.connect({ host: '127.0.0.1', port: upstream });
          this.#sockets.add(up);
          up.once('close', () => this.#sockets.delete(up));
          up.on('error', () => client.destroy());
          client.pipe(up).pipe(client);
          client.once('close', () => up.destroy());
        });
        await new Promise<void>((resolve) => server.listen(ports[i] ?? 0, host, resolve));
        ports[i] = portOf(server);
        this.#gateway.push(server);
      }
    }
    this.gatewayUp = true;
  }

  async stopGateway(): Promise<void> {
    this.gatewayUp = false;
    for (const s of this.#sockets) s.destroy();
    await Promise.all(this.#gateway.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.#gateway = [];
  }

  /** [id, url] of the 6 checks through `host`: the gateway's health, then each service through it. */
  checks(host = '127.0.0.1'): [string, string][] {
    return (this.gatewayPorts.get(host) ?? []).map((port, i) => [i === 0 ? 'gateway' : `svc${i}`, `http://${host}:${port}/`]);
  }

  async stop(): Promise<void> {
    if (this.gatewayUp) await this.stopGateway();
    for (const s of this.services) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

function portOf(server: net.Server): number {
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : 0;
}

interface Notification {
  readonly at: number;
  readonly side: 'stack' | 'tocsin';
  /** stack: `firing`/`resolved` + alertname; tocsin: the event name. */
  readonly kind: string;
  readonly alertname?: string;
  /** stack: the group key; tocsin: the incident id. */
  readonly group: string;
  /** What the notification says failed: alert instances (stack) or the incident's root and components. */
  readonly subjects: readonly string[];
  readonly root?: string;
  /** tocsin: the incident's timeline as this notification carried it (`at kind: text`). */
  readonly timeline?: readonly string[];
}

/** Both webhook receivers, on one loopback port: /am for Alertmanager, /tocsin for Tocsin. */
async function startReceiver(sink: Notification[]): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const at = Date.now();
      res.writeHead(200).end();
      try {
        const doc = JSON.parse(body) as Record<string, unknown>;
        if (req.url === '/am') {
          const am = doc as {
            status: string;
            groupKey: string;
            groupLabels: Record<string, string>;
            alerts: { status: string; labels: Record<string, string> }[];
          };
          sink.push({
            at,
            side: 'stack',
            kind: am.status,
            alertname: am.groupLabels.alertname ?? '',
            group: am.groupKey,
            subjects: am.alerts.filter((a) => a.status === 'firing').map((a) => `${a.labels.instance}@${a.labels.vantage}`),
          });
        } else {
          const t = doc as { event: string; incident: Incident };
          sink.push({
            at,
            side: 'tocsin',
            kind: t.event,
            group: t.incident.id,
            subjects: t.incident.components.map((c) => c.id),
            root: t.incident.root_component,
            timeline: t.incident.timeline.map((e) => `${e.at.slice(11, 19)} ${e.kind}: ${e.text}`),
          });
        }
      } catch {
        // Not JSON: not a notification of either side.
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: portOf(server),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitUntil(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // Not up yet.
    }
    if (Date.now() > end) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await sleep(250);
  }
}

export interface ScenarioFigures {
  readonly scenario: ScenarioName;
  readonly faultAt: number;
  readonly repairAt: number;
  readonly notifications: readonly Notification[];
  /** [seconds since fault, failing (check, vantage) pairs] as each side saw them. */
  readonly stackFailing: [number, number][];
  readonly tocsinFailing: [number, number][];
}

async function runScenario(
  scenario: ScenarioName,
  opts: { faultS: number; recoveryS: number; recheckS: number | undefined },
): Promise<ScenarioFigures> {
  const dir = mkdtempSync(join(tmpdir(), `tocsin-bench-noise-${scenario}-`));
  const topo = new Topology();
  const notifications: Notification[] = [];
  const stoppers: (() => Promise<unknown>)[] = [];
  const workers: TocsinProcess[] = [];
  let daemon: TocsinProcess | undefined;
  try {
    await topo.start();
    stoppers.push(() => topo.stop());
    const receiver = await startReceiver(notifications);
    stoppers.push(receiver.close);
    const checks = topo.checks();

    // The stack.
    const modules = [
      'modules:',
      '  http_2xx:',
      '    prober: http',
      `    timeout: ${TIMEOUT_S}s`,
      '    http: { preferred_ip_protocol: ip4 }',
      '',
    ].join('\n');
    const exporter: Service = await startBlackbox(modules);
    stoppers.push(() => exporter.stop());
    const alertmanager = await startAlertmanager(`route:
  receiver: webhook
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:${receiver.port}/am
        send_resolved: true
`);
    stoppers.push(() => alertmanager.stop());
    const exporterAddress = exporter.url.replace('http://', '');
    const prometheus = await startPrometheus(
      `global: { scrape_interval: ${INTERVAL_S}s, scrape_timeout: ${INTERVAL_S - 1}s, evaluation_interval: ${INTERVAL_S}s }
rule_files: [rules.yml]
alerting:
  alertmanagers: [{ static_configs: [{ targets: ["${alertmanager.url.replace('http://', '')}"] }] }]
scrape_configs:
${VANTAGES.map(
  (v) => `  - job_name: blackbox-${v.name}
    metrics_path: /probe
    params: { module: [http_2xx] }
    static_configs: [{ targets: [${topo.checks(v.path).map(([, url]) => `"${url}"`).join(', ')}], labels: { vantage: ${v.name} } }]
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target }
      - { source_labels: [__param_target], target_label: instance }
      - { target_label: __address__, replacement: "${exporterAddress}" }`,
).join('\n')}
`,
      `groups:
  - name: blackbox
    rules:
      - alert: ProbeFailed
        expr: probe_success == 0
        for: 30s
      - alert: ProbeFailedFast
        expr: probe_success == 0
        for: 15s
`,
    );
    stoppers.push(() => prometheus.stop());

    // Tocsin, fleet mode; re-checks as the defaults have them unless `--recheck S` (0: none).
    const recheck =
      opts.recheckS === undefined ? '' : `, recheck: ${opts.recheckS > 0 ? `{ interval: ${opts.recheckS}s }` : 'false'}`;
    const redis: RedisServer = await startRedisServer();
    stoppers.push(() => redis.stop());
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server:
  listen: 127.0.0.1:0
  tokens: [{ name: bench, role: viewer, token_env: ${TOKEN_ENV} }]
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
queue: { kind: bullmq, redis_url: "${redis.url}", vantages: [a, b, c], concurrency: 16 }
components:
  - { id: gateway, name: Datacenter gateway, group: Infrastructure, region: PAR }
${checks
  .slice(1)
  .map(([id]) => `  - { id: ${id}, name: Service ${id}, group: Apps, region: PAR, depends_on: [gateway] }`)
  .join('\n')}
probes:
${checks.map(([id, url]) => `  - { id: ${id}-http, kind: http, component: ${id}, url: "${url}", interval: ${INTERVAL_S}s, timeout: ${TIMEOUT_S}s${recheck} }`).join('\n')}
notifiers:
  - { kind: webhook, url: "http://127.0.0.1:${receiver.port}/tocsin", events: [incident.opened, incident.resolved] }
`,
    );
    process.env[TOKEN_ENV] = TOKEN;
    const started = await startTocsinDaemon(configFile, dir);
    daemon = started.daemon;
    for (const v of VANTAGES) workers.push(await startTocsinWorker(configFile, dir, v.name, v.source));

    const tocsinFailing = async (): Promise<number> => {
      const res = await fetch(`${started.url}/api/v1/probes`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(2000),
      });
      const { probes } = (await res.json()) as { probes: { latest: { ok: boolean }[] }[] };
      return probes.reduce((n, p) => n + p.latest.filter((r) => !r.ok).length, 0);
    };
    const tocsinSeen = async (): Promise<number> => {
      const res = await fetch(`${started.url}/api/v1/probes`, {
        headers: { authorization: `Bearer ${TOKEN}` },
        signal: AbortSignal.timeout(2000),
      });
      const { probes } = (await res.json()) as { probes: { latest: { ok: boolean }[] }[] };
      return probes.reduce((n, p) => n + p.latest.filter((r) => r.ok).length, 0);
    };
    const stackQuery = async (q: string): Promise<number> => {
      const res = await fetch(`${prometheus.url}/api/v1/query?query=${encodeURIComponent(q)}`, {
        signal: AbortSignal.timeout(2000),
      });
      const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
      return Number(body.data.result[0]?.value[1] ?? 0);
    };
    const pairs = checks.length * VANTAGES.length;
    // Both sides healthy: every (check, vantage) pair succeeded, for a few intervals.
    await waitUntil(
      'both sides healthy',
      async () => (await stackQuery('count(probe_success == 1)')) === pairs && (await tocsinSeen()) === pairs,
      60_000,
    );
    await sleep(3 * INTERVAL_S * 1000);
    if (notifications.length > 0) throw new Error(`notifications before the fault: ${JSON.stringify(notifications)}`);

    const stackSeries: [number, number][] = [];
    const tocsinSeries: [number, number][] = [];
    let sampling = true;
    const t0 = Date.now() + 10_000;
    const sampler = (async () => {
      while (sampling) {
        const t = (Date.now() - t0) / 1000;
        try {
          stackSeries.push([t, await stackQuery('count(probe_success == 0) or vector(0)')]);
          tocsinSeries.push([t, await tocsinFailing()]);
        } catch {
          // A slow answer: skip this sample.
        }
        await sleep(1000);
      }
    })();
    await sleep(10_000);
    const faultAt = Date.now();
    if (scenario === 'cascade') await topo.stopGateway();
    else if (scenario === 's5') topo.blockedVantage = VANTAGES[1];
    else topo.flakyShare = 0.5;
    process.stderr.write(`  noise ${scenario}: fault injected, ${opts.faultS} s…\n`);
    await sleep(opts.faultS * 1000);
    const repairAt = Date.now();
    if (scenario === 'cascade') await topo.startGateway();
    else if (scenario === 's5') topo.blockedVantage = undefined;
    else topo.flakyShare = 0;
    await sleep(opts.recoveryS * 1000);
    sampling = false;
    await sampler;
    const shift = (series: [number, number][]): [number, number][] =>
      series.map(([t, v]) => [t - (faultAt - t0) / 1000, v]);
    return {
      scenario,
      faultAt,
      repairAt,
      notifications: [...notifications],
      stackFailing: shift(stackSeries),
      tocsinFailing: shift(tocsinSeries),
    };
  } finally {
    await Promise.all(workers.map((w) => w.kill()));
    await daemon?.kill();
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    delete process.env[TOKEN_ENV];
    rmSync(dir, { recursive: true, force: true });
  }
}

const SCENARIO_TITLES: Record<ScenarioName, string> = {
  cascade: 'cascade (S4/S9): gateway + 5 dependents',
  s5: 'S5: vantage b network down',
  s10: 'S10: svc1 fails ~50 %',
};
/** What a correct detector does: one incident with this root, or none. */
const EXPECTED: Record<ScenarioName, { incidents: number; root?: string }> = {
  cascade: { incidents: 1, root: 'gateway' },
  s5: { incidents: 0 },
  s10: { incidents: 1, root: 'svc1' },
};

export async function noiseBench(args: readonly string[]): Promise<ScenarioFigures[]> {
  checkOptions(args, ['fault', 'recovery', 'only', 'recheck']);
  const faultS = numberOption(args, 'fault', 120);
  const recoveryS = numberOption(args, 'recovery', 30);
  const only = numberOption(args, 'only', 0, 0);
  const recheckS = args.some((a) => a.startsWith('--recheck')) ? numberOption(args, 'recheck', 0, 0) : undefined;
  requireBinary(BLACKBOX_BIN);
  requireStack();
  process.stdout.write(
    `\n## noise: Prometheus + Blackbox exporter + Alertmanager vs Tocsin (fleet, 3 vantages), 6 checks every ${INTERVAL_S} s from 3 vantages, fault ${faultS} s then ${recoveryS} s of recovery per scenario, ` +
      `Tocsin's re-checks ${recheckS === undefined ? 'as configured by default (2 s)' : recheckS > 0 ? `every ${recheckS} s` : 'off'}\n`,
  );
  process.stdout.write(`${machineLine()}\n`);
  const loads: number[] = [];
  const loadTimer = setInterval(() => loads.push(os.loadavg()[0] ?? Number.NaN), 1000);
  const all: ScenarioName[] = ['cascade', 's5', 's10'];
  const chosen = only > 0 ? all.slice(only - 1, only) : all;
  const figures: ScenarioFigures[] = [];
  try {
    for (const s of chosen) figures.push(await runScenario(s, { faultS, recoveryS, recheckS }));
  } finally {
    clearInterval(loadTimer);
  }

  const rows: string[][] = [];
  const firstNotice: Record<string, number[]> = { 'stack, for: 30s': [], 'stack, for: 15s': [], tocsin: [] };
  for (const f of figures) {
    const exp = EXPECTED[f.scenario];
    const sides: [string, (n: Notification) => boolean, (n: Notification) => boolean][] = [
      ['Prometheus+AM, for: 30s', (n) => n.side === 'stack' && n.alertname === 'ProbeFailed', (n) => n.kind === 'firing'],
      ['Prometheus+AM, for: 15s', (n) => n.side === 'stack' && n.alertname === 'ProbeFailedFast', (n) => n.kind === 'firing'],
      ['Tocsin (fleet)', (n) => n.side === 'tocsin', (n) => n.kind === 'incident.opened'],
    ];
    sides.forEach(([label, mine, opening], si) => {
      const ns = f.notifications.filter(mine);
      const opens = ns.filter(opening);
      const groups = new Set(opens.map((n) => n.group));
      const first = opens[0];
      const delay = first ? (first.at - f.faultAt) / 1000 : Number.NaN;
      Object.values(firstNotice)[si]?.push(delay);
      let root: string;
      if (label.startsWith('Tocsin')) {
        // The root when the draft opened, and the root it ended with (correlation may re-root an
        // open incident as more dependents fail: with the notifier's group_wait the opening message
        // names the settled root; a re-root after it is an `incident.rerooted` event).
        const roots = [...groups].map((id) => {
          const own = ns.filter((n) => n.group === id);
          const first = own[0]?.root ?? '?';
          const last = own[own.length - 1]?.root ?? first;
          return { first, last };
        });
        root = roots.length === 0 ? '-' : roots.map((r) => (r.first === r.last ? r.last : `${r.first} → ${r.last}`)).join(', ');
        if (exp.root && roots.length > 0) {
          root += roots.length === 1 && roots[0]?.last === exp.root ? ' (right)' : ' (wrong)';
        }
      } else {
        const subjects = new Set(opens.flatMap((n) => n.subjects));
        root = opens.length === 0 ? '-' : `not named: ${subjects.size} firing (instance, vantage)`;
      }
      const good =
        groups.size === exp.incidents && opens.length === exp.incidents && (exp.root === undefined || root.endsWith('(right)'));
      rows.push([
        SCENARIO_TITLES[f.scenario],
        label,
        `${opens.length} + ${ns.length - opens.length}`,
        String(groups.size),
        root,
        Number.isFinite(delay) ? fmt(delay, 1) : '-',
        good ? 'yes' : 'no',
      ]);
    });
  }
  printTable(
    ['scenario', 'watched by', 'notifications: opening + resolved', 'incidents / alert groups', 'root component', 'first notification (s after fault)', 'as expected'],
    rows,
    { align: ['left', 'left', 'right', 'right', 'left', 'right', 'left'] },
  );
  for (const f of figures) {
    // The last notification of each Tocsin incident carries its whole timeline: what the operator reads.
    const last = new Map<string, Notification>();
    for (const n of f.notifications) if (n.side === 'tocsin') last.set(n.group, n);
    for (const [id, n] of last) {
      process.stdout.write(`${f.scenario}: Tocsin incident ${id}, timeline at its last notification (${n.kind}), fault at ${new Date(f.faultAt).toISOString().slice(11, 19)}:\n`);
      for (const line of n.timeline ?? []) process.stdout.write(`  ${line}\n`);
    }
  }
  const finite = loads.filter(Number.isFinite);
  process.stdout.write(
    `expected: cascade 1 notification rooted at gateway; S5 none; S10 one for svc1. Fault ${faultS} s per scenario (the seeds' faults lasted 12 min to hours). ` +
      `Load average (1 min) during the run: mean ${fmt(finite.reduce((a, b) => a + b, 0) / Math.max(1, finite.length), 2)}, max ${fmt(Math.max(...finite), 2)} on ${os.availableParallelism()} CPUs\n`,
  );

  const svgs: string[] = [];
  for (const f of figures) {
    const markers: Marker[] = [
      { x: 0, label: 'fault', color: '#d62728' },
      { x: (f.repairAt - f.faultAt) / 1000, label: 'repair', color: '#2ca02c' },
      ...f.notifications.map((n) => ({
        x: (n.at - f.faultAt) / 1000,
        label: n.side === 'tocsin' ? `Tocsin ${n.kind.replace('incident.', '')}` : `AM ${n.alertname} ${n.kind}`,
        color: n.side === 'tocsin' ? '#1f77b4' : '#ff7f0e',
      })),
    ];
    svgs.push(
      writeSvg(
        join(IMG_DIR, `noise-${f.scenario}.svg`),
        linePlotSvg({
          title: `${SCENARIO_TITLES[f.scenario]}: failing (check, vantage) pairs and notifications`,
          xLabel: 'seconds since the fault',
          yLabel: 'failing (check, vantage) pairs of 18',
          series: [
            { name: 'Tocsin (latest results)', step: true, points: f.tocsinFailing },
            { name: 'Prometheus (probe_success == 0)', step: true, points: f.stackFailing },
          ],
          markers,
          yMin: 0,
          yMax: 19,
        }),
      ),
    );
  }
  // The summary plot compares the three scenarios: only a full run (not `--only`) rewrites it.
  if (chosen.length === all.length) {
    svgs.push(firstNotificationSvg(figures.map((f) => f.scenario), firstNotice, faultS));
  }
  process.stdout.write(`figures: ${svgs.join(', ')}\n`);
  return figures;
}

/** Bar plot of the delay from the fault to the first opening notification, per scenario and side. */
export function firstNotificationSvg(
  scenarios: readonly ScenarioName[],
  firstNotice: Record<string, number[]>,
  faultS: number,
): string {
  return writeSvg(
    join(IMG_DIR, 'noise-first-notification.svg'),
    barPlotSvg({
      title: `Fault → first notification (no bar: none sent during the ${faultS} s fault)`,
      yLabel: 'seconds',
      categories: scenarios.map((s) => SCENARIO_TITLES[s].split(':')[0] ?? s),
      series: Object.entries(firstNotice).map(([name, values]) => ({ name, values })),
    }),
  );
}
