import type { ProbeResult } from '../events/probe-result.js';
import { seriesKey } from '../results/key.js';

/** One check as the console's latency chart draws it. */
export interface HistoryPoint {
  /** Epoch ms of the check. */
  readonly at: number;
  readonly ok: boolean;
  /** Undefined when the probe reported no duration. */
  readonly durationMs: number | undefined;
}

/** Checks kept per series (probe, target, vantage). */
export const HISTORY_POINTS = 40;
/** Series kept at most (a config with more targets keeps the most recently seen ones). */
export const HISTORY_SERIES = 5000;
/** Series the arrays have room for at first; they double as series appear, up to the maximum. */
const INITIAL_SERIES = 64;

/**
 * A bounded in-memory window of recent checks per series, fed from the results bus, for the
 * console's latency sparklines. Not persisted: after a restart the history refills within
 * {@link HISTORY_POINTS} intervals, and the latest result per series still comes from the store.
 *
 * Points live in typed arrays, a segment of {@link HISTORY_POINTS} per series, oldest first: full,
 * 5,000 series of 40 points are 3.4 MB, where an object per point (and a boxed number for each
 * time and duration) was some 19 MB of heap. A point becomes an object only when the console asks
 * for its series.
 */
export class ResultHistory {
  /** Series key → its segment; least recently written first (eviction drops one no longer probed). */
  readonly #slots = new Map<string, number>();
  readonly #free: number[] = [];
  readonly #points: number;
  readonly #maxSeries: number;
  /** Segments handed out so far (the free ones included), and room in the arrays. */
  #allocated = 0;
  #capacity = 0;
  #at = new Float64Array(0);
  /** NaN where the probe reported no duration. */
  #duration = new Float64Array(0);
  #ok = new Uint8Array(0);
  /** Points held per segment. */
  #length = new Uint8Array(0);

  constructor(opts: { points?: number; maxSeries?: number } = {}) {
    this.#points = Math.min(255, opts.points ?? HISTORY_POINTS);
    this.#maxSeries = opts.maxSeries ?? HISTORY_SERIES;
  }

  record(r: ProbeResult): void {
    const key = seriesKey(r);
    let slot = this.#slots.get(key);
    if (slot !== undefined) {
      this.#slots.delete(key);
    } else {
      if (this.#slots.size >= this.#maxSeries) {
        const oldest = this.#slots.entries().next();
        if (!oldest.done) {
          this.#slots.delete(oldest.value[0]);
          this.#free.push(oldest.value[1]);
        }
      }
      slot = this.#free.pop() ?? this.#grow();
      this.#length[slot] = 0;
    }
    this.#slots.set(key, slot);
    this.#insert(slot, Date.parse(r.at), r.ok, r.duration_ms);
  }

  /** The recent checks of one series, oldest first (a copy). */
  series(r: Pick<ProbeResult, 'probe' | 'target' | 'vantage'>): HistoryPoint[] {
    const slot = this.#slots.get(seriesKey(r));
    if (slot === undefined) return [];
    const base = slot * this.#points;
    const out: HistoryPoint[] = [];
    for (let i = base; i < base + (this.#length[slot] ?? 0); i++) {
      const ms = this.#duration[i] ?? Number.NaN;
      out.push({ at: this.#at[i] ?? 0, ok: this.#ok[i] === 1, durationMs: Number.isNaN(ms) ? undefined : ms });
    }
    return out;
  }

  /** Puts a point in time order (remote workers may deliver late), the oldest going when full. */
  #insert(slot: number, at: number, ok: boolean, durationMs: number | undefined): void {
    const base = slot * this.#points;
    let length = this.#length[slot] ?? 0;
    if (length === this.#points) {
      // Full: a point older than all kept ones would be dropped at once.
      if (at < (this.#at[base] ?? 0)) return;
      this.#shift(base + 1, base + length, base);
      length--;
    }
    let i = base + length;
    while (i > base && (this.#at[i - 1] ?? 0) > at) i--;
    this.#shift(i, base + length, i + 1);
    this.#at[i] = at;
    this.#ok[i] = ok ? 1 : 0;
    this.#duration[i] = durationMs ?? Number.NaN;
    this.#length[slot] = length + 1;
  }

  /** Moves points [from, to) to start at `target`, in every array. */
  #shift(from: number, to: number, target: number): void {
    if (from >= to) return;
    this.#at.copyWithin(target, from, to);
    this.#ok.copyWithin(target, from, to);
    this.#duration.copyWithin(target, from, to);
  }

  /** A new segment at the end, the arrays doubled first when they are full. */
  #grow(): number {
    const slot = this.#allocated++;
    if (slot >= this.#capacity) {
      const capacity = Math.min(this.#maxSeries, Math.max(INITIAL_SERIES, this.#capacity * 2));
      const size = capacity * this.#points;
      this.#at = grown(this.#at, new Float64Array(size));
      this.#duration = grown(this.#duration, new Float64Array(size));
      this.#ok = grown(this.#ok, new Uint8Array(size));
      this.#length = grown(this.#length, new Uint8Array(capacity));
      this.#capacity = capacity;
    }
    return slot;
  }
}

function grown<T extends Float64Array | Uint8Array>(old: T, next: T): T {
  next.set(old);
  return next;
}
