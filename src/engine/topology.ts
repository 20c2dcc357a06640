/** The component graph as correlation sees it: who depends on whom, transitively. */
export interface ComponentInfo {
  readonly id: string;
  readonly name: string;
  readonly group: string;
  readonly region: string | undefined;
  readonly dependsOn: readonly string[];
}

export class Topology {
  readonly #components = new Map<string, ComponentInfo>();
  /** Ancestors (self included, distance 0) with their shortest distance; computed once. */
  readonly #ancestors = new Map<string, ReadonlyMap<string, number>>();

  constructor(components: readonly ComponentInfo[]) {
    for (const c of components) this.#components.set(c.id, c);
  }

  get(id: string): ComponentInfo {
    // Events may name components the plan lacks only through bugs; keep going with a stub.
    return this.#components.get(id) ?? { id, name: id, group: 'Components', region: undefined, dependsOn: [] };
  }

  has(id: string): boolean {
    return this.#components.has(id);
  }

  ids(): string[] {
    return [...this.#components.keys()];
  }

  /** Every component `id` depends on, transitively, with itself at distance 0 (breadth-first). */
  ancestors(id: string): ReadonlyMap<string, number> {
    let found = this.#ancestors.get(id);
    if (found) return found;
    const dist = new Map<string, number>([[id, 0]]);
    let frontier = [id];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const c of frontier) {
        const d = dist.get(c) ?? 0;
        for (const p of this.get(c).dependsOn) {
          if (!dist.has(p)) {
            dist.set(p, d + 1);
            next.push(p);
          }
        }
      }
      frontier = next;
    }
    found = dist;
    this.#ancestors.set(id, found);
    return found;
  }

  /** Whether `id` is `ancestor` or depends on it, transitively. */
  dependsOn(id: string, ancestor: string): boolean {
    return this.ancestors(id).has(ancestor);
  }
}
