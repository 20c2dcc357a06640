import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { z } from 'zod';
import { PROBE_KINDS } from '../../probes/index.js';
import type { ProbeKind } from '../../probes/probe.js';
import type { TlsSpec } from '../../probes/shared/tls-spec.js';
import { formatDuration } from './duration.js';
import { frozenCopy } from './freeze.js';
import type { Plan, ProbePlan, RecheckPlan, RuleSource } from './plan.js';
import {
  type ConfigProblem,
  describeFsError,
  displayFile,
  formatProblem,
  type KeyPath,
  ProblemList,
  ROOT_PATH,
  YAML_PATH,
} from './problems.js';
import {
  ComponentSpec,
  ConfigFileSpec,
  DefaultsSpec,
  IncludeSpec,
  NotifierSpec,
  ProbeCommonShape,
  type QueueSpec,
  type RecheckSpec,
  TokenSpec,
} from './schema.js';
import { DEFAULT_PACK_DIR, packFiles } from '../engine/pack.js';
import { compileRules } from '../engine/rules.js';
import { describeIssue, show, typeName } from './issues.js';
import { didYouMean } from './suggest.js';
import { checkTopology } from './topology.js';
import { parseYaml, type YamlSource } from './yaml-source.js';
import { isRecord } from '../json.js';

export type { ConfigProblem };
export { formatProblem };

export interface LoadOptions {
  /** Probe kinds by `kind:` name. Default: every kind Tocsin ships (`PROBE_KINDS`). */
  readonly kinds?: Readonly<Record<string, ProbeKind>>;
  /** Where `token_env` / `secret_env` variables are looked up. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Directory the config path and `store.path` are resolved against, and problems' files are shown
   * relative to. Default: `process.cwd()`.
   */
  readonly cwd?: string;
  /**
   * The default rule pack's directory, read (and validated like any rule file) when the config
   * has no `rules:`. Default: the package's `rules/`.
   */
  readonly packDir?: string;
}

export type LoadResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Deeper include chains are almost certainly a mistake (or a cycle through symlinks). */
const MAX_INCLUDE_DEPTH = 8;
/** A probe's timeout when none is given, unless half its interval is shorter (CONTRACT §2). */
const DEFAULT_TIMEOUT_MS = 10_000;
/** Re-checks when neither the probe nor `defaults.recheck` says otherwise (docs/rules.md). */
export const RECHECK_DEFAULTS = { intervalMs: 2000, max: 5 } as const;

/**
 * Loads and validates a config file and everything it includes into a deep-frozen {@link Plan}.
 * Never stops at the first problem: every file is read and every item checked, so one run of
 * `tocsin check-config` shows everything to fix. Expected failures (missing files, bad YAML,
 * invalid keys) are returned as problems, not thrown.
 */
export async function loadConfig(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const cwd = opts.cwd ?? process.cwd();
  const ctx: Ctx = {
    kinds: opts.kinds ?? PROBE_KINDS,
    env: opts.env ?? process.env,
    cwd,
    packDir: opts.packDir ?? DEFAULT_PACK_DIR,
    problems: new ProblemList(cwd),
  };
  const abs = resolve(cwd, file);
  const read = await readSource(ctx, abs);
  if (read.kind === 'unreadable') ctx.problems.add(abs, 1, ROOT_PATH, `cannot read config: ${read.reason}`);
  const plan = read.kind === 'ok' ? await loadMain(ctx, read.source) : undefined;
  if (plan && ctx.problems.size === 0) return { ok: true, plan: frozenCopy(plan) };
  return { ok: false, problems: ctx.problems.list() };
}

interface Ctx {
  readonly kinds: Readonly<Record<string, ProbeKind>>;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly packDir: string;
  readonly problems: ProblemList;
}

/**
 * Where an element is written: its file, its key path in that file's document, and its path as
 * shown in problems. They differ for included files: an included probe file is a bare list, so
 * its item 3 is `[3]` in the document but is shown as `probes[3]` (the index within that file's
 * list, next to that file's name — the pair an operator needs to find it).
 */
interface Site {
  readonly src: YamlSource;
  readonly doc: KeyPath;
  readonly shown: KeyPath;
}

