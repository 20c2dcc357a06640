import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { parseRegexLiteral } from '../../probes/http/expect.js';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import { parseYaml } from '../../src/config/yaml-source.js';
import { effectiveTimeoutMs, importBlackbox, type ImportResult } from '../../src/import/blackbox.js';

// `tocsin import blackbox` on small inputs (one module, one job), then on the configs Debian's
// prometheus-blackbox-exporter ships (test/fixtures/import-blackbox/debian/) with Prometheus
// configs in the canonical style; every output is loaded by Tocsin's own config loader.

const FIXTURES = fileURLToPath(new URL('../fixtures/import-blackbox/', import.meta.url));

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tocsin-import-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const RELABEL = `
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:9115`;

/** A Prometheus config with one job probing `targets` with `module`. */
function prometheus(module: string, targets: readonly string[], jobExtra = ''): string {
  return `scrape_configs:
  - job_name: web
    metrics_path: /probe
    params:
      module: [${module}]${jobExtra}
    static_configs:
      - targets: [${targets.map((t) => JSON.stringify(t)).join(', ')}]${RELABEL}
`;
}

/** Imports `blackbox` (a modules: document) with the Prometheus config given, in a temp dir. */
async function run(
  blackbox: string,
  prometheusYaml?: string,
  more: Record<string, string> = {},
): Promise<ImportResult> {
  const files: Record<string, string> = { 'blackbox.yml': blackbox, ...more };
  if (prometheusYaml !== undefined) files['prometheus.yml'] = prometheusYaml;
  const cwd = await tempDir(files);
  return importBlackbox({
    blackbox: 'blackbox.yml',
    prometheus: prometheusYaml === undefined ? undefined : 'prometheus.yml',
    cwd,
  });
}

/** One http module `m` with `http:` options, probing one target. */
async function httpModule(options: string, target = 'https://app.example.com/health', jobExtra = ''): Promise<ImportResult> {
  return run(`modules:\n  m:\n    prober: http\n    http:\n${options}\n`, prometheus('m', [target], jobExtra));
}

const only = (r: ImportResult): Record<string, unknown> => {
  expect(r.probes).toHaveLength(1);
  return r.probes[0] ?? {};
};

/** Loads the import's output with Tocsin's config loader, the components it names declared. */
async function loadImported(r: ImportResult): Promise<ReturnType<typeof loadConfig>> {
  const components = r.components.map((c) => `  - { id: ${c.id}, name: ${JSON.stringify(c.name)} }\n`).join('');
  const cwd = await tempDir({
    'tocsin.yml': `components:\n${components}probes:\n  - include: imported.yml\n`,
    'imported.yml': r.yaml,
  });
  return loadConfig(join(cwd, 'tocsin.yml'), { cwd, env: {} });
}

