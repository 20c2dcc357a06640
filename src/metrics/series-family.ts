import type { MetricValue } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

/**
 * Label values already escaped for the exposition (`escapeLabelValue`), by name. It may hold more
 * names than a family has: one object serves the series of several families (see `addShared`).
 */
export type EscapedLabels<L extends string> = Readonly<Record<L, string>>;

/** Prometheus text escaping of HELP text (as prom-client escapes it: \ and newline). */
function escapeText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A label value: HELP's escaping, and its double quotes. */
export function escapeLabelValue(value: string): string {
  // Most values (ids, URLs, kinds) need nothing: no three passes over them.
  return NEEDS_ESCAPE.test(value) ? escapeText(value).replace(/"/g, '\\"') : value;
}
const NEEDS_ESCAPE = /[\\\n"]/;

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
  /**
   * Slot by label text, for `slot()` and `remove()`: built on their first call, not before. The
   * text is the key: escaping is one-to-one, so two label sets never share a text, and a second
   * key string per series (12 MB at 50,000 probes) is not kept. A caller that keeps its own slots
   * (`add`, the per-probe recorder) never has it built: a table of 50,000 entries is 1.8 MB.
   */
  #index: Map<string, number> | undefined;
  /**
   * Per slot, `{a="x",b="y"}`, or the escaped values it is written from at each render
   * (`addShared`); '' marks a removed slot, free for the next new series.
   */
  readonly #labelText: (string | EscapedLabels<L>)[] = [];
  /** `{name="`, then `",name="` for each further label: what goes between the values. */
  readonly #heads: readonly string[];
  readonly #free: number[] = [];
  #size = 0;
  #values = new Float64Array(INITIAL_SLOTS);

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'gauge' | 'counter',
    readonly labelNames: readonly L[],
  ) {
    this.#heads = labelNames.map((name, i) => `${i === 0 ? '{' : '",'}${name}="`);
  }

  /** The slot of this label set, created (value 0) on first use. */
  slot(labels: Labels<L>): number {
    const text = this.#text(labels);
    const known = this.#slots().get(text);
    return known ?? this.#create(text);
  }

  /**
   * A new series (value 0), without looking for one of the same labels: for a caller that keeps
   * the slots it made and asks for each label set once (two series of one label set would be two
   * lines of one series in the exposition).
   */
  add(labels: Labels<L>): number {
    return this.#create(this.#text(labels));
  }

  /**
   * `add`, keeping the values object itself rather than a text: the text is written at each
   * render. For series whose label values are shared with other families' series (a probe's
   * gauges hold one object for both): at 50,000 probes, a text per series and family was 16 MB of
   * heap. The object must not change while the series lives.
   */
  addShared(labels: EscapedLabels<L>): number {
    return this.#create(labels);
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
    const slot = this.#slots().get(this.#text(labels));
    if (slot !== undefined) this.removeAt(slot);
  }

  /** `remove` by slot, for callers that kept the slot rather than the labels. Idempotent. */
  removeAt(slot: number): void {
    const labels = this.#labelText[slot];
    if (!labels) return;
    if (this.#index) this.#index.delete(this.#written(labels));
    this.#labelText[slot] = '';
    this.#free.push(slot);
    this.#size--;
  }

  /** Series in this family. */
  get size(): number {
    return this.#size;
  }

  reset(): void {
    this.#index = undefined;
    this.#labelText.length = 0;
    this.#free.length = 0;
    this.#size = 0;
    this.#values = new Float64Array(INITIAL_SLOTS);
  }

  #create(labels: string | EscapedLabels<L>): number {
    const slot = this.#free.pop() ?? this.#labelText.length;
    if (slot >= this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#labelText[slot] = labels;
    this.#values[slot] = 0;
    this.#index?.set(this.#written(labels), slot);
    this.#size++;
    return slot;
  }

  /** The index by label text, built from the slots on first use. */
  #slots(): Map<string, number> {
    if (this.#index === undefined) {
      const index = new Map<string, number>();
      this.#labelText.forEach((labels, slot) => {
        if (labels) index.set(this.#written(labels), slot);
      });
      this.#index = index;
    }
    return this.#index;
  }

  /**
   * The family's text (HELP, TYPE, one line per series), in pieces of at most LINES_PER_CHUNK
   * lines, each made when it is asked for (the exposition gives the event loop back in between).
   */
  * pieces(): Generator<string> {
    yield `# HELP ${this.name} ${escapeText(this.help)}\n# TYPE ${this.name} ${this.type}`;
    // Lines are gathered in an array and joined: the piece is one flat string. Appending to a
    // string instead builds a rope of three nodes per line, 2.5 times the text's size until written.
    let lines: string[] = [];
    // Slots are read as they are when reached: a series created during the render is in it if its
    // slot is reached, as with any scrape racing an update.
    for (let slot = 0; slot < this.#labelText.length; slot++) {
      const labels = this.#labelText[slot];
      if (!labels) continue;
      lines.push(`${this.name}${this.#written(labels)} ${sampleText(this.#values[slot] ?? 0)}`);
      if (lines.length === LINES_PER_CHUNK) {
        yield `\n${lines.join('\n')}`;
        lines = [];
      }
    }
    if (lines.length > 0) yield `\n${lines.join('\n')}`;
  }

  /** prom-client's view of the family (registry.metrics(), getMetricsAsJSON()): one object per series. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: MetricValue<L>[] }> {
    const values: MetricValue<L>[] = [];
    this.#labelText.forEach((labels, slot) => {
      if (labels) values.push({ labels: this.#labels(this.#written(labels)), value: this.#values[slot] ?? 0 });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  /** A slot's label text: kept, or written from its escaped values. */
  #written(labels: string | EscapedLabels<L>): string {
    if (typeof labels === 'string') return labels;
    if (this.labelNames.length === 0) return '{}';
    let text = '';
    const names = this.labelNames;
    for (let i = 0; i < names.length; i++) text += `${this.#heads[i]}${labels[names[i] as L]}`;
    return `${text}"}`;
  }

  /** `{a="x",b="y"}`: the series' label text in the exposition, one flat string. */
  #text(labels: Labels<L>): string {
    return ['{', this.labelNames.map((n) => `${n}="${escapeLabelValue(labels[n])}"`).join(','), '}'].join('');
  }

  /** The label set a text of `#text` was written from (its label values unescaped). */
  #labels(text: string): Record<L, string> {
    const labels = {} as Record<L, string>;
    let at = 1; // past '{'
    for (const name of this.labelNames) {
      at += name.length + 2; // name="
      let value = '';
      for (; text[at] !== '"'; at++) {
        if (text[at] === '\\') {
          at++;
          value += text[at] === 'n' ? '\n' : text[at];
        } else {
          value += text[at];
        }
      }
      labels[name] = value;
      at += 2; // '",' or '"}'
    }
    return labels;
  }
}