const at = (site: Site, ...segs: (string | number)[]): Site => ({
  src: site.src,
  doc: [...site.doc, ...segs],
  shown: [...site.shown, ...segs],
});

const lineOf = (site: Site, path: KeyPath = []): number => site.src.lineOf([...site.doc, ...path]);

function report(ctx: Ctx, site: Site, path: KeyPath, message: string): void {
  ctx.problems.add(site.src.file, lineOf(site, path), [...site.shown, ...path], message);
}

/** `FILE:LINE` of an element, for messages that point at another place (the first duplicate). */
const whereIs = (ctx: Ctx, site: Site, path: KeyPath = []): string =>
  `${displayFile(site.src.file, ctx.cwd)}:${lineOf(site, path)}`;

// ---------------------------------------------------------------------------------------------
// Files

type Read =
  | { readonly kind: 'ok'; readonly source: YamlSource }
  | { readonly kind: 'unreadable'; readonly reason: string }
  | { readonly kind: 'invalid' };

/** Reads and parses one YAML file; syntax errors are reported here, read errors by the caller. */
async function readSource(ctx: Ctx, file: string): Promise<Read> {
  ctx.problems.noteFile(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { kind: 'unreadable', reason: describeFsError(err) };
  }
  const parsed = parseYaml(text, file);
  if (parsed.ok) return { kind: 'ok', source: parsed.source };
  for (const e of parsed.errors) ctx.problems.add(file, e.line, YAML_PATH, e.message);
  return { kind: 'invalid' };
}

// ---------------------------------------------------------------------------------------------
// The main file

async function loadMain(ctx: Ctx, src: YamlSource): Promise<Plan | undefined> {
  const root: Site = { src, doc: [], shown: [] };
  const raw = src.value;
  if (!isRecord(raw)) {
    report(ctx, root, [], `expected a mapping of config keys, got ${typeName(raw)}`);
    return undefined;
  }
  const top = ConfigFileSpec.safeParse(raw, { reportInput: true });
  if (!top.success) reportIssues(ctx, root, top.error.issues);

  // Sections are also parsed one by one so that cross-checks still run when another section is
  // invalid (a bad `store` must not hide an unknown `component` reference).
  const queue = pick(ConfigFileSpec.shape.queue, raw.queue);
  const vantage = pick(ConfigFileSpec.shape.vantage, raw.vantage);
  const vantages = queue && vantage ? planVantages(queue, vantage) : undefined;
  const componentIds = checkComponents(ctx, at(root, 'components'), raw.components);
  checkMaintenance(ctx, at(root, 'maintenance'), raw.maintenance, componentIds);
  checkSecrets(ctx, root, raw);

  const defaults = pick(DefaultsSpec, raw.defaults ?? {});
  const probes = await loadProbes(ctx, at(root, 'probes'), raw.probes, {
    vantages,
    queueKind: queue?.kind ?? 'inline',
    recheck: defaults?.recheck,
  });
  for (const ref of probes.componentRefs) {
    if (!componentIds.has(ref.component))
      report(ctx, ref.site, ['component'], `unknown component "${ref.component}"`);
  }
  // Without `rules:`, the default pack is read here too: `run` and `check-config` then see the
  // same rules and the same problems, with the pack file's name and line.
  const refs: RuleRefs = { components: componentIds, probes: probes.ids, labels: probes.labelKeys };
  const rules =
    raw.rules === undefined
      ? await loadPack(ctx, at(root, 'rules'), refs)
      : await loadRules(ctx, refs, (walk) => walkRuleList(ctx, walk, at(root, 'rules'), raw.rules));

  if (!top.success || !vantages) return undefined;
  const data = top.data;
  return {
    file: src.file,
    server: data.server,
    // Relative to the working directory, not the config file: where operators expect `data/` to be.
    store:
      data.store.kind === 'sqlite' ? { ...data.store, path: resolve(ctx.cwd, data.store.path) } : data.store,
    queue: data.queue,
    vantage: data.vantage,
    vantages,
    components: data.components.map((c, i) => ({
      ...c,
      source: { file: src.file, line: lineOf(root, ['components', i]) },
    })),
    probes: probes.plans,
    rules,
    maintenance: data.maintenance,
    notifiers: data.notifiers,
    alertmanager: data.alertmanager,
    engine: data.engine,
    metrics: data.metrics,
    log: data.log,
  };
}