describe('http modules', () => {
  test('the default module: url, interval from the scrape, timeout as the exporter computes it', async () => {
    const r = await run('modules:\n  http_2xx:\n    prober: http\n', prometheus('http_2xx', ['example.com']));
    expect(r.problemLines).toEqual([]);
    expect(r.probes).toEqual([
      { id: 'web-example.com', kind: 'http', component: 'web', interval: '1m', timeout: '9500ms', url: 'http://example.com' },
    ]);
    expect(r.components).toEqual([{ id: 'web', name: 'web' }]);
  });

  test('status codes, method, headers, body, body size', async () => {
    const r = await httpModule(`      valid_status_codes: [200, 301]
      method: post
      headers:
        Content-Type: application/json
        X-Count: 3
      body: '{"ping":true}'
      body_size_limit: 10MB`);
    expect(r.problemLines).toEqual([]);
    expect(only(r)).toMatchObject({
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Count': '3' },
      body: '{"ping":true}',
      max_body_size: 10 * 1024 * 1024,
      expect: { status: [200, 301] },
    });
  });

  test('redirects off: follow_redirects false, and 2xx still the only success (Tocsin\'s default would add 3xx)', async () => {
    for (const option of ['no_follow_redirects: true', 'follow_redirects: false']) {
      const r = await httpModule(`      ${option}`);
      expect(only(r)).toMatchObject({ follow_redirects: false, expect: { status: ['2xx'] } });
    }
  });

  test('body regexps become one body_regex with the same verdicts', async () => {
    const r = await httpModule(`      fail_if_body_not_matches_regexp: ['"status":\\s*"ok"', '(?i)version']
      fail_if_body_matches_regexp: ['Could not connect']`);
    expect(r.problemLines).toEqual([]);
    const source = (only(r).expect as { body_regex: string }).body_regex;
    const re = new RegExp(source);
    expect(re.test('{"status": "ok", "VERSION": 4}')).toBe(true);
    expect(re.test('{"status": "ok"}')).toBe(false);
    expect(re.test('{"status": "ok", "version": 4}\nCould not connect')).toBe(false);
  });

  test('header regexps become header expectations; allow_missing is reported', async () => {
    const r = await httpModule(`      fail_if_header_not_matches:
        - header: Access-Control-Allow-Origin
          regexp: '(\\*|example\\.com)'
      fail_if_header_matches:
        - header: X-Powered-By
          regexp: 'PHP'
        - header: Set-Cookie
          allow_missing: true
          regexp: '.*'`);
    const header = (only(r).expect as { header: Record<string, string> }).header;
    expect(Object.keys(header)).toEqual(['access-control-allow-origin', 'x-powered-by']);
    const origin = parseRegexLiteral(header['access-control-allow-origin'] ?? '');
    const powered = parseRegexLiteral(header['x-powered-by'] ?? '');
    expect(origin?.test('https://example.com')).toBe(true);
    expect(origin?.test('https://other.org')).toBe(false);
    expect(powered?.test('Express')).toBe(true);
    expect(powered?.test('PHP/8.2')).toBe(false);
    expect(r.problemLines).toEqual([
      'blackbox.yml:11: module m: http.fail_if_header_matches[1]: header Set-Cookie: allow_missing is not mapped: a Tocsin header expectation fails when the header is missing',
    ]);
  });

  test('tls_config, and the Host header as SNI for https targets (as the exporter sends it)', async () => {
    const r = await httpModule(`      headers:
        Host: vhost.example.com:8443
      tls_config:
        insecure_skip_verify: true
        min_version: TLS13
        ca_file: certs/ca.pem
        cert_file: /etc/client.pem`);
    expect(only(r).tls).toEqual({
      insecure: true,
      min_version: 'TLSv1.3',
      ca_file: expect.stringMatching(/\/certs\/ca\.pem$/),
      server_name: 'vhost.example.com',
    });
    expect(r.problemLines).toEqual([
      expect.stringMatching(/^blackbox\.yml:10: module m: http\.tls_config\.ca_file: relative path "certs\/ca\.pem" .*: check it$/),
      'blackbox.yml:11: module m: http.tls_config.cert_file: not mapped: Tocsin probes present no client certificate',
    ]);
  });

  test('credentials go to the environment, never to the output or the report', async () => {
    const r = await httpModule(`      basic_auth:
        username: probe
        password: s3cr3t-pass
      headers:
        X-Api-Key: k3y-value`);
    expect(only(r)).toMatchObject({
      headers_env: { authorization: 'BLACKBOX_M_AUTHORIZATION', 'X-Api-Key': 'BLACKBOX_M_X_API_KEY' },
    });
    expect(only(r).headers).toBeUndefined();
    const everything = `${r.yaml}\n${r.problemLines.join('\n')}`;
    expect(everything).not.toContain('s3cr3t-pass');
    expect(everything).not.toContain('k3y-value');
    expect(r.problemLines).toHaveLength(2);
  });

  test('a hostname parameter is the Host header, and the SNI over https', async () => {
    const r = await httpModule('      method: GET', 'https://10.0.0.7/', '\n      hostname: [app.internal]');
    expect(only(r)).toMatchObject({ headers: { Host: 'app.internal' }, tls: { server_name: 'app.internal' } });
  });

  test('fail_if_not_ssl keeps its meaning only for an https target without redirects', async () => {
    const kept = await httpModule('      fail_if_not_ssl: true\n      no_follow_redirects: true');
    expect(kept.problemLines).toEqual([]);
    const lost = await httpModule('      fail_if_not_ssl: true', 'http://app.example.com/');
    expect(lost.problemLines).toEqual([expect.stringMatching(/^blackbox\.yml:5: module m: http\.fail_if_not_ssl: not mapped/)]);
    expect(lost.probes).toHaveLength(1);
  });

  test('ip_protocol_fallback: false is reported for host names only', async () => {
    const options = '      preferred_ip_protocol: ip4\n      ip_protocol_fallback: false';
    expect((await httpModule(options, 'http://192.0.2.1/')).problemLines).toEqual([]);
    expect((await httpModule(options)).problemLines).toEqual([
      expect.stringMatching(/^blackbox\.yml:6: module m: http\.ip_protocol_fallback: not mapped for host names/),
    ]);
  });

  test('options without a Tocsin equivalent are reported at their line, the probe kept', async () => {
    const r = await httpModule(`      compression: gzip
      proxy_url: http://proxy:3128
      valid_http_versions: [HTTP/2.0]
      fail_if_body_matches_regexp: ['\\p{Greek}']
      shiny_new_option: 1`);
    expect(r.probes).toHaveLength(1);
    expect(r.problemLines.map((l) => /^blackbox\.yml:(\d+): module m: http\.(\S+?):/.exec(l)?.slice(1))).toEqual([
      ['5', 'compression'],
      ['6', 'proxy_url'],
      ['7', 'valid_http_versions'],
      ['8', 'fail_if_body_matches_regexp[0]'],
      ['9', 'shiny_new_option'],
    ]);
  });

  test('credentials in a target URL: reported without them, not imported', async () => {
    const r = await httpModule('      method: GET', 'https://user:hunter2@app.example.com/');
    expect(r.probes).toEqual([]);
    expect(r.problemLines.join('\n')).not.toContain('hunter2');
    expect(r.problemLines).toEqual([expect.stringMatching(/^prometheus\.yml:7: target https:\/\/user:\*\*\*@app\.example\.com\/: credentials/)]);
  });
});

