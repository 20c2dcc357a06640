import type { TimerClock, TimerHandle } from '../clock.js';
import { MinHeap } from '../heap.js';
import { nextSlot, phaseOffset } from './phase.js';

export interface ScheduleEntry {
  /** Stable identity of the check, e.g. probe, target and vantage. */
  readonly key: string;
  readonly intervalMs: number;
}

export interface SchedulerHooks {
  /** A check is due; `dueAt` is its slot (ms), so lag = start time - dueAt. */
  onDue(key: string, dueAt: number): void;
  /** Slots that passed while the process could not run them (event loop stalled): counted, not run. */
  onMissed(key: string, slots: number): void;
}

interface Slot {
  readonly key: string;
  readonly dueAt: number;
  /** Entry generation the slot belongs to: a slot of a removed or changed entry is dropped when popped. */
  readonly generation: number;
}

interface Entry {
  readonly intervalMs: number;
  readonly offset: number;
  readonly generation: number;
}

/**
 * Fires each entry on its interval at a stable, hash-spread phase. One timer for the earliest slot
 * (a heap, not one timer per check), so 50,000 entries cost one wake-up per due slot.
 */
export class Scheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #heap = new MinHeap<Slot>((a, b) => a.dueAt < b.dueAt);
  #generation = 0;
  #timer: TimerHandle | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = false;

  constructor(
    private readonly clock: TimerClock,
    private readonly hooks: SchedulerHooks,
  ) {}

  get running(): boolean {
    return this.#running;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Replaces the schedule. Unchanged entries keep their slots; new ones get their phase. */
  set(entries: readonly ScheduleEntry[]): void {
    const wanted = new Map(entries.map((e) => [e.key, e]));
    for (const key of this.#entries.keys()) {
      if (!wanted.has(key)) this.#entries.delete(key);
    }
    const now = this.clock.now();
    for (const e of wanted.values()) {
      const existing = this.#entries.get(e.key);
      if (existing && existing.intervalMs === e.intervalMs) continue;
      const entry: Entry = {
        intervalMs: e.intervalMs,
        offset: phaseOffset(e.key, e.intervalMs),
        generation: ++this.#generation,
      };
      this.#entries.set(e.key, entry);
      this.#heap.push({
        key: e.key,
        dueAt: nextSlot(now, entry.intervalMs, entry.offset),
        generation: entry.generation,
      });
    }
    if (this.#running) this.#arm();
  }

  start(): void {
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
  }

  #arm(): void {
    const top = this.#heap.peek();
    if (!top || !this.#running) return;
    if (this.#timer && this.#timerAt <= top.dueAt) return;
    if (this.#timer) this.clock.clearTimeout(this.#timer);
    this.#timerAt = top.dueAt;
    this.#timer = this.clock.setTimeout(() => this.#fire(), Math.max(0, top.dueAt - this.clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    for (let top = this.#heap.peek(); top && top.dueAt <= now && this.#running; top = this.#heap.peek()) {
      this.#heap.pop();
      const entry = this.#entries.get(top.key);
      if (!entry || entry.generation !== top.generation) continue;
      // Slots that went by entirely while we were stalled are counted, not run late in a burst.
      const late = Math.floor((now - top.dueAt) / entry.intervalMs);
      if (late > 0) this.hooks.onMissed(top.key, late);
      const dueAt = top.dueAt + late * entry.intervalMs;
      this.#heap.push({ key: top.key, dueAt: dueAt + entry.intervalMs, generation: entry.generation });
      this.hooks.onDue(top.key, dueAt);
    }
    this.#arm();
  }
}