/** Every vantage probes run at: this process's inline, the queue's with BullMQ. */
function planVantages(queue: QueueSpec, vantage: string): string[] {
  return queue.kind === 'bullmq' ? [...queue.vantages] : [vantage];
}

/** Duplicate ids and the dependency graph. Returns every component id written (valid or not). */
function checkComponents(ctx: Ctx, site: Site, list: unknown): Set<string> {
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

function checkMaintenance(ctx: Ctx, site: Site, list: unknown, componentIds: ReadonlySet<string>): void {
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

/** Secrets come from the environment; a variable that is not set is a config problem, caught early. */
function checkSecrets(ctx: Ctx, root: Site, raw: Record<string, unknown>): void {
  const server = isRecord(raw.server) ? raw.server : {};
  for (const { index, value } of parseItems(server.tokens, TokenSpec)) {
    checkEnv(ctx, at(root, 'server', 'tokens', index), 'token_env', value.token_env);
  }
  for (const key of ['store', 'queue'] as const) {
    const spec = raw[key];
    if (isRecord(spec) && typeof spec.password_env === 'string') checkEnv(ctx, at(root, key), 'password_env', spec.password_env);
  }
  for (const { index, value } of parseItems(raw.notifiers, NotifierSpec)) {
    if (value.secret_env !== undefined)
      checkEnv(ctx, at(root, 'notifiers', index), 'secret_env', value.secret_env);
  }
}

function checkEnv(ctx: Ctx, site: Site, key: string, name: string): void {
  const value = ctx.env[name];
  if (value === undefined) report(ctx, site, [key], `environment variable ${name} is not set`);
  else if (value === '') report(ctx, site, [key], `environment variable ${name} is empty`);
}

// ---------------------------------------------------------------------------------------------
// Lists with includes (probes, rules)

interface Walk {
  readonly label: 'probes' | 'rules';
  readonly visit: (item: unknown, site: Site) => Promise<void> | void;
}

/** Visits each item of a `probes:` or `rules:` list in order, expanding `- include:` items in place. */
async function walkList(
  ctx: Ctx,
  walk: Walk,
  list: readonly unknown[],
  site: Site,
  chain: readonly string[],
): Promise<void> {
  for (const [i, item] of list.entries()) {
    const itemSite = at(site, i);
    if (isRecord(item) && 'include' in item) await expandInclude(ctx, walk, item, itemSite, chain);
    else await walk.visit(item, itemSite);
  }
}

/**
 * A glob with wildcards may match nothing (a `checks.d/` with no file yet is normal, as with
 * Prometheus's `rule_files`); a literal path must exist.
 */
async function expandInclude(
  ctx: Ctx,
  walk: Walk,
  item: Record<string, unknown>,
  site: Site,
  chain: readonly string[],
): Promise<void> {
  const parsed = IncludeSpec.safeParse(item, { reportInput: true });
  if (!parsed.success) return reportIssues(ctx, site, parsed.error.issues);
  if (chain.length > MAX_INCLUDE_DEPTH) {
    return report(ctx, site, ['include'], `includes nested more than ${MAX_INCLUDE_DEPTH} levels deep`);
  }
  const pattern = parsed.data.include;
  const baseDir = dirname(site.src.file);
  const files = isDynamicPattern(pattern)
    ? (
        await glob(pattern, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })
      ).sort()
    : [resolve(baseDir, pattern)];
  for (const file of files.map((f) => resolve(f))) await includeFile(ctx, walk, file, site, chain);
}

async function includeFile(
  ctx: Ctx,
  walk: Walk,
  file: string,
  site: Site,
  chain: readonly string[],
): Promise<void> {
  const shownFile = displayFile(file, ctx.cwd);
  if (chain.includes(file)) {
    const cycle = [...chain.slice(chain.indexOf(file)), file].map((f) => displayFile(f, ctx.cwd)).join(' → ');
    return report(ctx, site, ['include'], `include cycle: ${cycle}`);
  }
  const read = await readSource(ctx, file);
  if (read.kind === 'unreadable')
    return report(ctx, site, ['include'], `cannot read include ${shownFile}: ${read.reason}`);
  if (read.kind === 'ok') await walkFile(ctx, walk, read.source, [...chain, file]);
}

/** Visits the items of a file holding a list (an included file, a rule file of the pack). */
async function walkFile(ctx: Ctx, walk: Walk, src: YamlSource, chain: readonly string[]): Promise<void> {
  const value = src.value;
  const fileRoot: Site = { src, doc: [], shown: [walk.label] };
  // An empty file (everything commented out) is an empty list.
  if (value === null) return;
  if (!Array.isArray(value)) {
    return report(
      ctx,
      fileRoot,
      [],
      `an included file holds a list of ${walk.label}, got ${typeName(value)}`,
    );
  }
  await walkList(ctx, walk, value, fileRoot, chain);
}

// ---------------------------------------------------------------------------------------------
// Rules

/** What rule selectors may name: every id and label key written, valid or not (one problem each). */
interface RuleRefs {
  readonly components: ReadonlySet<string>;
  readonly probes: ReadonlySet<string>;
  readonly labels: ReadonlySet<string>;
}

async function walkRuleList(ctx: Ctx, walk: Walk, site: Site, list: unknown): Promise<void> {
  if (Array.isArray(list)) await walkList(ctx, walk, list, site, [site.src.file]);
}

/**
 * The default pack, read as rule files are: the daemon runs what this returns, so a broken pack
 * is reported by `check-config` with the pack file's name and line, not found at start-up.
 * `site` (the missing `rules:` key) is where problems about the pack as a whole point.
 */
async function loadPack(ctx: Ctx, site: Site, refs: RuleRefs): Promise<RuleSource[]> {
  const dir = displayFile(ctx.packDir, ctx.cwd);
  let files: string[];
  try {
    files = packFiles(ctx.packDir);
  } catch (err) {
    report(ctx, site, [], `cannot read the default rule pack ${dir}: ${describeFsError(err)}`);
    return [];
  }
  if (files.length === 0) report(ctx, site, [], `the default rule pack ${dir} holds no rule file (*.yml)`);
  return loadRules(ctx, refs, async (walk) => {
    for (const file of files) {
      const read = await readSource(ctx, file);
      if (read.kind === 'unreadable') ctx.problems.add(file, 1, ROOT_PATH, `cannot read rule file: ${read.reason}`);
      else if (read.kind === 'ok') await walkFile(ctx, walk, read.source, [file]);
    }
  });
}

/** Collects rules with `collect`, then has the rules engine's compiler judge them. */
async function loadRules(
  ctx: Ctx,
  refs: RuleRefs,
  collect: (walk: Walk) => Promise<void>,
): Promise<RuleSource[]> {
  const rules: RuleSource[] = [];
  const sites: Site[] = [];
  const visit = (rule: unknown, s: Site): void => {
    rules.push({ source: { file: s.src.file, line: lineOf(s) }, rule });
    sites.push(s);
  };
  await collect({ label: 'rules', visit });
  // The compiler's problems point at the key inside the rule; a duplicate names the first's FILE:LINE.
  const where = (i: number): string => {
    const s = sites[i];
    return s ? whereIs(ctx, s, ['id']) : `rule ${i}`;
  };
  for (const p of compileRules(rules.map((r) => r.rule), where).problems) {
    const s = sites[p.index];
    if (s) report(ctx, s, p.path, p.message);
  }
  rules.forEach((r, i) => {
    const s = sites[i];
    if (s) checkSelector(ctx, refs, s, r.rule);
  });
  return rules;
}

/**
 * A selector naming what does not exist matches nothing, silently: `kinds: [htpp]` would watch no
 * probe. Kinds must be registered, probes and components written in the config, and label keys
 * carried by at least one probe (a key no probe has is a typo; a value may be for probes to come).
 */
function checkSelector(ctx: Ctx, refs: RuleRefs, site: Site, rule: unknown): void {
  if (!isRecord(rule) || !isRecord(rule.match)) return;
  const match = rule.match;
  const lists: [string, ReadonlySet<string>, (name: string) => string][] = [
    ['kinds', new Set(Object.keys(ctx.kinds)), (k) => unknownKind(ctx, k)],
    ['probes', refs.probes, (p) => `unknown probe "${p}"`],
    ['components', refs.components, (c) => `unknown component "${c}"`],
  ];
  for (const [key, known, unknown] of lists) {
    const names = match[key];
    if (!Array.isArray(names)) continue;
    names.forEach((name: unknown, j) => {
      if (typeof name === 'string' && !known.has(name))
        report(ctx, site, ['match', key, j], `${unknown(name)}${didYouMean(name, known)}`);
    });
  }
  if (!isRecord(match.labels)) return;
  const inUse = [...refs.labels].sort();
  for (const key of Object.keys(match.labels)) {
    if (refs.labels.has(key)) continue;
    const hint = inUse.length === 0 ? 'no probe has labels' : `labels in use: ${inUse.join(', ')}`;
    report(ctx, site, ['match', 'labels', key], `no probe has label "${key}" (${hint})${didYouMean(key, inUse)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Probes

interface ProbesResult {
  readonly plans: ProbePlan[];
  /** Every probe id written, valid or not (rule selectors name them). */
  readonly ids: Set<string>;
  /** Every label key written on a probe, valid or not (rule selectors name them). */
  readonly labelKeys: Set<string>;
  /** Checked once every component is known. */
  readonly componentRefs: { readonly site: Site; readonly component: string }[];
}

interface ProbeEnv {
  /** Undefined when `queue` or `vantage` is invalid: vantage checks are then skipped. */
  readonly vantages: readonly string[] | undefined;
  readonly queueKind: QueueSpec['kind'];
  /** `defaults.recheck` (undefined when absent or invalid: its problem is reported at the top). */
  readonly recheck: RecheckSpec | undefined;
  readonly firstAt: Map<string, string>;
  readonly result: ProbesResult;
}

async function loadProbes(
  ctx: Ctx,
  site: Site,
  list: unknown,
  given: Pick<ProbeEnv, 'vantages' | 'queueKind' | 'recheck'>,
): Promise<ProbesResult> {
  const result: ProbesResult = { plans: [], ids: new Set(), labelKeys: new Set(), componentRefs: [] };
  const env: ProbeEnv = { ...given, firstAt: new Map(), result };
  const visit = (item: unknown, s: Site) => visitProbe(ctx, env, item, s);
  if (Array.isArray(list)) await walkList(ctx, { label: 'probes', visit }, list, site, [site.src.file]);
  return env.result;
}

/** The common keys parsed one by one, so each cross-check runs whenever its own keys are valid. */
function parseCommon(item: Record<string, unknown>) {
  return {
    id: pick(ProbeCommonShape.id, item.id),
    component: pick(ProbeCommonShape.component, item.component),
    interval: pick(ProbeCommonShape.interval, item.interval),
    timeout: pick(ProbeCommonShape.timeout, item.timeout),
    vantages: pick(ProbeCommonShape.vantages, item.vantages),
    labels: pick(ProbeCommonShape.labels, item.labels),
    tls: pick(ProbeCommonShape.tls, item.tls),
    recheck: pick(ProbeCommonShape.recheck, item.recheck),
  };
}
type CommonKeys = ReturnType<typeof parseCommon>;

async function visitProbe(ctx: Ctx, env: ProbeEnv, item: unknown, site: Site): Promise<void> {
  if (!isRecord(item)) {
    return report(ctx, site, [], `expected a probe (a mapping) or { include: glob }, got ${typeName(item)}`);
  }
  noteDuplicate(ctx, env.firstAt, site, item, 'probe');
  if (typeof item.id === 'string') env.result.ids.add(item.id);
  if (isRecord(item.labels)) for (const key of Object.keys(item.labels)) env.result.labelKeys.add(key);
  const common = parseCommon(item);
  const kind = lookupKind(ctx, site, item.kind);
  const spec = kind ? parseProbe(ctx, site, kind, item) : undefined;
  if (!kind) reportCommonIssues(ctx, site, item);
  const timing = checkTiming(ctx, site, common);
  const vantages = checkVantages(ctx, env, site, common.vantages);
  if (common.component !== undefined) env.result.componentRefs.push({ site, component: common.component });
  if (isRecord(item.tls) && 'ca' in item.tls) {
    report(ctx, site, ['tls', 'ca'], 'unknown key (give ca_file: the loader reads the PEM file)');
  }
  const tls = await loadTls(ctx, site, common.tls);
  const recheck = timing ? checkRecheck(ctx, site, common.recheck, env.recheck, timing) : false;
  if (!kind || !spec || !timing || !vantages || tls === false || recheck === false) return;
  const { id, component, labels } = common;
  if (id === undefined || component === undefined || labels === undefined) return;
  const full = { ...spec, timeout: timing.timeoutMs, vantages, ...(tls ? { tls } : {}) };
  env.result.plans.push({
    id,
    kind: kind.kind,
    component,
    intervalMs: timing.intervalMs,
    timeoutMs: timing.timeoutMs,
    vantages,
    labels,
    targets: kind.targets(full),
    spec: full,
    ...(recheck ? { recheck } : {}),
    source: { file: site.src.file, line: lineOf(site) },
  });
}

function lookupKind(ctx: Ctx, site: Site, name: unknown): ProbeKind | undefined {
  const kind = typeof name === 'string' && Object.hasOwn(ctx.kinds, name) ? ctx.kinds[name] : undefined;
  if (kind) return kind;
  if (name === undefined) report(ctx, site, ['kind'], `required: one of ${Object.keys(ctx.kinds).sort().join(', ')}`);
  else {
    const hint = typeof name === 'string' ? didYouMean(name, Object.keys(ctx.kinds)) : '';
    report(ctx, site, ['kind'], `${unknownKind(ctx, name)}${hint}`);
  }
  return undefined;
}

/** Shared by probes' `kind:` and rules' `match.kinds`. */
function unknownKind(ctx: Ctx, name: unknown): string {
  return `unknown probe kind ${show(name)} (known: ${Object.keys(ctx.kinds).sort().join(', ')})`;
}

const strictSchemas = new WeakMap<ProbeKind, z.ZodType<Record<string, unknown>>>();

/** Common keys plus the kind's own, strict: a misspelt key is a problem, not silently ignored. */
function probeSchema(kind: ProbeKind): z.ZodType<Record<string, unknown>> {
  let schema = strictSchemas.get(kind);
  if (!schema) {
    const strict = z.object({ ...ProbeCommonShape, ...kind.shape }).strict();
    schema = kind.refine ? strict.superRefine(kind.refine) : strict;
    strictSchemas.set(kind, schema);
  }
  return schema;
}

function parseProbe(ctx: Ctx, site: Site, kind: ProbeKind, item: Record<string, unknown>) {
  const parsed = probeSchema(kind).safeParse(item, { reportInput: true });
  if (parsed.success) return parsed.data;
  reportIssues(ctx, site, parsed.error.issues);
  return undefined;
}

/** With an unknown kind, the common keys are still checked (kind-specific ones cannot be). */
function reportCommonIssues(ctx: Ctx, site: Site, item: Record<string, unknown>): void {
  const parsed = z.object(ProbeCommonShape).loose().safeParse(item, { reportInput: true });
  if (parsed.success) return;
  reportIssues(
    ctx,
    site,
    parsed.error.issues.filter((issue) => issue.path[0] !== 'kind'),
  );
}

/** Applies the timeout default and checks `0 < timeout < interval`. Undefined when invalid. */
function checkTiming(ctx: Ctx, site: Site, common: CommonKeys) {
  const { interval, timeout } = common;
  if (interval === undefined) return undefined;
  let ok = true;
  if (interval <= 0) {
    report(ctx, site, ['interval'], 'must be greater than 0s');
    ok = false;
  }
  if (timeout !== undefined && timeout <= 0) {
    report(ctx, site, ['timeout'], 'must be greater than 0s');
    ok = false;
  } else if (timeout !== undefined && timeout >= interval) {
    const message = `timeout ${formatDuration(timeout)} must be less than interval ${formatDuration(interval)}`;
    report(ctx, site, ['timeout'], message);
    ok = false;
  }
  if (!ok) return undefined;
  return {
    intervalMs: interval,
    timeoutMs: timeout ?? Math.min(DEFAULT_TIMEOUT_MS, Math.floor(interval / 2)),
  };
}

/**
 * The probe's re-checks: its `recheck` over `defaults.recheck` key by key, over the built-in
 * defaults; undefined when off, false when invalid. A re-check never comes sooner than the
 * probe's timeout (one check of a series at a time), and one that would not come before the next
 * regular check is pointless: an error when the probe asks for it, quietly off when it comes
 * from `defaults` (a probe every 1s gains nothing from re-checks every 2s).
 */
function checkRecheck(
  ctx: Ctx,
  site: Site,
  own: RecheckSpec | undefined,
  defaults: RecheckSpec | undefined,
  timing: { readonly intervalMs: number; readonly timeoutMs: number },
): RecheckPlan | undefined | false {
  if (own === false || (own === undefined && defaults === false)) return undefined;
  const base = typeof defaults === 'object' ? defaults : {};
  const mine = typeof own === 'object' ? own : {};
  const interval = mine.interval ?? base.interval ?? RECHECK_DEFAULTS.intervalMs;
  if (interval >= timing.intervalMs) {
    if (mine.interval === undefined) return undefined;
    const message = `recheck interval ${formatDuration(interval)} must be less than interval ${formatDuration(timing.intervalMs)}`;
    report(ctx, site, ['recheck', 'interval'], message);
    return false;
  }
  return {
    intervalMs: Math.max(interval, timing.timeoutMs),
    max: mine.max ?? base.max ?? RECHECK_DEFAULTS.max,
  };
}

/** The probe's vantages, checked against the plan's; every vantage when it has none. */
function checkVantages(ctx: Ctx, env: ProbeEnv, site: Site, own: readonly string[] | undefined) {
  if (!env.vantages) return undefined;
  if (!own) return [...env.vantages];
  const all = env.vantages;
  let ok = true;
  own.forEach((v, j) => {
    if (all.includes(v)) return;
    ok = false;
    const message =
      env.queueKind === 'inline'
        ? `vantage "${v}" is not this daemon's vantage "${all.join('", "')}" (queue.kind is inline)`
        : `vantage "${v}" is not in queue.vantages (${all.join(', ')})`;
    report(ctx, site, ['vantages', j], message);
  });
  return ok ? [...own] : undefined;
}

/**
 * Reads `tls.ca_file` (relative to the file declaring the probe) into `tls.ca`, as probes never
 * read files themselves. Returns the completed block, undefined without one, false on failure.
 */
async function loadTls(ctx: Ctx, site: Site, tls: TlsSpec | undefined): Promise<TlsSpec | undefined | false> {
  if (tls?.ca_file === undefined) return tls;
  const file = resolve(dirname(site.src.file), tls.ca_file);
  try {
    return { ...tls, ca_file: file, ca: await readFile(file, 'utf8') };
  } catch (err) {
    report(
      ctx,
      site,
      ['tls', 'ca_file'],
      `cannot read ca_file ${displayFile(file, ctx.cwd)}: ${describeFsError(err)}`,
    );
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Reports an id seen before in the same list, at the second occurrence, naming the first. */
function noteDuplicate(
  ctx: Ctx,
  firstAt: Map<string, string>,
  site: Site,
  item: unknown,
  what: string,
): void {
  if (!isRecord(item) || typeof item.id !== 'string') return;
  const first = firstAt.get(item.id);
  if (first === undefined) firstAt.set(item.id, whereIs(ctx, site, ['id']));
  else report(ctx, site, ['id'], `duplicate ${what} id "${item.id}" (first defined at ${first})`);
}

function pick<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** The items of a list that pass `schema`, with their index in the list. */
function parseItems<S extends z.ZodType>(list: unknown, schema: S): { index: number; value: z.output<S> }[] {
  if (!Array.isArray(list)) return [];
  const out: { index: number; value: z.output<S> }[] = [];
  list.forEach((item: unknown, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) out.push({ index, value: parsed.data });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Zod issues → problems (in the words of ./issues.ts, shared with the rules compiler)

function reportIssues(ctx: Ctx, site: Site, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    for (const { path, message } of describeIssue(issue, [])) report(ctx, site, path, message);
  }
}
