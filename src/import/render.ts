import { Document, isSeq, stringify } from 'yaml';

// The import's output: a YAML list of probes usable with `include:` (CONTRACT §2), with comments
// saying where each probe came from and what the operator still has to do.

export interface RenderedProbe {
  readonly spec: Readonly<Record<string, unknown>>;
  /** Where it came from (job, module, target line). */
  readonly comment: string;
}

export interface RenderedComponent {
  readonly id: string;
  readonly name: string;
  readonly comment: string;
}

/** A module shown alone (no Prometheus config): its kind and keys with a placeholder target. */
export interface RenderedTemplate {
  readonly comment: string;
  readonly keys: Readonly<Record<string, unknown>>;
}

export interface RenderInput {
  /** The input files as shown. */
  readonly blackbox: string;
  readonly prometheus: string | undefined;
  readonly probes: readonly RenderedProbe[];
  readonly components: readonly RenderedComponent[];
  readonly templates: readonly RenderedTemplate[];
}

const YAML_OPTIONS = { lineWidth: 0 } as const;

/** Lines for a YAML comment block (the yaml package prefixes each with `#`). */
const commentLines = (lines: readonly string[]): string => lines.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');

function header(input: RenderInput): string[] {
  if (input.prometheus === undefined) {
    const lines = [
      `Blackbox exporter modules as Tocsin probes (tocsin import blackbox), from ${input.blackbox}.`,
      'No Prometheus config was given, so there is no target: each module below shows the keys a',
      'probe made of it takes. Give --prometheus to import the jobs that probe through the exporter.',
    ];
    for (const t of input.templates) {
      lines.push('', t.comment, ...stringify(t.keys, { ...YAML_OPTIONS, aliasDuplicateObjects: false }).trimEnd().split('\n').map((l) => `  ${l}`));
    }
    return lines;
  }
  const lines = [
    'Tocsin probes imported by `tocsin import blackbox` from',
    `  Blackbox exporter modules: ${input.blackbox}`,
    `  Prometheus jobs:           ${input.prometheus}`,
    '',
    'Include this file from tocsin.yml (probes: [{ include: FILE }]) and add one component per',
    'Prometheus job to its components: list:',
    '',
    '  components:',
  ];
  for (const c of input.components) {
    lines.push(`    - { id: ${c.id}, name: ${JSON.stringify(c.name)} }    # ${c.comment}`);
  }
  lines.push(
    '',
    'TODO: arrange depends_on between these components and the rest of tocsin.yml (the load',
    'balancer, hosts or database each one needs), so that failures with a common cause become one',
    'incident rooted at it (docs/configuration.md, components).',
  );
  return lines;
}

export function renderProbesYaml(input: RenderInput): string {
  // Probes of one module share their expectations; each is written out in full, not as a YAML alias.
  const doc = new Document(input.probes.map((p) => p.spec), { aliasDuplicateObjects: false });
  doc.commentBefore = commentLines(header(input));
  const seq = doc.contents;
  if (isSeq(seq)) {
    seq.items.forEach((item, i) => {
      const probe = input.probes[i];
      if (!probe || typeof item !== 'object' || item === null) return;
      const node = item as { commentBefore?: string; spaceBefore?: boolean };
      node.commentBefore = ` ${probe.comment}`;
      node.spaceBefore = i > 0;
    });
  }
  return doc.toString(YAML_OPTIONS);
}
