import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BLACKBOX_BIN, type Service, startBlackbox } from '../../bench/lib/blackbox.js';
import { parseYaml } from '../../src/config/yaml-source.js';
import { type FixtureCerts, makeFixtureCerts } from '../helpers/certs.js';
import { runCli } from '../helpers/cli.js';
import { refusedPort } from '../helpers/refused-port.js';
import { startHttpServer, startHttpsServer, startTlsServer, type TestServer } from '../helpers/servers.js';

// `tocsin import blackbox` end to end: the real exporter (Debian's prometheus-blackbox-exporter)
// and `tocsin probe` (the built CLI, with the imported probes) judge the same loopback targets,
// and must give the same verdict for each. Then the command's exit codes and output file.

const FIXTURES = fileURLToPath(new URL('../fixtures/import-blackbox/', import.meta.url));

let certs: FixtureCerts;
let dir: string;
let exporter: Service | undefined;
const servers: TestServer[] = [];

/** What both tools probe: job, module, target, and the verdict the target deserves. */
interface Case {
  readonly job: string;
  readonly module: string;
  readonly target: string;
  readonly ok: boolean;
}
const cases: Case[] = [];

beforeAll(async () => {
  if (spawnSync('sh', ['-c', `command -v ${BLACKBOX_BIN}`]).status !== 0) {
    throw new Error(`${BLACKBOX_BIN} is missing: run scripts/install-test-deps.sh`);
  }
  certs = await makeFixtureCerts();
  dir = await mkdtemp(join(tmpdir(), 'tocsin-import-it-'));
  const serve = async (start: Promise<TestServer>): Promise<TestServer> => {
    const s = await start;
    servers.push(s);
    return s;
  };
  const ok = await serve(startHttpServer((_req, res) => res.end('ok\n')));
  const failing = await serve(
    startHttpServer((_req, res) => {
      res.statusCode = 500;
      res.end('down\n');
    }),
  );
  const https = await serve(startHttpsServer((_req, res) => res.end('ok\n'), certs.localhost));
  const httpsSelfSigned = await serve(startHttpsServer((_req, res) => res.end('ok\n'), certs.selfSigned));
  const tlsOk = await serve(startTlsServer(certs.localhost, (s) => s.resume()));
  const tlsExpired = await serve(startTlsServer(certs.expired, (s) => s.resume()));
  const tlsWrongHost = await serve(startTlsServer(certs.wrongHost, (s) => s.resume()));
  const refused = `127.0.0.1:${await refusedPort()}`;

  cases.push(
    { job: 'web', module: 'http_2xx', target: `${ok.url}/health`, ok: true },
    { job: 'web', module: 'http_2xx', target: `${failing.url}/health`, ok: false },
    { job: 'web', module: 'http_2xx', target: `${https.url}/`, ok: true },
    { job: 'web', module: 'http_2xx', target: `${httpsSelfSigned.url}/`, ok: false },
    { job: 'edge-tls', module: 'tls_connect', target: tlsOk.address, ok: true },
    { job: 'edge-tls', module: 'tls_connect', target: tlsExpired.address, ok: false },
    { job: 'edge-tls', module: 'tls_connect', target: tlsWrongHost.address, ok: false },
    { job: 'ports', module: 'tcp_connect', target: ok.address, ok: true },
    { job: 'ports', module: 'tcp_connect', target: refused, ok: false },
  );

  const modules = `modules:
  http_2xx:
    prober: http
    timeout: 3s
    http:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: ${certs.pki.ca.certFile}
  tls_connect:
    prober: tcp
    timeout: 3s
    tcp:
      tls: true
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: ${certs.pki.ca.certFile}
  tcp_connect:
    prober: tcp
    timeout: 3s
    tcp:
      preferred_ip_protocol: ip4
`;
  exporter = await startBlackbox(modules);
  await writeFile(join(dir, 'blackbox.yml'), modules);
  const exporterAddress = exporter.url.replace(/^http:\/\//, '');
  const relabel = `
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: ${exporterAddress}`;
  const targetsOf = (job: string): string => JSON.stringify(cases.filter((c) => c.job === job).map((c) => c.target));
  await writeFile(
    join(dir, 'targets.json'),
    JSON.stringify([{ targets: cases.filter((c) => c.job === 'ports').map((c) => c.target), labels: { team: 'db' } }]),
  );
  await writeFile(
    join(dir, 'prometheus.yml'),
    `global:
  scrape_interval: 15s
scrape_configs:
  - job_name: web
    metrics_path: /probe
    params:
      module: [http_2xx]
    static_configs:
      - targets: ${targetsOf('web')}${relabel}
  - job_name: edge-tls
    metrics_path: /probe
    params:
      module: [tls_connect]
    static_configs:
      - targets: ${targetsOf('edge-tls')}${relabel}
  - job_name: ports
    metrics_path: /probe
    params:
      module: [tcp_connect]
    file_sd_configs:
      - files: [targets.json]${relabel}
  - job_name: blackbox_exporter
    static_configs:
      - targets: ['${exporterAddress}']
`,
  );
});

afterAll(async () => {
  await exporter?.stop();
  await Promise.all(servers.map((s) => s.close()));
  await certs?.pki.cleanup();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The exporter's verdict, asked as Prometheus asks it (`/probe?module=&target=`). */
async function exporterVerdict(c: Case): Promise<boolean> {
  const url = `${exporter?.url}/probe?module=${c.module}&target=${encodeURIComponent(c.target)}`;
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  const m = /^probe_success (\d)/m.exec(text);
  if (!m) throw new Error(`no probe_success for ${c.target}: ${text.slice(0, 500)}`);
  return m[1] === '1';
}

/** The probe the import made for a case: found by what it probes. */
function probeFor(probes: readonly Record<string, unknown>[], c: Case): Record<string, unknown> {
  const probed = (p: Record<string, unknown>): unknown =>
    p.url ?? p.address ?? (p.targets as unknown[] | undefined)?.[0];
  const found = probes.find((p) => p.component === c.job && probed(p) === c.target);
  if (!found) throw new Error(`no imported probe for ${c.job} ${c.target}`);
  return found;
}

describe('tocsin import blackbox against the real exporter', () => {
  test('every target gets the same verdict from the exporter and from the imported probe', async () => {
    const imported = await runCli(['import', 'blackbox', '--blackbox', 'blackbox.yml', '--prometheus', 'prometheus.yml', '-o', 'imported.yml'], { cwd: dir });
    expect(imported.stderr).toBe('tocsin: imported 9 probes of 3 jobs, 0 problems\n');
    expect(imported.code).toBe(0);
    expect(imported.stdout).toBe('');
    const parsed = parseYaml(await readFile(join(dir, 'imported.yml'), 'utf8'), 'imported.yml');
    if (!parsed.ok) throw new Error('the output is not YAML');
    const probes = parsed.source.value as Record<string, unknown>[];
    expect(probes).toHaveLength(cases.length);

    await writeFile(
      join(dir, 'tocsin.yml'),
      `components:
  - { id: web, name: Web }
  - { id: edge-tls, name: Edge TLS }
  - { id: ports, name: Ports }
probes:
  - include: imported.yml
`,
    );
    const check = await runCli(['check-config', '--config', 'tocsin.yml'], { cwd: dir });
    expect(check.stdout).toMatch(/tocsin\.yml: OK \(3 components, 9 probes/);
    expect(check.code).toBe(0);

    const verdicts = await Promise.all(
      cases.map(async (c) => {
        const probe = probeFor(probes, c);
        const [fromExporter, run] = await Promise.all([
          exporterVerdict(c),
          runCli(['probe', '--config', 'tocsin.yml', String(probe.id)], { cwd: dir, env: { TOCSIN_CONFIG: '' } }),
        ]);
        const events = run.stdout
          .trim()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { ok: boolean; error?: string });
        expect(events, `${probe.id}: ${run.stderr}`).toHaveLength(1);
        const tocsin = events[0];
        return { target: c.target, expected: c.ok, exporter: fromExporter, tocsin: tocsin?.ok, error: tocsin?.error };
      }),
    );
    for (const v of verdicts) {
      expect({ target: v.target, exporter: v.exporter, tocsin: v.tocsin }, `tocsin error: ${v.error}`).toEqual({
        target: v.target,
        exporter: v.expected,
        tocsin: v.expected,
      });
    }
    // The file_sd target file's labels came along.
    expect(probeFor(probes, cases.at(-1) as Case).labels).toEqual({ team: 'db' });
  });
});

describe('tocsin import blackbox: the command', () => {
  test('problems on stderr as FILE:LINE: reason, the YAML on stdout; exit 0 when probes were imported, 1 with --strict', async () => {
    const args = ['import', 'blackbox', '--blackbox', 'debian/blackbox.yml', '--prometheus', 'prometheus.yml'];
    const run = await runCli(args, { cwd: FIXTURES });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# Tocsin probes imported by `tocsin import blackbox`/);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines.slice(0, -1).every((l) => /^(debian\/blackbox|prometheus)\.yml:\d+: /.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('tocsin: imported 12 probes of 5 jobs, 5 problems');
    const strict = await runCli([...args, '--strict'], { cwd: FIXTURES });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toBe(run.stdout);
    expect(strict.stderr).toBe(run.stderr);
  });

  test('nothing imported: exit 1, the (empty) list still written', async () => {
    await writeFile(join(dir, 'icmp.yml'), 'modules:\n  icmp:\n    prober: icmp\n');
    await writeFile(
      join(dir, 'ping.yml'),
      `scrape_configs:
  - job_name: ping
    metrics_path: /probe
    params: { module: [icmp] }
    static_configs: [{ targets: [10.0.0.1] }]
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target }
      - { target_label: __address__, replacement: 127.0.0.1:9115 }
`,
    );
    const run = await runCli(['import', 'blackbox', '--blackbox', 'icmp.yml', '--prometheus', 'ping.yml', '-o', 'none.yml'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      [
        'icmp.yml:3: module icmp: prober icmp (ICMP echo, ping) has no Tocsin probe kind: not mapped',
        'ping.yml:2: job "ping": module icmp is not mapped (icmp.yml:2): its targets are not imported',
        'tocsin: imported 0 probes of 0 jobs, 2 problems',
        '',
      ].join('\n'),
    );
    const parsed = parseYaml(await readFile(join(dir, 'none.yml'), 'utf8'), 'none.yml');
    expect(parsed.ok && parsed.source.value).toEqual([]);
  });

  test('bad usage: exit 2', async () => {
    expect((await runCli(['import', 'blackbox'], { cwd: dir })).code).toBe(2);
    expect((await runCli(['import', 'blackbox', '--blackbox', 'x.yml', '--nope'], { cwd: dir })).code).toBe(2);
  });

  test('the Prometheus fixtures are valid for promtool', () => {
    for (const file of ['prometheus.yml', 'prometheus-example.yml']) {
      const res = spawnSync('promtool', ['check', 'config', '--syntax-only', file], { cwd: FIXTURES, encoding: 'utf8' });
      if (res.error) throw new Error(`promtool is missing: run scripts/install-test-deps.sh (${res.error.message})`);
      expect(res.stdout + res.stderr, file).toContain('SUCCESS');
    }
  });
});
