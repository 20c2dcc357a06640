/**
 * A binary min-heap ordered by `less`: the scheduler's queue of next-due checks, the engine's due
 * times. A shared primitive (docs/design.md, "Layers"), so the engine does not import the scheduler.
 */
export class MinHeap<T> {
  readonly #items: T[] = [];

  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#lessAt(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && this.#lessAt(l, smallest)) smallest = l;
        if (r < items.length && this.#lessAt(r, smallest)) smallest = r;
        if (smallest === i) break;
        this.#swap(i, smallest);
        i = smallest;
      }
    }
    return top;
  }

  #lessAt(i: number, j: number): boolean {
    return this.less(this.#items[i] as T, this.#items[j] as T);
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const tmp = items[i] as T;
    items[i] = items[j] as T;
    items[j] = tmp;
  }
}
