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

  /**
   * The nearest common dependency of `ids` (a component counts as its own dependency): the common
   * ancestor with the smallest greatest distance to any of them; ties by id, so it is
   * deterministic. Undefined when they share none (such components are never merged).
   */
  nearestCommon(ids: readonly string[]): { id: string; distance: number } | undefined {
    const [first, ...rest] = ids;
    if (first === undefined) return undefined;
    let best: { id: string; distance: number } | undefined;
    for (const [cand, d0] of this.ancestors(first)) {
      let worst = d0;
      let common = true;
      for (const other of rest) {
        const d = this.ancestors(other).get(cand);
        if (d === undefined) {
          common = false;
          break;
        }
        if (d > worst) worst = d;
      }
      if (!common) continue;
      const better = !best || worst < best.distance || (worst === best.distance && cand < best.id);
      if (better) best = { id: cand, distance: worst };
    }
    return best;
  }
}
