/**
 * Where a V8 heap snapshot's bytes are: shallow (self) size and count per kind of object, as the
 * Summary view of Chrome's memory tool groups them (objects by constructor name, closures by
 * function name, strings, arrays, code, compiled code and V8's internal "system" objects by
 * type). Retained sizes need the dominator tree and are left out: the shallow sizes of the top
 * rows already say which structure holds the memory.
 *
 *   node --max-old-space-size=8000 dist/bench/run.js heap-summary FILE.heapsnapshot [--top 25]
 *
 * Snapshots come from bench/scale.ts `--heap-snapshot FILE` (v8.writeHeapSnapshot() at the end of
 * the measured window), or from a live daemon started as `node --heapsnapshot-signal=SIGUSR2
 * bin/tocsin.js run …` and sent SIGUSR2 (Node writes Heap.*.heapsnapshot into its working folder).
 */
import { readFileSync } from 'node:fs';
import { checkOptions, numberOption, UsageError } from './lib/args.js';
import { fmt, fmtInt } from './lib/stats.js';
import { printTable } from './lib/table.js';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/** Properties named in a plain object's group: enough to tell which structure it belongs to. */
const SHAPE_PROPERTIES = 5;

export interface HeapRow {
  readonly group: string;
  count: number;
  bytes: number;
}

/** Kinds grouped by type alone: their names are contents (a string's text), not constructors. */
const BY_TYPE = new Set(['string', 'concatenated string', 'sliced string', 'number', 'heap number', 'code', 'hidden']);

/** Shallow bytes and counts per group, largest first, and the heap's total shallow size. */
export function summariseHeap(snap: Snapshot): { rows: HeapRow[]; totalBytes: number; nodes: number } {
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const edgeCountAt = fields.indexOf('edge_count');
  const types = snap.snapshot.meta.node_types[0];
  const edgeFields = snap.snapshot.meta.edge_fields;
  const edgeWidth = edgeFields.length;
  const edgeTypeAt = edgeFields.indexOf('type');
  const edgeNameAt = edgeFields.indexOf('name_or_index');
  const edgeTypes = snap.snapshot.meta.edge_types[0];
  let edge = 0;
  const groups = new Map<string, HeapRow>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? 'unknown';
    const size = snap.nodes[i + sizeAt] ?? 0;
    total += size;
    const name = snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '';
    const edges = snap.nodes[i + edgeCountAt] ?? 0;
    // A plain object ("Object") is told apart by its first property names: {probe, kind, ...}.
    let shape = '';
    if (type === 'object' && name === 'Object') {
      const names: string[] = [];
      for (let e = edge; e < edge + edges * edgeWidth && names.length < SHAPE_PROPERTIES; e += edgeWidth) {
        if (edgeTypes[snap.edges[e + edgeTypeAt] ?? 0] !== 'property') continue;
        const prop = snap.strings[snap.edges[e + edgeNameAt] ?? 0] ?? '';
        if (prop !== '__proto__' && prop !== 'map') names.push(prop);
      }
      shape = ` {${names.join(',')}}`;
    }
    edge += edges * edgeWidth;
    // Arrays are named after their role ("(object elements)", "(internal array)") when V8 knows it.
    const group = BY_TYPE.has(type) ? `(${type})` : `${name || '(anonymous)'}${shape} [${type}]`;
    const row = groups.get(group) ?? { group, count: 0, bytes: 0 };
    row.count++;
    row.bytes += size;
    groups.set(group, row);
  }
  const rows = [...groups.values()].sort((a, b) => b.bytes - a.bytes);
  return { rows, totalBytes: total, nodes: snap.nodes.length / width };
}

export async function heapSummaryBench(args: readonly string[]): Promise<void> {
  const [file, ...rest] = args;
  if (!file || file.startsWith('--')) throw new UsageError('heap-summary needs a .heapsnapshot file');
  checkOptions(rest, ['top']);
  const top = Math.round(numberOption(rest, 'top', 25));
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { rows, totalBytes, nodes } = summariseHeap(snap);
  process.stdout.write(`\n## heap summary: ${file}: ${fmtInt(nodes)} objects, ${fmt(totalBytes / 1e6, 1)} MB shallow in all\n`);
  printTable(
    ['group (name [type])', 'objects', 'shallow MB', 'share'],
    rows
      .slice(0, top)
      .map((r) => [r.group.slice(0, 70), fmtInt(r.count), fmt(r.bytes / 1e6, 1), `${fmt((100 * r.bytes) / totalBytes, 1)} %`]),
  );
}
