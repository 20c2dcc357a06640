import { readFile } from 'node:fs/promises';
import type { KeyPath } from '../config/problems.js';
import { describeFsError } from '../config/problems.js';
import { parseYaml, type YamlSource } from '../config/yaml-source.js';
import type { Report, Where } from './problems.js';

/**
 * A Blackbox, Prometheus or target file, parsed with its source positions (the same parser as
 * Tocsin's own config: YAML 1.2, merge keys; JSON target files are YAML too). An unreadable file
 * or a syntax error is reported and gives undefined.
 */
export async function readYamlFile(file: string, report: Report): Promise<YamlSource | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    report({ file, line: 1 }, `cannot read: ${describeFsError(err)}`);
    return undefined;
  }
  const parsed = parseYaml(text, file);
  if (parsed.ok) return parsed.source;
  for (const e of parsed.errors) report({ file, line: e.line }, `invalid YAML: ${e.message}`);
  return undefined;
}

/** Where the key at `path` of `src` is written. */
export function whereIn(src: YamlSource, path: KeyPath): Where {
  return { file: src.file, line: src.lineOf(path) };
}

/** A YAML scalar as the Go programs read it into a string field (numbers and booleans as written). */
export function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

const TRUE_WORDS = new Set(['true', 'yes', 'on', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'off', 'n']);

/**
 * A boolean as the Go YAML decoders of Prometheus and the exporter read it: besides true and
 * false, YAML 1.1's yes/no/on/off (Tocsin's parser is YAML 1.2 and leaves those as strings).
 */
export function yamlBool(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const word = value.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return undefined;
}
