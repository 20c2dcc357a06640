import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { KeyPath } from '../config/problems.js';
import type { YamlSource } from '../config/yaml-source.js';
import { isRecord } from '../json.js';
import type { Report, Where } from './problems.js';
import { readYamlFile, scalarText, whereIn } from './yaml-file.js';

// Prometheus's target groups, from `static_configs` and from the files `file_sd_configs` names
// (JSON or YAML lists of `{ targets, labels }`), each target with the line it is written on.

/** One target address as written, and where. */
export interface GroupTarget {
  readonly address: string;
  readonly where: Where;
}

/** A target group: its targets and the labels they share. */
export interface TargetGroup {
  readonly targets: readonly GroupTarget[];
  readonly labels: ReadonlyMap<string, string>;
}

/** The groups of a list at `path` of `src` (a `static_configs` list, or a whole target file). */
export function readGroups(
  src: YamlSource,
  path: KeyPath,
  raw: unknown,
  report: Report,
  extraLabels: ReadonlyMap<string, string> = new Map(),
): TargetGroup[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(whereIn(src, path), 'expected a list of target groups ({ targets: [...], labels: {...} })');
    return [];
  }
  const groups: TargetGroup[] = [];
  raw.forEach((item: unknown, i) => {
    const at = [...path, i];
    if (!isRecord(item)) {
      report(whereIn(src, at), 'expected a target group ({ targets: [...], labels: {...} })');
      return;
    }
    const labels = new Map(extraLabels);
    if (item.labels !== undefined && item.labels !== null) {
      if (!isRecord(item.labels)) report(whereIn(src, [...at, 'labels']), 'labels: expected a mapping');
      else {
        for (const [name, value] of Object.entries(item.labels)) {
          const text = scalarText(value);
          if (text === undefined) report(whereIn(src, [...at, 'labels', name]), `label ${name}: expected a string`);
          else labels.set(name, text);
        }
      }
    }
    const targets: GroupTarget[] = [];
    const list = item.targets ?? [];
    if (!Array.isArray(list)) report(whereIn(src, [...at, 'targets']), 'targets: expected a list');
    else {
      list.forEach((t: unknown, k) => {
        const where = whereIn(src, [...at, 'targets', k]);
        const address = scalarText(t);
        if (address === undefined || address === '') report(where, 'target: expected a non-empty string');
        else targets.push({ address, where });
      });
    }
    groups.push({ targets, labels });
  });
  return groups;
}

/**
 * The groups of one `file_sd_configs` entry: every file its `files` patterns match, relative to
 * `baseDir` (the directory of the Prometheus file that declares it, as Prometheus resolves them).
 * Each group carries `__meta_filepath`, as file discovery sets it for relabelling.
 */
export async function readFileSdGroups(
  src: YamlSource,
  path: KeyPath,
  raw: unknown,
  baseDir: string,
  report: Report,
): Promise<TargetGroup[]> {
  if (!isRecord(raw) || !Array.isArray(raw.files)) {
    report(whereIn(src, path), 'file_sd_configs: expected { files: [...] }');
    return [];
  }
  const groups: TargetGroup[] = [];
  for (const [k, pattern] of raw.files.entries()) {
    const where = whereIn(src, [...path, 'files', k]);
    if (typeof pattern !== 'string' || pattern === '') {
      report(where, 'file_sd_configs: expected a file name or pattern');
      continue;
    }
    const files = isDynamicPattern(pattern)
      ? (await glob(pattern, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })).sort()
      : (await exists(resolve(baseDir, pattern)))
          ? [resolve(baseDir, pattern)]
          : [];
    if (files.length === 0) {
      report(where, `file_sd_configs: "${pattern}" matches no file next to this config: its targets are not imported`);
      continue;
    }
    for (const file of files.map((f) => resolve(f))) {
      const targetFile = await readYamlFile(file, report);
      if (!targetFile) continue;
      groups.push(
        ...readGroups(targetFile, [], targetFile.value ?? [], report, new Map([['__meta_filepath', file]])),
      );
    }
  }
  return groups;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
