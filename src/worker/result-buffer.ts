import type { FleetMessage } from '../queue/bullmq-jobs.js';

export interface BufferLimits {
  /** Results held at most (`queue.buffer.max_results`); the oldest go first. */
  readonly maxResults: number;
  /** Results held longer than this are dropped (`queue.buffer.max_age`). */
  readonly maxAgeMs: number;
}

/** `queue.buffer`'s defaults (src/config/schema.ts): 10,000 probes every 30 s for 10 minutes. */
export const DEFAULT_BUFFER_LIMITS: BufferLimits = { maxResults: 200_000, maxAgeMs: 600_000 };

/** Results in a message (a skipped check counts as one, so the bound holds for any mix). */
const weightOf = (msg: FleetMessage): number => (msg.type === 'results' ? Math.max(1, msg.results.length) : 1);

interface Held {
  readonly msg: FleetMessage;
  /** Results in the message (a skipped check counts as one, so the bound holds for any mix). */
  readonly weight: number;
  /** When it was produced: buffered then, or sent then and put back when the send failed. */
  readonly at: number;
}

/**
 * A worker's results while Redis cannot take them: first in, first out, bounded by count and age,
 * so an outage costs bounded memory and what is delivered afterwards comes in the order it was
 * produced. What the bounds push out is counted by reason.
 */
export class ResultBuffer {
  /** A queue as an array and a head index: shifting 200,000 entries one by one would be quadratic. */
  #items: Held[] = [];
  #head = 0;
  #size = 0;
  droppedOverflow = 0;
  droppedExpired = 0;

  constructor(private readonly limits: BufferLimits) {}

  /** Results held. */
  get size(): number {
    return this.#size;
  }

  get empty(): boolean {
    return this.#head >= this.#items.length;
  }

  /** Adds a message at the back; returns how many results the bound pushed out of the front. */
  push(msg: FleetMessage, now: number): number {
    return this.#hold({ msg, weight: weightOf(msg), at: now }, this.#items.length);
  }

  /**
   * Puts back a message produced at `producedAt` whose send failed, before everything produced
   * after it: a send that was already on its way when Redis went away fails only once the
   * connection is given up, after later results were buffered, and must neither overtake them
   * nor outlive them when the bound drops the oldest. The scan goes from the back: such a
   * message is one of the few in flight when the outage began.
   */
  putBack(msg: FleetMessage, producedAt: number): number {
    let i = this.#items.length;
    while (i > this.#head && (this.#items[i - 1] as Held).at > producedAt) i--;
    return this.#hold({ msg, weight: weightOf(msg), at: producedAt }, i);
  }

  #hold(held: Held, index: number): number {
    if (index === this.#items.length) this.#items.push(held);
    else this.#items.splice(index, 0, held);
    this.#size += held.weight;
    let dropped = 0;
    while (this.#size > this.limits.maxResults && !this.empty) dropped += this.#dropHead();
    this.droppedOverflow += dropped;
    return dropped;
  }

  /** Drops what has been held longer than the age bound; returns how many results. */
  expire(now: number): number {
    let dropped = 0;
    const { maxAgeMs } = this.limits;
    while (!this.empty && now - (this.#items[this.#head] as Held).at > maxAgeMs) dropped += this.#dropHead();
    this.droppedExpired += dropped;
    return dropped;
  }

  /** The oldest `n` messages, still held. */
  peek(n: number): FleetMessage[] {
    return this.#items.slice(this.#head, this.#head + n).map((h) => h.msg);
  }

  /** Removes the oldest `n` messages (they were delivered). */
  shift(n: number): void {
    for (let i = 0; i < n && !this.empty; i++) this.#dropHead();
  }

  #dropHead(): number {
    const held = this.#items[this.#head] as Held;
    this.#head++;
    this.#size -= held.weight;
    if (this.#head >= this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return held.weight;
  }
}
