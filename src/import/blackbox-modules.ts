import type { KeyPath } from '../config/problems.js';
import type { YamlSource } from '../config/yaml-source.js';
import { isRecord } from '../json.js';
import type { Report, Where } from './problems.js';
import { readYamlFile, whereIn } from './yaml-file.js';

/** One module of blackbox.yml, with the way back to its lines. */
export interface BlackboxModule {
  readonly name: string;
  readonly raw: Readonly<Record<string, unknown>>;
  readonly src: YamlSource;
  /** Where the key at `path` inside the module is written (the module's name for `[]`). */
  at(...path: KeyPath): Where;
}

/** The modules of a Blackbox exporter config, in file order; undefined when unreadable. */
export async function readBlackboxModules(file: string, report: Report): Promise<BlackboxModule[] | undefined> {
  const src = await readYamlFile(file, report);
  if (!src) return undefined;
  const root = src.value;
  if (!isRecord(root) || !isRecord(root.modules)) {
    report(whereIn(src, isRecord(root) ? ['modules'] : []), 'expected a Blackbox exporter configuration (a mapping with modules:)');
    return undefined;
  }
  const modules: BlackboxModule[] = [];
  for (const [name, raw] of Object.entries(root.modules)) {
    if (!isRecord(raw)) {
      report(whereIn(src, ['modules', name]), `module ${name}: expected a mapping`);
      continue;
    }
    modules.push({ name, raw, src, at: (...path) => whereIn(src, ['modules', name, ...path]) });
  }
  return modules;
}