describe('timeouts: the exporter\'s rule', () => {
  test('the scrape timeout less 0.5 s, or the module\'s when shorter', () => {
    expect(effectiveTimeoutMs(undefined, 10_000)).toBe(9500);
    expect(effectiveTimeoutMs(5000, 10_000)).toBe(5000);
    expect(effectiveTimeoutMs(15_000, 10_000)).toBe(9500);
    expect(effectiveTimeoutMs(2000, 300)).toBe(2000);
  });

  test('job scrape_timeout, and global defaults completed as Prometheus does', async () => {
    const r = await run('modules:\n  m:\n    prober: http\n    timeout: 2s\n', `global:
  scrape_interval: 5s
${prometheus('m', ['http://a.example'], '').replace('    metrics_path', '    scrape_timeout: 3s\n    metrics_path')}`);
    expect(only(r)).toMatchObject({ interval: '5s', timeout: '2s' });
    const short = await run('modules:\n  m:\n    prober: http\n', `global:\n  scrape_interval: 4s\n${prometheus('m', ['http://a.example'])}`);
    // scrape_timeout defaults to the global 10s, cut to the 4s interval; less the exporter's 0.5s.
    expect(only(short)).toMatchObject({ interval: '4s', timeout: '3500ms' });
  });
});

describe('tcp modules', () => {
  test('plain tcp: the storage kind\'s TCP connect', async () => {
    const r = await run('modules:\n  tcp_connect:\n    prober: tcp\n', prometheus('tcp_connect', ['db.example.com:5432']));
    expect(only(r)).toMatchObject({ kind: 'storage', backend: 'tcp', address: 'db.example.com:5432' });
    expect(r.problemLines).toEqual([]);
  });

  test('tls: true is a tls probe, expiry judged as the exporter judges it', async () => {
    const r = await run(
      'modules:\n  tls_connect:\n    prober: tcp\n    tcp:\n      tls: true\n      tls_config:\n        server_name: mail.example.com\n',
      prometheus('tls_connect', ['10.0.0.9:993']),
    );
    expect(only(r)).toMatchObject({
      kind: 'tls',
      targets: ['10.0.0.9:993'],
      tls: { server_name: 'mail.example.com' },
      expect: { min_days_left: 0 },
    });
  });

  test('query_response is reported; a target without a port is not imported', async () => {
    const r = await run(
      'modules:\n  ssh:\n    prober: tcp\n    tcp:\n      query_response:\n        - expect: "^SSH-2.0-"\n',
      prometheus('ssh', ['git.example.com:22', 'git.example.com']),
    );
    expect(r.probes).toHaveLength(1);
    expect(r.problemLines).toEqual([
      'blackbox.yml:5: module ssh: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect is checked',
      'prometheus.yml:7: target git.example.com: module ssh needs host:port (IPv6 as [::1]:443), not imported',
    ]);
  });
});

