import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** The built CLI, run as users run it. */
export const TOCSIN_BIN = fileURLToPath(new URL('../../bin/tocsin.js', import.meta.url));

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tocsin ARGS` to completion. */
export async function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const child = spawn(process.execPath, [TOCSIN_BIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

/** A `tocsin run` child process. */
export class DaemonProcess {
  stderr = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  /** Starts the daemon and resolves with it and its API URL once it logs that it runs. */
  static async start(
    configFile: string,
    cwd: string,
    extraArgs: string[] = [],
  ): Promise<{ daemon: DaemonProcess; url: string }> {
    const child = spawn(process.execPath, [TOCSIN_BIN, 'run', '--config', configFile, ...extraArgs], {
      cwd,
      env: { ...process.env, TOCSIN_CONFIG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const daemon = new DaemonProcess(child);
    const url = await waitFor(async () => {
      const m = /"url":"(http:\/\/[^"]+)"/.exec(daemon.stderr);
      if (m?.[1]) return m[1];
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${daemon.stderr}`);
      return undefined;
    }, 20_000);
    return { daemon, url };
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  /** SIGKILL if still running (test cleanup). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Polls `fn` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
      if ((err as Error).message.startsWith('daemon exited')) throw err;
    }
    if (Date.now() > end)
      throw new Error(`condition not met within ${timeoutMs} ms${lastErr ? `: ${String(lastErr)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
