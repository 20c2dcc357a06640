import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`: 100 on Linux). */
const CLK_TCK = 100;

/** Memory of another process from /proc/<pid>/status, in MB (10^6 bytes); undefined once it is gone. */
export function procMemoryMB(pid: number): { rssMB: number; hwmMB: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kib = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN);
  return { rssMB: (kib('VmRSS') * 1024) / 1e6, hwmMB: (kib('VmHWM') * 1024) / 1e6 };
}

/** CPU-seconds (user + system) another process has used so far, from /proc/<pid>/stat. */
export function procCpuSeconds(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces: count fields from the closing parenthesis.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * Samples another process's RSS and CPU on a timer: the kernel's high-water mark (VmHWM) gives
 * the peak even between samples; the samples show RSS over time.
 */
export class ProcSampler {
  #timer: NodeJS.Timeout | undefined;
  lastRssMB = Number.NaN;
  peakRssMB = Number.NaN;
  hwmMB = Number.NaN;

  constructor(
    private readonly pid: number,
    private readonly everyMs = 500,
  ) {}

  start(): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), this.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    this.sample();
    clearInterval(this.#timer);
  }

  sample(): void {
    const m = procMemoryMB(this.pid);
    if (!m) return;
    this.lastRssMB = m.rssMB;
    this.peakRssMB = Number.isNaN(this.peakRssMB) ? m.rssMB : Math.max(this.peakRssMB, m.rssMB);
    this.hwmMB = m.hwmMB;
  }

  cpuSeconds(): number {
    return procCpuSeconds(this.pid) ?? Number.NaN;
  }
}