describe('probers without a Tocsin kind', () => {
  test('icmp, dns, grpc: reported at the module and at the job that uses it', async () => {
    const r = await run(
      'modules:\n  icmp:\n    prober: icmp\n  dns:\n    prober: dns\n    dns:\n      query_name: example.com\n',
      `scrape_configs:
  - job_name: ping
    metrics_path: /probe
    params: { module: [icmp] }
    static_configs: [{ targets: [10.0.0.1] }]${RELABEL}
`,
    );
    expect(r.probes).toEqual([]);
    expect(r.imported).toBe(0);
    expect(r.problemLines).toEqual([
      'blackbox.yml:3: module icmp: prober icmp (ICMP echo, ping) has no Tocsin probe kind: not mapped',
      'prometheus.yml:2: job "ping": module icmp is not mapped (blackbox.yml:2): its targets are not imported',
    ]);
  });
});

describe('Prometheus jobs', () => {
  test('labels kept (group and target file), job and instance implied; file_sd relative to the Prometheus file', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n',
      `global: { scrape_interval: 20s }
scrape_configs:
  - job_name: shop
    metrics_path: /probe
    params: { module: [http_2xx] }
    static_configs:
      - targets: [https://shop.example.com]
        labels: { team: shop }
    file_sd_configs:
      - files: ['sd/*.json', 'sd/*.yaml']${RELABEL}
`,
      {
        'sd/a.json': '[\n  {\n    "targets": ["https://cart.example.com"],\n    "labels": {"team": "cart", "tier": "1"}\n  }\n]\n',
        'sd/b.yaml': '- targets:\n    - https://pay.example.com\n',
      },
    );
    expect(r.problemLines).toEqual([]);
    expect(r.probes.map((p) => [p.id, p.url, p.labels])).toEqual([
      ['shop-https-shop.example.com', 'https://shop.example.com', { team: 'shop' }],
      ['shop-https-cart.example.com', 'https://cart.example.com', { team: 'cart', tier: '1' }],
      ['shop-https-pay.example.com', 'https://pay.example.com', undefined],
    ]);
    expect(r.yaml).toContain('target at sd/a.json:3');
  });

  test('module from a target label; an unknown module reported at the job', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n  tcp_connect:\n    prober: tcp\n',
      `scrape_configs:
  - job_name: mixed
    metrics_path: /probe
    static_configs:
      - targets: [https://a.example.com]
        labels: { module: http_2xx }
      - targets: [a.example.com:443]
        labels: { module: tcp_connect }
      - targets: [b.example.com]
        labels: { module: icmp_v4 }
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [module]
        target_label: __param_module
      - regex: module
        action: labeldrop
      - target_label: __address__
        replacement: 127.0.0.1:9115
`,
    );
    expect(r.probes.map((p) => [p.id, p.kind, p.labels])).toEqual([
      ['mixed-https-a.example.com', 'http', undefined],
      ['mixed-a.example.com:443', 'storage', undefined],
    ]);
    expect(r.problemLines).toEqual([
      'prometheus.yml:2: job "mixed": module "icmp_v4" is not in blackbox.yml: its targets are not imported',
    ]);
  });

  test('without a module parameter the exporter uses http_2xx', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n    http:\n      method: HEAD\n',
      prometheus('http_2xx', ['https://a.example']).replace('    params:\n      module: [http_2xx]\n', ''),
    );
    expect(only(r)).toMatchObject({ method: 'HEAD' });
  });

  test('keep/drop filters silently; other discovery, lost targets and unknown parameters are reported', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n',
      `scrape_configs:
  - job_name: web
    metrics_path: /probe
    params: { module: [http_2xx], debug: ['true'] }
    static_configs:
      - targets: [https://a.example, https://b.example]
    consul_sd_configs:
      - server: localhost:8500
    file_sd_configs:
      - files: [missing/*.json]
    relabel_configs:
      - source_labels: [__address__]
        regex: '.*b\\.example'
        action: drop
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: 127.0.0.1:9115
  - job_name: no-target
    metrics_path: /probe
    static_configs:
      - targets: [https://c.example]
  - job_name: node
    static_configs:
      - targets: [localhost:9100]
`,
    );
    expect(r.probes.map((p) => p.id)).toEqual(['web-https-a.example']);
    expect(r.problemLines).toEqual([
      'prometheus.yml:6: job "web": target https://a.example: parameter debug is not mapped',
      'prometheus.yml:7: job "web": consul_sd_configs discovers targets while Prometheus runs: not followed (only static_configs and file_sd_configs are), its targets are not imported',
      'prometheus.yml:10: file_sd_configs: "missing/*.json" matches no file next to this config: its targets are not imported',
      'prometheus.yml:22: job "no-target": target https://c.example: no __param_target after relabelling: the exporter would have nothing to probe',
    ]);
  });

  test('a relabel rule it cannot follow: the job is reported, not imported', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n',
      prometheus('http_2xx', ['https://a.example']).replace(
        '    relabel_configs:\n',
        '    relabel_configs:\n      - { source_labels: [__address__], regex: \'\\p{Lu}.*\', action: drop }\n',
      ),
    );
    expect(r.probes).toEqual([]);
    expect(r.problemLines).toEqual([
      'prometheus.yml:2: job "web": not imported, for the problems reported with its settings',
      expect.stringMatching(/^prometheus\.yml:9: relabel rule cannot be followed: regex "\\\\p\{Lu\}\.\*": Unicode classes/),
    ]);
  });

  test('ids are stable and distinct: http and https of one host, two modules on one target', async () => {
    const r = await run(
      'modules:\n  http_2xx:\n    prober: http\n  http_post:\n    prober: http\n    http: { method: POST }\n',
      `scrape_configs:
  - job_name: web
    metrics_path: /probe
    static_configs:
      - targets: [http://a.example, https://a.example]
        labels: { m: http_2xx }
      - targets: [https://a.example]
        labels: { m: http_post }
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target }
      - { source_labels: [m], target_label: __param_module }
      - { regex: m, action: labeldrop }
      - { target_label: __address__, replacement: 127.0.0.1:9115 }
`,
    );
    expect(r.probes.map((p) => p.id)).toEqual(['web-a.example', 'web-https-a.example-http_2xx', 'web-https-a.example-http_post']);
    const again = await run(
      'modules:\n  http_2xx:\n    prober: http\n  http_post:\n    prober: http\n    http: { method: POST }\n',
      `scrape_configs:
  - job_name: web
    metrics_path: /probe
    static_configs:
      - targets: [https://a.example]
        labels: { m: http_post }
      - targets: [https://a.example, http://a.example]
        labels: { m: http_2xx }
    relabel_configs:
      - { source_labels: [__address__], target_label: __param_target }
      - { source_labels: [m], target_label: __param_module }
      - { regex: m, action: labeldrop }
      - { target_label: __address__, replacement: 127.0.0.1:9115 }
`,
    );
    expect(again.probes.map((p) => p.id).sort()).toEqual(r.probes.map((p) => p.id).sort());
  });

  test('unreadable and malformed files are problems with their line', async () => {
    const r = await run('modules:\n  m: [\n', undefined);
    expect(r.problemLines[0]).toMatch(/^blackbox\.yml:\d+: invalid YAML: /);
    const cwd = await tempDir({});
    const missing = await importBlackbox({ blackbox: 'nope.yml', prometheus: 'nope-either.yml', cwd });
    expect(missing.problemLines).toEqual([
      'nope.yml:1: cannot read: ENOENT: no such file or directory',
      'nope-either.yml:1: cannot read: ENOENT: no such file or directory',
    ]);
    expect(missing.imported).toBe(0);
  });
});

