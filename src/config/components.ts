import { parseItems } from './pick.js';
import { ComponentSpec } from './schema.js';
import { at, noteDuplicate, report, type Reporting, type Site } from './site.js';
import { checkTopology } from './topology.js';
import { isRecord } from '../json.js';

/**
 * The `components:` list as a whole (duplicate ids, the dependency graph) and what refers to
 * components outside probes and rules (maintenance windows). Items themselves are checked by the
 * top-level schema.
 */

/** Duplicate ids and the dependency graph. Returns every component id written (valid or not). */
export function checkComponents(ctx: Reporting, site: Site, list: unknown): Set<string> {
  const ids = new Set<string>();
  const firstAt = new Map<string, string>();
  const items = Array.isArray(list) ? list : [];
  items.forEach((item, i) => {
    // Ids of components that fail validation still count, so their probes get no second problem.
    if (isRecord(item) && typeof item.id === 'string') ids.add(item.id);
    noteDuplicate(ctx, firstAt, at(site, i), item, 'component');
  });
  const valid = parseItems(list, ComponentSpec);
  const issues = checkTopology(valid.map(({ value }) => ({ id: value.id, dependsOn: value.depends_on })));
  for (const issue of issues) {
    const owner = valid[issue.node];
    if (!owner) continue;
    const message =
      issue.kind === 'cycle'
        ? `dependency cycle: ${issue.cycle.join(' → ')}`
        : `unknown component "${issue.id}"`;
    report(ctx, at(site, owner.index), ['depends_on', issue.dep], message);
  }
  return ids;
}

/** Maintenance windows name components that exist. */
export function checkMaintenance(ctx: Reporting, site: Site, list: unknown, componentIds: ReadonlySet<string>): void {
  if (!Array.isArray(list)) return;
  list.forEach((item, i) => {
    if (!isRecord(item) || !Array.isArray(item.components)) return;
    item.components.forEach((id: unknown, j) => {
      if (typeof id === 'string' && !componentIds.has(id)) {
        report(ctx, at(site, i), ['components', j], `unknown component "${id}"`);
      }
    });
  });
}
