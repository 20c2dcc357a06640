import type { MetricValueWithName } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string>>;

/** One line of prom-client's histogram export: `le` in `labels`, the series' labels shared. */
interface ExportValue<L extends string> {
  readonly labels: { le?: number | string };
  readonly sharedLabels: Labels<L>;
  readonly value: number;
  readonly metricName: string;
}

/**
 * A histogram observed on every check (check durations per kind and vantage, HTTP phases, the
 * scheduler's lag): prom-client's Histogram builds a closure, a label-hash string and a
 * validation array at each `observe`, five to seven times a check, which at 1,700 checks a second
 * was 5 % of everything the daemon allocated. Here a series is a slot, found once (`slot`) and
 * observed into typed arrays (`observeAt`) without allocating.
 *
 * The registry renders it through `getForPromString()`, the same shape prom-client's Histogram
 * gives, so the text is prom-client's byte for byte (the `le` label first, then the series'
 * labels; `_bucket` lines cumulative, then `+Inf`, `_sum` and `_count`). Series are few (a label
 * set per kind, vantage or phase), so building that shape at a scrape costs nothing that matters.
 */
export class HistogramFamily<L extends string = never> {
  readonly aggregator = 'sum';
  readonly type = 'histogram';
  readonly #bounds: readonly number[];
  /** Slot by label text (`JSON.stringify` of the values in label-name order). */
  readonly #slots = new Map<string, number>();
  /** Each slot's labels; undefined marks a removed slot, free for the next new series. */
  readonly #labels: (Labels<L> | undefined)[] = [];
  readonly #free: number[] = [];
  /** Per slot, `bounds.length + 1` counts (the last one: above every bound). */
  #counts = new Float64Array(0);
  #sums = new Float64Array(0);
  /** A family without labels has one series, made at once (as prom-client's): its slot. */
  readonly #only: number;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    buckets: readonly number[],
  ) {
    this.#bounds = [...buckets].sort((a, b) => a - b);
    this.#only = labelNames.length === 0 ? this.slot({} as Labels<L>) : -1;
  }

  /** The slot of this label set, created (all counts 0) on first use. */
  slot(labels: Labels<L>): number {
    const key = this.#key(labels);
    const known = this.#slots.get(key);
    if (known !== undefined) return known;
    const slot = this.#free.pop() ?? this.#labels.length;
    const width = this.#bounds.length + 1;
    if ((slot + 1) * width > this.#counts.length) {
      const grown = new Float64Array(Math.max(4, (slot + 1) * 2) * width);
      grown.set(this.#counts);
      this.#counts = grown;
      const sums = new Float64Array(grown.length / width);
      sums.set(this.#sums);
      this.#sums = sums;
    }
    this.#counts.fill(0, slot * width, (slot + 1) * width);
    this.#sums[slot] = 0;
    this.#labels[slot] = Object.freeze(Object.fromEntries(this.labelNames.map((n) => [n, labels[n]]))) as Labels<L>;
    this.#slots.set(key, slot);
    return slot;
  }

  /** Adds one observation to a slot's series (no allocation). */
  observeAt(slot: number, value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`${this.name}: not a finite number: ${value}`);
    const bounds = this.#bounds;
    let b = 0;
    while (b < bounds.length && value > (bounds[b] ?? 0)) b++;
    const width = bounds.length + 1;
    this.#counts[slot * width + b] = (this.#counts[slot * width + b] ?? 0) + 1;
    this.#sums[slot] = (this.#sums[slot] ?? 0) + value;
  }

  /** `observeAt(slot(labels), value)`, for callers that do not keep the slot; `observe(value)` without labels. */
  observe(value: number): void;
  observe(labels: Labels<L>, value: number): void;
  observe(labelsOrValue: Labels<L> | number, value?: number): void {
    if (typeof labelsOrValue === 'number') {
      if (this.#only < 0) throw new TypeError(`${this.name}: labels ${this.labelNames.join(', ')} missing`);
      this.observeAt(this.#only, labelsOrValue);
    } else {
      this.observeAt(this.slot(labelsOrValue), value ?? Number.NaN);
    }
  }

  /** Forgets a series (a probe removed from the config); its slot is reused. */
  remove(labels: Labels<L>): void {
    const key = this.#key(labels);
    const slot = this.#slots.get(key);
    if (slot === undefined) return;
    this.#slots.delete(key);
    this.#labels[slot] = undefined;
    this.#free.push(slot);
  }

  /** Every count back to 0; the series are kept, so slots handed out stay valid. */
  reset(): void {
    this.#counts.fill(0);
    this.#sums.fill(0);
  }

  /** What prom-client's Histogram gives the registry to render: one value per exposition line. */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: ExportValue<L>[] }> {
    const values: ExportValue<L>[] = [];
    const bucket = `${this.name}_bucket`;
    const width = this.#bounds.length + 1;
    for (const [, slot] of this.#slots) {
      const sharedLabels = this.#labels[slot];
      if (!sharedLabels) continue;
      let acc = 0;
      for (let b = 0; b < this.#bounds.length; b++) {
        acc += this.#counts[slot * width + b] ?? 0;
        values.push({ labels: { le: this.#bounds[b] }, sharedLabels, value: acc, metricName: bucket });
      }
      const count = acc + (this.#counts[slot * width + this.#bounds.length] ?? 0);
      values.push({ labels: { le: '+Inf' }, sharedLabels, value: count, metricName: bucket });
      values.push({ labels: {}, sharedLabels, value: this.#sums[slot] ?? 0, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels, value: count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: 'sum', values };
  }

  /** prom-client's `get()`: as `getForPromString()`, each value's labels merged into one object. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: MetricValueWithName<L | 'le'>[] }> {
    const data = await this.getForPromString();
    // prom-client's bucket lines carry `exemplar: null` when exemplars are off; so do these.
    const values = data.values.map(
      (v) =>
        ({
          value: v.value,
          metricName: v.metricName,
          labels: { ...v.labels, ...v.sharedLabels },
          ...('le' in v.labels ? { exemplar: null } : {}),
        }) as MetricValueWithName<L | 'le'>,
    );
    return { ...data, values };
  }

  #key(labels: Labels<L>): string {
    return JSON.stringify(this.labelNames.map((n) => labels[n]));
  }
}
