import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { TOCSIN_BIN, waitFor } from '../helpers/cli.js';

/** util-linux `script`: runs a command on a pseudo-terminal, as a person's shell would. */
const SCRIPT = '/usr/bin/script';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 20_000;

interface Child {
  readonly child: ChildProcess;
  /** stderr, or with `script` everything the terminal showed. */
  output: string;
}

function watch(child: ChildProcess): Child {
  const c: Child = { child, output: '' };
  const add = (d: Buffer) => {
    c.output += d.toString('utf8');
  };
  child.stdout?.on('data', add);
  child.stderr?.on('data', add);
  return c;
}

const ENV = { ...process.env, TOCSIN_CONFIG: '' };

/** `tocsin run` with its stderr on a pipe (not a terminal). */
function runPiped(cwd: string, args: string[]): Child {
  return watch(spawn(process.execPath, [TOCSIN_BIN, 'run', ...args], { cwd, env: ENV, stdio: ['ignore', 'ignore', 'pipe'] }));
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The first line matching `re` in what the child wrote, once it is there. */
function lineOf(c: Child, re: RegExp): Promise<string> {
  return waitFor(() => {
    const line = c.output.split(/\r?\n/).find((l) => re.test(l));
    if (line !== undefined) return line;
    if (c.child.exitCode !== null) throw new Error(`daemon exited with ${c.child.exitCode}: ${c.output}`);
    return undefined;
  }, START_TIMEOUT_MS);
}

function signal(pid: number | undefined, sig: NodeJS.Signals): void {
  try {
    if (pid !== undefined) process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * SIGTERM to `pid` (the daemon: `c` itself, or the daemon `script` runs), then the exit of `c`;
 * SIGKILL to both if it does not come in time.
 */
async function stop(c: Child, pid = c.child.pid): Promise<number | null> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return c.child.exitCode;
  const exited = once(c.child, 'exit').then(([code]) => code as number | null);
  signal(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (pid !== c.child.pid) signal(pid, 'SIGKILL');
    c.child.kill('SIGKILL');
  }, STOP_TIMEOUT_MS);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('tocsin run: log formats and the start line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-logs-'));
  const running: { c: Child; pid?: number }[] = [];

  const config = (extra = '') => {
    const file = join(dir, `tocsin-${running.length}.yml`);
    // The probe's target refuses connections: the daemon logs warnings too, not only its start.
    writeFileSync(
      file,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: web, name: Web }
probes:
  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:1/", interval: 1s, timeout: 500ms }
${extra}`,
    );
    return file;
  };
  const tokenFile = join(dir, 'data', 'operator.token');

  afterEach(async () => {
    for (const { c, pid } of running.splice(0)) await stop(c, pid);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--log-format logfmt: the start line names the API, the console, /metrics and the token file, never the token', async () => {
    const c = runPiped(dir, ['--config', config(), '--log-format', 'logfmt']);
    running.push({ c });
    const line = await lineOf(c, /msg="tocsin running"/);
    const url = /^ts=\S+ level=info msg="tocsin running" url=(http:\/\/127\.0\.0\.1:\d+) /.exec(line)?.[1];
    expect(url, line).toBeDefined();
    expect(line).toContain(` api=${url}/api/v1 `);
    expect(line).toContain(` console=${url}/ `);
    expect(line).toContain(` metrics=${url}/metrics `);
    expect(line).toContain(` token_file=${tokenFile} `);
    expect(line).toMatch(/ probes=1 checks=1$/);

    // What the line points at is there.
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    expect((await fetch(`${url}/`, { redirect: 'manual' })).status).toBeLessThan(500);
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(24);
    // An authenticated request goes through the same logger.
    expect((await fetch(`${url}/api/v1/probes`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

    expect(await stop(c)).toBe(0);
    const lines = c.output.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) expect(l).toMatch(/^ts=\d{4}-\d\d-\d\dT\S+Z level=(trace|debug|info|warn|error|fatal) /);
    expect(c.output).not.toContain(token);
  });

  it('auto without a terminal writes JSON lines, start line included', async () => {
    const c = runPiped(dir, ['--config', config()]);
    running.push({ c });
    const line = await lineOf(c, /"msg":"tocsin running"/);
    const record = JSON.parse(line) as Record<string, unknown>;
    const url = String(record.url);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(record).toMatchObject({
      level: 30,
      service: 'tocsin',
      api: `${url}/api/v1`,
      console: `${url}/`,
      metrics: `${url}/metrics`,
      token_file: tokenFile,
      probes: 1,
      checks: 1,
    });
    expect(await stop(c)).toBe(0);
    for (const l of c.output.split('\n').filter((x) => x !== '')) expect(() => JSON.parse(l)).not.toThrow();
    expect(c.output).not.toContain(readFileSync(tokenFile, 'utf8').trim());
  });

  it('log.format in the config applies, and --log-format wins over it', async () => {
    const file = config('log: { format: logfmt }\n');
    const fromConfig = runPiped(dir, ['--config', file]);
    running.push({ c: fromConfig });
    await lineOf(fromConfig, /^ts=\S+ level=info msg="tocsin running" url=/);
    expect(await stop(fromConfig)).toBe(0);

    const fromFlag = runPiped(dir, ['--config', file, '--log-format', 'json']);
    running.push({ c: fromFlag });
    const line = await lineOf(fromFlag, /"msg":"tocsin running"/);
    expect(JSON.parse(line)).toMatchObject({ msg: 'tocsin running', token_file: tokenFile });
    expect(await stop(fromFlag)).toBe(0);
  });

  it.skipIf(!existsSync(SCRIPT))('auto on a terminal writes the terminal format', async () => {
    // `script` runs the command on a pseudo-terminal; the shell prints its pid before becoming
    // the daemon, so the test signals the daemon itself (the terminal's hang-up would reload it).
    const command =
      `echo tocsin-pid=$$; exec ${shellQuote(process.execPath)} ${shellQuote(TOCSIN_BIN)} run ` +
      `--config ${shellQuote(config())}`;
    const c = watch(spawn(SCRIPT, ['-qfec', command, '/dev/null'], { cwd: dir, env: ENV, stdio: ['pipe', 'pipe', 'pipe'] }));
    const entry: { c: Child; pid?: number } = { c };
    running.push(entry);
    const pidLine = await lineOf(c, /^tocsin-pid=\d+$/);
    entry.pid = Number(pidLine.slice('tocsin-pid='.length));

    const line = await lineOf(c, /tocsin running/);
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}tocsin running url=http:\/\/127\.0\.0\.1:\d+ api=\S+ console=\S+ metrics=\S+ token_file=\S+ probes=1 checks=1$/,
    );
    expect(line).not.toContain('{"');
    expect(await stop(c, entry.pid)).toBe(0);
    expect(c.output).not.toContain(readFileSync(tokenFile, 'utf8').trim());
  });
});
