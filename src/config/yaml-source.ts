import { type Alias, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { KeyPath } from './problems.js';

/** A parsed YAML file that still knows where each key was written. */
export interface YamlSource {
  /** Absolute path of the file. */
  readonly file: string;
  /** The document as plain JS values (maps → objects, seqs → arrays); `null` for an empty file. */
  readonly value: unknown;
  /**
   * 1-based line of the key at `path` (`['probes', 3, 'url']`); of a list item's first line for
   * an index. A path that does not exist (a missing key) falls back to its nearest existing parent.
   */
  lineOf(path: KeyPath): number;
}

/** A YAML syntax error, with the line the parser points at. */
export interface YamlSyntaxError {
  readonly line: number;
  readonly message: string;
}

export type ParseYamlResult =
  | { readonly ok: true; readonly source: YamlSource }
  | { readonly ok: false; readonly errors: readonly YamlSyntaxError[] };

/** Parses YAML 1.2 (so `2024-11-18T21:00:00Z` and `on` stay strings) keeping source positions. */
export function parseYaml(text: string, file: string): ParseYamlResult {
  const lineCounter = new LineCounter();
  // prettyErrors off: we want the parser's one-line message, not its multi-line code excerpt.
  // merge on: `<<: *probe-defaults` is how operators share keys between probes in plain YAML.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true });
  const lineAt = (offset: number): number => lineCounter.linePos(offset).line;
  if (doc.errors.length > 0) {
    return {
      ok: false,
      errors: doc.errors.map((e) => ({ line: lineAt(e.pos[0]), message: firstLine(e.message) })),
    };
  }
  const value: unknown = doc.toJS({ maxAliasCount: 1000 });
  const root = doc.contents;
  return {
    ok: true,
    source: {
      file,
      value: value ?? null,
      lineOf: (path) => lineOfPath(root, path, lineAt, (alias) => alias.resolve(doc)),
    },
  };
}

function firstLine(message: string): string {
  return message.split('\n', 1)[0] ?? message;
}

/** Walks the AST along `path`, remembering the line of the deepest key or item found. */
function lineOfPath(
  root: Node | null,
  path: KeyPath,
  lineAt: (offset: number) => number,
  resolve: (alias: Alias) => unknown,
): number {
  let node: unknown = root;
  // A key missing at the top level is reported at the start of the file.
  let line = 1;
  for (const seg of path) {
    if (isAlias(node)) node = resolve(node);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const keyRange = isScalar(pair.key) ? pair.key.range : undefined;
      if (keyRange) line = lineAt(keyRange[0]);
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) break;
      const range = isScalar(item) || isMap(item) || isSeq(item) || isAlias(item) ? item.range : undefined;
      if (range) line = lineAt(range[0]);
      node = item;
    } else {
      break;
    }
  }
  return line;
}