describe('the output', () => {
  test('is a YAML list of probes with its comments, that Tocsin\'s loader accepts', async () => {
    const r = await httpModule(`      valid_status_codes: [200]
      headers: { Accept: text/html }
      fail_if_body_not_matches_regexp: ['(?i)welcome']
      tls_config: { insecure_skip_verify: true }`);
    const parsed = parseYaml(r.yaml, 'out.yml');
    expect(parsed.ok && parsed.source.value).toEqual(r.probes);
    expect(r.yaml).toMatch(/^# Tocsin probes imported by `tocsin import blackbox`/);
    expect(r.yaml).toContain('#     - { id: web, name: "web" }');
    expect(r.yaml).toContain('# TODO: arrange depends_on');
    expect(r.yaml).toContain('# job web, module m (blackbox.yml:2), target at prometheus.yml:7\n- id: web-https-app.example.com-health');
    const loaded = await loadImported(r);
    expect(loaded.ok ? [] : loaded.problems.map(formatProblem)).toEqual([]);
  });
});

describe('the configs Debian ships', () => {
  test('debian/blackbox.yml (/etc/prometheus/blackbox.yml) with a canonical prometheus.yml', async () => {
    const r = await importBlackbox({ blackbox: 'debian/blackbox.yml', prometheus: 'prometheus.yml', cwd: FIXTURES });
    expect(r.problemLines).toEqual([
      'debian/blackbox.yml:13: module pop3s_banner: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect and the TLS handshake are checked',
      'debian/blackbox.yml:31: module ssh_banner: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect is checked',
      'debian/blackbox.yml:44: module icmp: prober icmp (ICMP echo, ping) has no Tocsin probe kind: not mapped',
      'prometheus.yml:100: job "blackbox-icmp": module icmp is not mapped (debian/blackbox.yml:43): its targets are not imported',
      'prometheus.yml:118: job "blackbox-dns-sd": dns_sd_configs discovers targets while Prometheus runs: not followed (only static_configs and file_sd_configs are), its targets are not imported',
    ]);
    expect(r.components.map((c) => c.id)).toEqual(['blackbox-http', 'blackbox-api-post', 'blackbox-tcp', 'blackbox-mail', 'blackbox-mixed']);
    expect(r.probes.map((p) => [p.id, p.kind, p.interval, p.timeout])).toEqual([
      ['blackbox-http-https-www.example.com', 'http', '30s', '9500ms'],
      ['blackbox-http-intranet.example.com:8080-health', 'http', '30s', '9500ms'],
      ['blackbox-http-10.1.2.3:8080-ready', 'http', '30s', '9500ms'],
      ['blackbox-http-https-shop.example.com', 'http', '30s', '9500ms'],
      ['blackbox-http-https-status.example.com-healthz', 'http', '30s', '9500ms'],
      ['blackbox-api-post-https-api.example.com-v1-ping', 'http', '15s', '4500ms'],
      ['blackbox-tcp-db.example.com:5432', 'storage', '1m', '9500ms'],
      ['blackbox-tcp-2001:db8::10:6379', 'storage', '1m', '9500ms'],
      ['blackbox-mail-mail.example.com:995', 'tls', '30s', '9500ms'],
      ['blackbox-mixed-https-www.example.org', 'http', '30s', '9500ms'],
      ['blackbox-mixed-git.example.org:22', 'storage', '30s', '9500ms'],
      ['blackbox-mixed-ldap.example.org:389', 'storage', '30s', '9500ms'],
    ]);
    expect(r.probes.find((p) => p.id === 'blackbox-http-https-shop.example.com')?.labels).toEqual({ env: 'prod', team: 'shop' });
    const loaded = await loadImported(r);
    expect(loaded.ok ? [] : loaded.problems.map(formatProblem)).toEqual([]);
    if (loaded.ok) expect(loaded.plan.probes).toHaveLength(12);
  });

  test('debian/example.yml, every module alone (no Prometheus config)', async () => {
    const r = await importBlackbox({ blackbox: 'debian/example.yml', cwd: FIXTURES });
    expect(r.imported).toBe(12);
    expect(r.probes).toEqual([]);
    expect(r.problemLines).toEqual([
      'debian/example.yml:21: module http_2xx_example: http.fail_if_header_matches[0]: header Set-Cookie: allow_missing is not mapped: a Tocsin header expectation fails when the header is missing',
      'debian/example.yml:30: module http_2xx_example: http.ip_protocol_fallback: not mapped for host names: Tocsin connects over whichever address family the resolver gives, with no preference',
      'debian/example.yml:34: module http_with_proxy: http.proxy_url: not mapped: Tocsin connects to targets directly, never through a proxy',
      'debian/example.yml:51: module http_basic_auth_example: http.basic_auth: credentials never live in Tocsin\'s config: set the environment variable BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_AUTHORIZATION to "Basic " followed by the base64 of username:password (sent as headers_env: { authorization: BLACKBOX_HTTP_BASIC_AUTH_EXAMPLE_AUTHORIZATION })',
      'debian/example.yml:64: module http_gzip: http.compression: not mapped: Tocsin does not decompress answers; body expectations see the raw bytes',
      'debian/example.yml:69: module http_gzip_with_accept_encoding: http.compression: not mapped: Tocsin does not decompress answers; body expectations see the raw bytes',
      'debian/example.yml:84: module imap_starttls: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect is checked (no STARTTLS)',
      'debian/example.yml:95: module smtp_starttls: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect is checked (no STARTTLS)',
      'debian/example.yml:109: module irc_banner_example: tcp.query_response: not mapped: Tocsin sends and reads nothing over the connection, only the TCP connect is checked',
      'debian/example.yml:116: module icmp_example: prober icmp (ICMP echo, ping) has no Tocsin probe kind: not mapped',
      'debian/example.yml:122: module dns_udp_example: prober dns (DNS queries) has no Tocsin probe kind: not mapped',
      'debian/example.yml:145: module dns_soa: prober dns (DNS queries) has no Tocsin probe kind: not mapped',
      'debian/example.yml:150: module dns_tcp_example: prober dns (DNS queries) has no Tocsin probe kind: not mapped',
    ]);
    // Still a list usable with include: (an empty one), the modules shown in comments.
    const parsed = parseYaml(r.yaml, 'out.yml');
    expect(parsed.ok && parsed.source.value).toEqual([]);
    expect(r.yaml).toContain('# module tls_connect (debian/example.yml:72):\n#   kind: tls');
  });

  test('debian/example.yml with jobs using its modules: the loader takes all but the example\'s missing CA file', async () => {
    const r = await importBlackbox({ blackbox: 'debian/example.yml', prometheus: 'prometheus-example.yml', cwd: FIXTURES });
    expect(r.probes.map((p) => p.id)).toEqual([
      'vhost-https-lb.example.com',
      'vhost-10.0.0.5',
      'api-post-https-10.0.0.7-submit',
      'login-https-login.example.com',
      'internal-ca-https-internal.example.com',
      'tls-www.example.com:443',
      'tls-2001:db8::1:8443',
      'smtp-mail.example.com:25',
    ]);
    expect(r.probes[0]).toMatchObject({
      headers: { Host: 'vhost.example.com', 'Accept-Language': 'en-US', Origin: 'example.com' },
      tls: { server_name: 'vhost.example.com' },
      timeout: '5s',
      interval: '15s',
    });
    expect(r.problemLines.at(-1)).toBe(
      'prometheus-example.yml:63: job "dns": module dns_udp_example is not mapped (debian/example.yml:121): its targets are not imported',
    );
    const loaded = await loadImported(r);
    expect(loaded.ok ? [] : loaded.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'probes[4].tls.ca_file: cannot read ca_file /certs/my_cert.crt: ENOENT: no such file or directory',
    ]);
  });
});
