import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestPki } from '../helpers/certs.js';
import { waitFor } from '../helpers/cli.js';

// "Install anywhere": the package as a user gets it. `npm pack` of this checkout, `npm install -g`
// of the tarball into a prefix of its own (dependencies only, native modules built from source),
// then the installed `tocsin` run from directories that have nothing to do with the checkout,
// with its config elsewhere, as /etc/tocsin/tocsin.yml is under the systemd unit.

const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** Packing and installing: npm resolves from its cache, better-sqlite3 compiles (over a minute on two cores). */
const INSTALL_TIMEOUT_MS = 10 * 60_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The environment of a login shell: without what `npm run` and vitest add (npm_* variables, the
 * checkout's node_modules/.bin on PATH, where tsc is), so neither npm nor the installed CLI can
 * lean on the checkout.
 */
function shellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.toLowerCase().startsWith('npm_') || k === 'INIT_CWD' || k === 'TOCSIN_CONFIG') continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((p) => !p.includes(`${sep}node_modules${sep}`) && !p.endsWith(`${sep}node_modules${sep}.bin`))
    .join(delimiter);
  return { ...env, ...extra };
}

function run(cmd: string, args: readonly string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: shellEnv(opts.env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

function commandExists(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && existsSync(join(d, name)));
}

/** The number of rules in the checkout's default pack (what the installed package must ship). */
function packRuleCount(): number {
  const dir = join(REPO, 'rules');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .reduce((n, f) => n + (parse(readFileSync(join(dir, f), 'utf8')) as unknown[]).length, 0);
}

describe('npm pack, then npm install -g of the tarball: tocsin from any directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-install-'));
  const prefix = join(dir, 'prefix');
  const tocsin = join(prefix, 'bin', 'tocsin');
  const installed = join(prefix, 'lib', 'node_modules', 'tocsin');
  const etc = join(dir, 'etc');
  const configFile = join(etc, 'tocsin.yml');
  /** A working directory unrelated to the checkout and to the config. */
  const elsewhere = join(dir, 'elsewhere');
  let packed: string[] = [];
  let target: Server | undefined;
  let targetUrl = '';
  let daemon: ReturnType<typeof spawn> | undefined;

  beforeAll(async () => {
    mkdirSync(elsewhere);
    mkdirSync(join(etc, 'checks.d'), { recursive: true });
    target = createServer((req, res) => {
      if (req.url === '/health') res.writeHead(200, { 'content-type': 'text/plain' }).end('tocsin ok\n');
      else res.writeHead(503).end();
    });
    await new Promise<void>((resolve) => target?.listen(0, '127.0.0.1', resolve));
    targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;

    // dist/ is what `npm run build` (the same tsc as the prepare script) made before the
    // integration tests; packing runs no script, so dist/ is never rewritten under other tests.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO });
    if (pack.code !== 0) throw new Error(`npm pack exited ${pack.code}:\n${pack.stderr}`);
    const [manifest] = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    if (!manifest) throw new Error(`npm pack printed no manifest:\n${pack.stdout}`);
    packed = manifest.files.map((f) => f.path);
    const tarball = join(dir, manifest.filename);

    // A global install: dependencies only, never devDependencies. --strict-allow-scripts fails the
    // install if any package but these runs an install script. The tarball itself is listed only
    // because npm counts a local tarball's `prepare` as one; npm runs it for git and directory
    // installs, never for a tarball (no TypeScript here to run it with anyway).
    mkdirSync(join(prefix, 'lib'), { recursive: true }); // the strict check wants it to exist
    const install = await run(
      'npm',
      [
        'install', '--global', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund',
        '--strict-allow-scripts', `--allow-scripts=better-sqlite3,msgpackr-extract,file:${tarball}`, tarball,
      ],
      { cwd: dir },
    );
    if (install.code !== 0) throw new Error(`npm install -g exited ${install.code}:\n${install.stdout}${install.stderr}`);

    writeFileSync(
      configFile,
      `# No rules: the default pack shipped in the package.
server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: data/tocsin.db }   # relative to the working directory
components:
  - { id: web, name: Web, group: Apps }
probes:
  - include: checks.d/*.yml                     # relative to this file
  - { id: web-health, kind: http, component: web, url: "${targetUrl}/health", interval: 1s, timeout: 800ms, expect: { body_contains: tocsin ok } }
`,
    );
    writeFileSync(
      join(etc, 'checks.d', 'more.yml'),
      `- { id: web-down, kind: http, component: web, url: "${targetUrl}/down", interval: 1s, timeout: 800ms }
- { id: web-tls, kind: tls, component: web, targets: ["127.0.0.1:1"], interval: 1m, tls: { ca_file: ../ca.pem } }   # relative to this file
`,
    );
    const pki = await createTestPki();
    writeFileSync(join(etc, 'ca.pem'), pki.ca.cert);
    await pki.cleanup();
  }, INSTALL_TIMEOUT_MS);

  afterAll(async () => {
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL');
    target?.closeAllConnections();
    await new Promise<void>((resolve) => (target ? target.close(() => resolve()) : resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('packs the CLI, its rule pack, the docs and the systemd unit, and no test, bench or demo output', () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        'package.json',
        'bin/tocsin.js',
        'dist/src/cli/main.js',
        'dist/src/console/client.js',
        'dist/probes/index.js',
        'contrib/systemd/tocsin.service',
        'contrib/systemd/README.md',
        'docs/configuration.md',
        ...readdirSync(join(REPO, 'rules')).map((f) => `rules/${f}`),
      ]),
    );
    expect(packed.filter((p) => /^(dist\/(test|bench|demo|vitest)|src\/|test\/|bench\/|demo\/)/.test(p))).toEqual([]);
    // A global install takes dependencies only: nothing to compile TypeScript with.
    expect(existsSync(join(installed, 'node_modules', 'typescript'))).toBe(false);
    expect(existsSync(join(installed, 'node_modules', 'vitest'))).toBe(false);
  });

  it('check-config from another directory: includes and ca_file relative to the config, the packaged rule pack', async () => {
    const ok = `${configFile}: OK (1 component, 3 probes, ${packRuleCount()} rules)\n`;
    const byFlag = await run(tocsin, ['check-config', '--config', configFile], { cwd: elsewhere });
    expect(byFlag).toEqual({ code: 0, stdout: ok, stderr: '' });
    // From / as well, with the config named by the environment (as a unit or a cron job would).
    const byEnv = await run(tocsin, ['check-config'], { cwd: '/', env: { TOCSIN_CONFIG: configFile } });
    expect(byEnv).toEqual({ code: 0, stdout: ok, stderr: '' });

    const version = await run(tocsin, ['--version'], { cwd: elsewhere });
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('probe runs one probe against a loopback server and prints its result events', async () => {
    const up = await run(tocsin, ['probe', 'web-health'], { cwd: elsewhere, env: { TOCSIN_CONFIG: configFile } });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const lines = up.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ probe: 'web-health', target: `${targetUrl}/health`, vantage: 'local', ok: true }),
    ]);

    const down = await run(tocsin, ['probe', '--config', configFile, 'web-down'], { cwd: elsewhere });
    expect(down.code).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ probe: 'web-down', ok: false, error: 'status' });
    expect(down.stderr).toBe('tocsin: web-down: 1 of 1 target failed\n');
  });

  it('run keeps its state under the working directory, serves the console from the package, stops on SIGTERM', async () => {
    const state = join(dir, 'state'); // what the unit's WorkingDirectory=/var/lib/tocsin is
    mkdirSync(state);
    const child = spawn(tocsin, ['run', '--config', configFile], { cwd: state, env: shellEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    daemon = child;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = once(child, 'exit');
    const url = await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${stderr}`);
      return /"url":"(http:\/\/[^"]+)"/.exec(stderr)?.[1];
    }, 30_000);

    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const script = await fetch(`${url}/console/client.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(100);
    // The generated token and the database: under the working directory, for the daemon's user only.
    expect(statSync(join(state, 'data', 'operator.token')).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'data', 'tocsin.db')).isFile()).toBe(true);
    expect(existsSync(join(etc, 'data'))).toBe(false);

    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code, stderr).toBe(0);
  });

  it('the systemd unit passes systemd-analyze verify with ExecStart at the installed binary', async () => {
    // Required, never skipped: scripts/install-test-deps.sh installs it (Debian package systemd).
    expect(commandExists('systemd-analyze'), 'systemd-analyze (Debian package systemd) is missing').toBe(true);
    const unit = readFileSync(join(REPO, 'contrib', 'systemd', 'tocsin.service'), 'utf8');
    const execStart = /^ExecStart=(\S+) (.*)$/m.exec(unit);
    expect(execStart?.[1]).toBe('/usr/local/bin/tocsin');
    expect(execStart?.[2]).toBe('run --config /etc/tocsin/tocsin.yml');
    // verify checks that ExecStart's binary exists: point it at the one installed here.
    const unitDir = join(dir, 'unit');
    mkdirSync(unitDir);
    const unitFile = join(unitDir, 'tocsin.service');
    writeFileSync(unitFile, unit.replace(/^ExecStart=\S+ /m, `ExecStart=${tocsin} `));
    const res = await run('systemd-analyze', ['verify', unitFile], { cwd: unitDir });
    // Unknown keys and bad values are only warnings (exit 0): any output is a failure.
    expect(res).toEqual({ code: 0, stdout: '', stderr: '' });
  });
});
