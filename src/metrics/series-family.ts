import type { MetricValue } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

/** Prometheus text escaping of HELP text (as prom-client escapes it: \ and newline). */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: HELP's escaping, and its double quotes. */
function escapeLabelValue(value: string): string {
  return escapeText(value).replace(/"/g, '\\"');
}

/** A sample value as prom-client writes it (so the exposition is prom-client's, byte for byte). */
function sampleText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

const INITIAL_SLOTS = 64;
/** Lines rendered between two yields to the event loop: a few milliseconds of work at most. */
export const LINES_PER_CHUNK = 4096;

/**
 * A gauge or counter family with one series per probe (or per probe and target, vantage, error):
 * the families that grow with the number of probes, kept compact. prom-client keeps each series as
 * an object holding a copy of its labels, hashes the labels on every update, and builds an object
 * per series on every scrape; at 50,000 probes that was most of the heap and of a scrape's cost.
 *
 * Here a series is a slot: its value in a Float64Array and its label text, escaped and rendered
 * once when the series first appears. An update through a slot (`setAt`, `incAt`) allocates
 * nothing; a scrape writes each line from the two (`render`), a chunk at a time, so the exposition
 * can give the event loop back between chunks.
 *
 * Registered in the prom-client registry like any metric (`get()` and `reset()` are what the
 * registry calls), so `registry.metrics()` and the JSON view still see it.
 */
export class SeriesFamily<L extends string> {
  readonly aggregator = 'sum';
  readonly #slots = new Map<string, number>();
  /** `{a="x",b="y"}` per slot; '' marks a removed slot, free for the next new series. */
  readonly #labelText: string[] = [];
  readonly #free: number[] = [];
  #values = new Float64Array(INITIAL_SLOTS);

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    readonly labelNames: readonly L[],
  ) {}

  /** The slot of this label set, created (value 0) on first use. */
  slot(labels: Labels<L>): number {
    const key = this.#key(labels);
    const known = this.#slots.get(key);
    if (known !== undefined) return known;
    const slot = this.#free.pop() ?? this.#labelText.length;
    if (slot >= this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#labelText[slot] = ['{', this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(','), '}'].join('');
    this.#values[slot] = 0;
    this.#slots.set(key, slot);
    return slot;
  }

  setAt(slot: number, value: number): void {
    this.#values[slot] = value;
  }

  incAt(slot: number, by = 1): void {
    this.#values[slot] = (this.#values[slot] ?? 0) + by;
  }

  set(labels: Labels<L>, value: number): void {
    this.setAt(this.slot(labels), value);
  }

  inc(labels: Labels<L>, by = 1): void {
    this.incAt(this.slot(labels), by);
  }

  /** Forgets a series (a probe removed from the config); its slot is reused. */
  remove(labels: Labels<L>): void {
    const key = this.#key(labels);
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#labelText[slot] = '';
    this.#free.push(slot);
  }

  /** Series in this family. */
  get size(): number {
    return this.#slots.size;
  }

  reset(): void {
    this.#slots.clear();
    this.#labelText.length = 0;
    this.#free.length = 0;
    this.#values = new Float64Array(INITIAL_SLOTS);
  }

  /**
   * The family's text (HELP, TYPE, one line per series), handed to `write` in pieces of at most
   * LINES_PER_CHUNK lines; `between` runs between two pieces (the exposition yields there).
   */
  async render(write: (text: string) => void, between: () => Promise<void>): Promise<void> {
    write(`# HELP ${this.name} ${escapeText(this.help)}\n# TYPE ${this.name} ${this.type}`);
    // Lines are gathered in an array and joined: the piece is one flat string. Appending to a
    // string instead builds a rope of three nodes per line, 2.5 times the text's size until written.
    let lines: string[] = [];
    // Slots are read as they are when reached: a series created during the render is in it if its
    // slot is reached, as with any scrape racing an update.
    for (let slot = 0; slot < this.#labelText.length; slot++) {
      const labels = this.#labelText[slot];
      if (!labels) continue;
      lines.push(`${this.name}${labels} ${sampleText(this.#values[slot] ?? 0)}`);
      if (lines.length === LINES_PER_CHUNK) {
        write(`\n${lines.join('\n')}`);
        lines = [];
        await between();
      }
    }
    if (lines.length > 0) write(`\n${lines.join('\n')}`);
  }

  /** prom-client's view of the family (registry.metrics(), getMetricsAsJSON()): one object per series. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: MetricValue<L>[] }> {
    const bySlot = [...this.#slots].sort((a, b) => a[1] - b[1]);
    const values = bySlot.map(([key, slot]): MetricValue<L> => {
      const parts = key.split('\u0000');
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, parts[i] ?? '']));
      return { labels: labels as Record<L, string>, value: this.#values[slot] ?? 0 };
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  /** One string per label set; label values never hold NUL (names, URLs, error codes). */
  #key(labels: Labels<L>): string {
    // Joined, not appended: a flat string, kept as a Map key for the series' lifetime.
    return this.labelNames.map((n) => labels[n]).join('\u0000');
  }
}
