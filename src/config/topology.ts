/** A component as the dependency checks see it: its id and what it depends on, in file order. */
export interface TopologyNode {
  readonly id: string;
  readonly dependsOn: readonly string[];
}

/**
 * Something wrong with the dependency graph. `node` is the index of the component in the input and
 * `dep` the index in its `depends_on` of the entry at fault, so callers can point at that line.
 */
export type TopologyIssue =
  | { readonly kind: 'unknown_dependency'; readonly node: number; readonly dep: number; readonly id: string }
  | {
    readonly kind: 'cycle';
    readonly node: number;
    readonly dep: number;
    readonly cycle: readonly string[];
  };

/**
 * Finds `depends_on` entries naming no component, and dependency cycles. Each cycle is reported
 * once, at the `depends_on` entry that closes it, as the path `[a, b, a]` (a depends on b, which
 * depends on a). With duplicate ids the first component of that id is the one in the graph.
 */
export function checkTopology(nodes: readonly TopologyNode[]): TopologyIssue[] {
  const index = new Map<string, number>();
  nodes.forEach((n, i) => {
    if (!index.has(n.id)) index.set(n.id, i);
  });
  const issues: TopologyIssue[] = [];
  nodes.forEach((n, node) => {
    n.dependsOn.forEach((id, dep) => {
      if (!index.has(id)) issues.push({ kind: 'unknown_dependency', node, dep, id });
    });
  });
  issues.push(...findCycles(nodes, index));
  return issues;
}

const UNSEEN = 0;
const ON_PATH = 1;
const DONE = 2;

/** Depth-first search; an edge back to a component on the current path closes a cycle. */
function findCycles(nodes: readonly TopologyNode[], index: ReadonlyMap<string, number>): TopologyIssue[] {
  const state = new Map<number, number>();
  const path: string[] = [];
  const issues: TopologyIssue[] = [];
  const visit = (node: number, n: TopologyNode): void => {
    state.set(node, ON_PATH);
    path.push(n.id);
    n.dependsOn.forEach((id, dep) => {
      const target = index.get(id);
      const next = target === undefined ? undefined : nodes[target];
      if (target === undefined || next === undefined) return;
      const s = state.get(target) ?? UNSEEN;
      if (s === ON_PATH)
        issues.push({ kind: 'cycle', node, dep, cycle: [...path.slice(path.indexOf(id)), id] });
      else if (s === UNSEEN) visit(target, next);
    });
    path.pop();
    state.set(node, DONE);
  };
  index.forEach((i) => {
    const n = nodes[i];
    if (n && (state.get(i) ?? UNSEEN) === UNSEEN) visit(i, n);
  });
  return issues;
}
