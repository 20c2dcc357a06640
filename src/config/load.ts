import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { z } from 'zod';
import { PROBE_KINDS } from '../../probes/index.js';
import type { ProbeKind } from '../../probes/probe.js';
import type { TlsSpec } from '../../probes/shared/tls-spec.js';
import { formatDuration } from './duration.js';
import { frozenCopy } from './freeze.js';
import type { Plan, ProbePlan, RuleSource } from './plan.js';
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
  IncludeSpec,
  NotifierSpec,
  ProbeCommonShape,
  type QueueSpec,
  TokenSpec,
} from './schema.js';
import { compileRules } from '../engine/rules.js';
import { checkTopology } from './topology.js';
import { parseYaml, type YamlSource } from './yaml-source.js';

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
}

export type LoadResult =
  | { readonly ok: true; readonly plan: Plan }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

/** Deeper include chains are almost certainly a mistake (or a cycle through symlinks). */
const MAX_INCLUDE_DEPTH = 8;
/** A probe's timeout when none is given, unless half its interval is shorter (CONTRACT §2). */
const DEFAULT_TIMEOUT_MS = 10_000;

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

  const probes = await loadProbes(ctx, at(root, 'probes'), raw.probes, vantages, queue?.kind ?? 'inline');
  for (const ref of probes.componentRefs) {
    if (!componentIds.has(ref.component))
      report(ctx, ref.site, ['component'], `unknown component "${ref.component}"`);
  }
  const rules = raw.rules === undefined ? undefined : await loadRules(ctx, at(root, 'rules'), raw.rules);

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
  if (read.kind === 'invalid') return;
  const value = read.source.value;
  const fileRoot: Site = { src: read.source, doc: [], shown: [walk.label] };
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
  await walkList(ctx, walk, value, fileRoot, [...chain, file]);
}

async function loadRules(ctx: Ctx, site: Site, list: unknown): Promise<RuleSource[]> {
  const rules: RuleSource[] = [];
  const sites: Site[] = [];
  const visit = (rule: unknown, s: Site): void => {
    rules.push({ source: { file: s.src.file, line: lineOf(s) }, rule });
    sites.push(s);
  };
  if (Array.isArray(list)) await walkList(ctx, { label: 'rules', visit }, list, site, [site.src.file]);
  // The rules engine's compiler judges them; its problems point at the key inside the rule.
  for (const p of compileRules(rules.map((r) => r.rule)).problems) {
    const s = sites[p.index];
    if (s) report(ctx, s, p.path, p.message);
  }
  return rules;
}

// ---------------------------------------------------------------------------------------------
// Probes

interface ProbesResult {
  readonly plans: ProbePlan[];
  /** Checked once every component is known. */
  readonly componentRefs: { readonly site: Site; readonly component: string }[];
}

interface ProbeEnv {
  /** Undefined when `queue` or `vantage` is invalid: vantage checks are then skipped. */
  readonly vantages: readonly string[] | undefined;
  readonly queueKind: QueueSpec['kind'];
  readonly firstAt: Map<string, string>;
  readonly result: ProbesResult;
}

async function loadProbes(
  ctx: Ctx,
  site: Site,
  list: unknown,
  vantages: readonly string[] | undefined,
  queueKind: QueueSpec['kind'],
): Promise<ProbesResult> {
  const env: ProbeEnv = { vantages, queueKind, firstAt: new Map(), result: { plans: [], componentRefs: [] } };
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
  };
}
type CommonKeys = ReturnType<typeof parseCommon>;

async function visitProbe(ctx: Ctx, env: ProbeEnv, item: unknown, site: Site): Promise<void> {
  if (!isRecord(item)) {
    return report(ctx, site, [], `expected a probe (a mapping) or { include: glob }, got ${typeName(item)}`);
  }
  noteDuplicate(ctx, env.firstAt, site, item, 'probe');
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
  if (!kind || !spec || !timing || !vantages || tls === false) return;
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
    source: { file: site.src.file, line: lineOf(site) },
  });
}

function lookupKind(ctx: Ctx, site: Site, name: unknown): ProbeKind | undefined {
  const kind = typeof name === 'string' && Object.hasOwn(ctx.kinds, name) ? ctx.kinds[name] : undefined;
  if (kind) return kind;
  const known = Object.keys(ctx.kinds).sort().join(', ');
  report(
    ctx,
    site,
    ['kind'],
    name === undefined ? `required: one of ${known}` : `unknown probe kind ${show(name)} (known: ${known})`,
  );
  return undefined;
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

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Zod issues → problems

function reportIssues(ctx: Ctx, site: Site, issues: readonly z.core.$ZodIssue[]): void {
  for (const issue of issues) {
    for (const { path, message } of describeIssue(issue, [])) report(ctx, site, path, message);
  }
}

interface Described {
  readonly path: KeyPath;
  readonly message: string;
}

/** Zod's issues in an operator's words: "required", "unknown key", "expected number, got string". */
function describeIssue(issue: z.core.$ZodIssue, prefix: KeyPath): Described[] {
  const path = [...prefix, ...issue.path.map((p) => (typeof p === 'number' ? p : String(p)))];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: 'unknown key' }));
    case 'invalid_union':
      return describeUnion(issue, path);
    default:
      return [{ path, message: issueMessage(issue) }];
  }
}

