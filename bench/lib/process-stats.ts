import { readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';

/** CPU time (user + system) this process spent since `since`, in milliseconds. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
}

/** Peak resident set size of this process so far (the kernel's high-water mark), in MB (10^6 bytes). */
export function maxRssMB(): number {
  // resourceUsage().maxRSS is in KiB on Linux.
  return (process.resourceUsage().maxRSS * 1024) / 1e6;
}

/** Resident set size now, in MB (10^6 bytes), the unit of the targets. */
export function rssMB(): number {
  return process.memoryUsage.rss() / 1e6;
}

/**
 * Samples RSS and the load average on a timer: the peak the kernel reports misses nothing, the
 * samples show how memory and the machine's load evolved during the run.
 */
export class ProcessSampler {
  #timer: NodeJS.Timeout | undefined;
  peakRssMB = 0;
  lastRssMB = 0;
  readonly loads: number[] = [];

  constructor(private readonly everyMs = 1000) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.sample();
  }

  sample(): void {
    this.lastRssMB = rssMB();
    this.peakRssMB = Math.max(this.peakRssMB, this.lastRssMB);
    this.loads.push(os.loadavg()[0] ?? Number.NaN);
  }

  get loadMax(): number {
    return Math.max(...this.loads);
  }

  get loadMean(): number {
    return this.loads.reduce((a, b) => a + b, 0) / Math.max(1, this.loads.length);
  }
}

/** The machine, for the record beside every figure. */
export function machineInfo(): { cpus: number; model: string; node: string; kernel: string; memGiB: number } {
  let model = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) model = line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // Not Linux: os.cpus() is the best we have.
  }
  return {
    cpus: os.availableParallelism(),
    model,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    memGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
  };
}

/** One line describing the machine and its current load (other processes included). */
export function machineLine(): string {
  const m = machineInfo();
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `machine: ${m.cpus} CPUs (${m.model}), ${m.memGiB} GiB, ${m.kernel}, node ${m.node}; load average now ${load}`;
}

let gc: (() => void) | undefined;

/**
 * Heap in use after a full garbage collection, in MB: what the process really retains, as opposed
 * to RSS, which also holds garbage V8 has not collected yet. Enables `gc()` at run time so that
 * `npm run bench` needs no `--expose-gc`; call it only outside a measured window (a full GC pauses).
 */
export function retainedHeapMB(): number {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1e6;
}
