import { createHash } from 'node:crypto';
import type { KeyPath } from '../config/problems.js';
import type { YamlSource } from '../config/yaml-source.js';
import { isRecord } from '../json.js';
import { translateGoRegexp } from './go-regexp.js';
import type { Report } from './problems.js';
import { scalarText, whereIn } from './yaml-file.js';

// Prometheus's target relabelling (`relabel_configs`), every action, followed as Prometheus does
// (model/relabel/relabel.go): the import sees the target, module and labels the scrape would have.

/** A target's labels while it is relabelled; an empty value is the same as no label. */
export type Labels = Map<string, string>;

const ACTIONS = [
  'replace',
  'keep',
  'drop',
  'keepequal',
  'dropequal',
  'hashmod',
  'labelmap',
  'labeldrop',
  'labelkeep',
  'lowercase',
  'uppercase',
] as const;
type Action = (typeof ACTIONS)[number];

/** One rule, ready to apply. */
export interface RelabelRule {
  readonly action: Action;
  readonly sourceLabels: readonly string[];
  readonly separator: string;
  /** The rule's regex, anchored at both ends as Prometheus anchors it. */
  readonly regex: RegExp;
  readonly modulus: bigint;
  readonly targetLabel: string;
  readonly replacement: string;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NEEDS_TARGET: ReadonlySet<Action> = new Set(['replace', 'hashmod', 'lowercase', 'uppercase', 'keepequal', 'dropequal']);

/**
 * The rules of a `relabel_configs` list at `path` of `src`; undefined when one of them cannot be
 * followed (reported at its line): the targets would come out wrong, so none is imported.
 */
export function parseRelabelConfigs(
  src: YamlSource,
  path: KeyPath,
  raw: unknown,
  report: Report,
): RelabelRule[] | undefined {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    report(whereIn(src, path), 'relabel_configs: expected a list of rules');
    return undefined;
  }
  const rules: RelabelRule[] = [];
  let followable = true;
  raw.forEach((item: unknown, i) => {
    const rule = parseRule(src, [...path, i], item, report);
    if (rule) rules.push(rule);
    else followable = false;
  });
  return followable ? rules : undefined;
}

function parseRule(src: YamlSource, path: KeyPath, raw: unknown, report: Report): RelabelRule | undefined {
  const where = whereIn(src, path);
  const fail = (key: string | undefined, reason: string): undefined => {
    report(key ? whereIn(src, [...path, key]) : where, `relabel rule cannot be followed: ${reason}`);
    return undefined;
  };
  if (!isRecord(raw)) return fail(undefined, 'expected a mapping');
  const action = (scalarText(raw.action) ?? 'replace').toLowerCase();
  if (!(ACTIONS as readonly string[]).includes(action)) return fail('action', `unknown action "${String(raw.action)}"`);
  const sources = raw.source_labels ?? [];
  if (!Array.isArray(sources) || sources.some((s) => typeof s !== 'string')) {
    return fail('source_labels', 'expected a list of label names');
  }
  const regexText = raw.regex === undefined ? '(.*)' : scalarText(raw.regex);
  if (regexText === undefined) return fail('regex', 'expected a string');
  const translated = translateGoRegexp(regexText);
  if (!translated.ok) return fail('regex', `regex ${JSON.stringify(regexText)}: ${translated.reason}`);
  const targetLabel = scalarText(raw.target_label) ?? '';
  if (NEEDS_TARGET.has(action as Action) && targetLabel === '') return fail(undefined, `action ${action} needs target_label`);
  let modulus = 0n;
  if (action === 'hashmod') {
    if (typeof raw.modulus !== 'number' || !Number.isSafeInteger(raw.modulus) || raw.modulus <= 0) {
      return fail('modulus', 'hashmod needs a positive integer modulus');
    }
    modulus = BigInt(raw.modulus);
  }
  return {
    action: action as Action,
    sourceLabels: sources as string[],
    separator: raw.separator === undefined ? ';' : (scalarText(raw.separator) ?? ';'),
    regex: new RegExp(`^(?:${translated.source})$`),
    modulus,
    targetLabel,
    replacement: raw.replacement === undefined ? '$1' : (scalarText(raw.replacement) ?? ''),
  };
}

/** Applies `rules` in order to a copy of `labels`; undefined when a rule drops the target. */
export function relabel(labels: Labels, rules: readonly RelabelRule[]): Labels | undefined {
  const lb = new Map(labels);
  for (const rule of rules) {
    if (!apply(rule, lb)) return undefined;
  }
  return lb;
}

function set(lb: Labels, name: string, value: string): void {
  if (value === '') lb.delete(name);
  else lb.set(name, value);
}

function apply(rule: RelabelRule, lb: Labels): boolean {
  const val = rule.sourceLabels.map((name) => lb.get(name) ?? '').join(rule.separator);
  switch (rule.action) {
    case 'drop':
      return !rule.regex.test(val);
    case 'keep':
      return rule.regex.test(val);
    case 'dropequal':
      return (lb.get(rule.targetLabel) ?? '') !== val;
    case 'keepequal':
      return (lb.get(rule.targetLabel) ?? '') === val;
    case 'replace': {
      const m = rule.regex.exec(val);
      if (!m) return true;
      const target = expandTemplate(rule.targetLabel, m);
      if (!LABEL_NAME.test(target)) return true;
      set(lb, target, expandTemplate(rule.replacement, m));
      return true;
    }
    case 'lowercase':
      set(lb, rule.targetLabel, val.toLowerCase());
      return true;
    case 'uppercase':
      set(lb, rule.targetLabel, val.toUpperCase());
      return true;
    case 'hashmod': {
      // The last 8 bytes of the MD5, big-endian, modulo: the shard this Prometheus keeps.
      const hash = createHash('md5').update(val).digest();
      set(lb, rule.targetLabel, (hash.readBigUInt64BE(8) % rule.modulus).toString());
      return true;
    }
    case 'labelmap':
      for (const [name, value] of [...lb]) {
        const m = rule.regex.exec(name);
        if (m) set(lb, expandTemplate(rule.replacement, m), value);
      }
      return true;
    case 'labeldrop':
      for (const name of [...lb.keys()]) if (rule.regex.test(name)) lb.delete(name);
      return true;
    case 'labelkeep':
      for (const name of [...lb.keys()]) if (!rule.regex.test(name)) lb.delete(name);
      return true;
  }
}

/**
 * Go's Regexp.Expand: `$1`, `${1}`, `$name`, `${name}` (the longest run of word characters, so
 * `$1x` names group "1x"), `$$` for a dollar; an unknown group is empty, a malformed `$` stays.
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf('$', i);
    if (dollar === -1) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, dollar);
    const rest = template.slice(dollar + 1);
    if (rest.startsWith('$')) {
      out += '$';
      i = dollar + 2;
      continue;
    }
    const ref = /^\{(\w+)\}/.exec(rest) ?? /^(\w+)/.exec(rest);
    if (!ref?.[1]) {
      out += '$';
      i = dollar + 1;
      continue;
    }
    const name = ref[1];
    out += (/^\d+$/.test(name) ? match[Number(name)] : match.groups?.[name]) ?? '';
    i = dollar + 1 + ref[0].length;
  }
  return out;
}