function describeUnion(issue: z.core.$ZodIssueInvalidUnion, path: KeyPath): Described[] {
  if (issue.discriminator !== undefined && 'options' in issue && issue.options) {
    const options = issue.options.map(show).join(', ');
    const value = isRecord(issue.input) ? issue.input[issue.discriminator] : undefined;
    return [
      {
        path,
        message:
          value === undefined
            ? `required: one of ${options}`
            : `expected one of ${options}, got ${show(value)}`,
      },
    ];
  }
  const branches = issue.errors;
  const typeOnly = branches.filter(
    (b) => b.length === 1 && b[0]?.code === 'invalid_type' && b[0].path.length === 0,
  );
  if (branches.length > 0 && typeOnly.length === branches.length) {
    const expected = [
      ...new Set(typeOnly.map((b) => (b[0]?.code === 'invalid_type' ? typeWord(b[0].expected) : ''))),
    ];
    return [
      {
        path,
        message:
          issue.input === undefined
            ? 'required'
            : `expected ${expected.join(' or ')}, got ${typeName(issue.input)}`,
      },
    ];
  }
  // The branch of the right type says what is wrong inside it (e.g. a bad status pattern).
  const best = branches.filter((b) => !typeOnly.includes(b)).sort((a, b) => a.length - b.length)[0];
  return best ? best.flatMap((sub) => describeIssue(sub, path)) : [{ path, message: issue.message }];
}

function issueMessage(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required';
      if (issue.expected === 'int' && typeof issue.input === 'number')
        return `expected an integer, got ${issue.input}`;
      return `expected ${typeWord(issue.expected)}, got ${typeName(issue.input)}`;
    case 'invalid_value': {
      const options = issue.values.map(show).join(', ');
      if (issue.input === undefined) return `required: one of ${options}`;
      return issue.values.length === 1
        ? `expected ${options}, got ${show(issue.input)}`
        : `expected one of ${options}, got ${show(issue.input)}`;
    }
    case 'too_small':
      return (
        sizeMessage(issue.origin, 'at least', Number(issue.minimum), issue.inclusive !== false) ??
        issue.message
      );
    case 'too_big':
      return (
        sizeMessage(issue.origin, 'at most', Number(issue.maximum), issue.inclusive !== false) ??
        issue.message
      );
    case 'invalid_format':
      return formatMessage(issue);
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      // custom (durations, host:port, maintenance windows): the schemas' own messages are meant for operators.
      return issue.message;
  }
}

function sizeMessage(origin: string, bound: 'at least' | 'at most', n: number, inclusive: boolean) {
  if (origin === 'array' || origin === 'set') {
    return bound === 'at least' && n === 1
      ? 'must not be empty'
      : `must have ${bound} ${n} item${n === 1 ? '' : 's'}`;
  }
  if (origin === 'string') {
    return bound === 'at least' && n === 1
      ? 'must not be empty'
      : `must be ${bound} ${n} character${n === 1 ? '' : 's'} long`;
  }
  if (origin === 'number' || origin === 'int' || origin === 'bigint') {
    const op = bound === 'at least' ? (inclusive ? '>=' : '>') : inclusive ? '<=' : '<';
    return `must be ${op} ${n}`;
  }
  return undefined;
}

function formatMessage(issue: z.core.$ZodIssueInvalidStringFormat): string {
  const got = issue.input === undefined ? '' : `, got ${show(issue.input)}`;
  switch (issue.format) {
    case 'url':
      return `expected a URL${got}`;
    case 'datetime':
      return `expected an RFC 3339 date-time with offset, e.g. 2024-11-18T21:00:00Z${got}`;
    case 'regex':
      // Our schemas give every pattern an operator-facing message.
      return issue.message;
    default:
      return `expected ${issue.format}${got}`;
  }
}

/** YAML words for JSON types: an operator writes mappings and lists, not objects and arrays. */
function typeWord(type: string): string {
  if (type === 'object' || type === 'record') return 'mapping';
  if (type === 'array' || type === 'tuple') return 'list';
  if (type === 'int') return 'integer';
  return type;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  return typeWord(typeof value);
}

/** A value as written in a message: strings quoted, numbers as is, collections by type. */
function show(value: unknown): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return JSON.stringify(value);
  return typeName(value);
}
