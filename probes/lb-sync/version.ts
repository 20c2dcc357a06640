// Reading a config version out of an endpoint's answer, and ordering versions. Pure: no I/O.

/** `config.version`, `items.0.version`: keys separated by dots (no quoting, no wildcards). */
export const JSON_PATH_PATTERN = /^[A-Za-z0-9_$@-]+(\.[A-Za-z0-9_$@-]+)*$/;

/** How a version is read from an answer: exactly one of the two is set (the schema sees to it). */
export interface VersionExtractor {
  readonly json_path?: string | undefined;
  readonly regex?: string | undefined;
}

export type Extracted = { readonly version: string } | { readonly error: string };

/** Longest version kept: a version is a label, not a document. */
const MAX_VERSION_LENGTH = 200;

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return undefined;
}

function clip(version: string): string {
  return version.length > MAX_VERSION_LENGTH ? `${version.slice(0, MAX_VERSION_LENGTH)}…` : version;
}

/** Walks a dotted path; array items are addressed by their index (`items.0`). */
export function atJsonPath(doc: unknown, path: string): unknown {
  let node: unknown = doc;
  for (const key of path.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** The version in an answer's text, or why there is none (for `version_error` observations). */
export function extractVersion(text: string, how: VersionExtractor): Extracted {
  if (how.json_path !== undefined) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return { error: 'answer is not JSON' };
    }
    const value = scalar(atJsonPath(doc, how.json_path));
    return value === undefined
      ? { error: `no string or number at json_path ${how.json_path}` }
      : { version: clip(value) };
  }
  if (how.regex !== undefined) {
    const group = new RegExp(how.regex).exec(text)?.[1];
    return group === undefined || group === ''
      ? { error: `regex /${how.regex}/ did not match (or its group 1 is empty)` }
      : { version: clip(group) };
  }
  return { error: 'neither json_path nor regex given' };
}

// Made at the first comparison: a Collator maps ICU's collation data into the process (about
// 2 MB of RSS), which a daemon without lb_sync versions never needs.
let collator: Intl.Collator | undefined;

/**
 * Orders versions the way operators number configs: numbers numerically (41 < 42 < 100), dotted
 * versions part by part (0.13.2 < 0.15.17), anything else alphabetically with digit runs as numbers.
 */
export function compareVersions(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return (collator ??= new Intl.Collator('en', { numeric: true, sensitivity: 'base' })).compare(a, b);
}
