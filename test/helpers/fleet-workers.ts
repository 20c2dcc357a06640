import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { TOCSIN_BIN, waitFor } from './cli.js';

/** A `tocsin worker` child process, its stderr kept. */
export class WorkerProcess {
  stderr = '';
  readonly exited: Promise<number | null>;
  constructor(readonly child: ChildProcess) {
    child.stderr?.on('data', (d) => {
      this.stderr += d;
    });
    this.exited = once(child, 'exit').then(([code]) => code as number | null);
  }

  /** `tocsin worker --vantage NAME --source-address IP` with the config, from `cwd`. */
  static start(configFile: string, cwd: string, vantage: { readonly name: string; readonly source: string }) {
    const child = spawn(
      process.execPath,
      [TOCSIN_BIN, 'worker', '--config', configFile, '--vantage', vantage.name, '--source-address', vantage.source],
      { cwd, env: { ...process.env, TOCSIN_CONFIG: '' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return new WorkerProcess(child);
  }

  /** Resolves once it logged that it takes jobs; throws if it exited first. */
  ready(): Promise<true> {
    return waitFor(() => {
      if (this.child.exitCode !== null) throw new Error(`daemon exited: worker ${this.stderr}`);
      return this.stderr.includes('tocsin worker ready') ? true : undefined;
    }, 20_000);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** Values of the samples of `name` whose labels include `labels`. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || !/[{ ]/.test(line.charAt(name.length))) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) values.push(Number(line.split(' ').pop()));
  }
  return values;
}

export const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
