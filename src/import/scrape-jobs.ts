import { dirname, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { formatDuration } from '../duration.js';
import type { KeyPath } from '../config/problems.js';
import type { YamlSource } from '../config/yaml-source.js';
import { isRecord } from '../json.js';
import { parsePromDuration } from './durations.js';
import type { Report, Where } from './problems.js';
import { type Labels, parseRelabelConfigs, relabel, type RelabelRule } from './relabel.js';
import { readFileSdGroups, readGroups, type TargetGroup } from './target-groups.js';
import { readYamlFile, scalarText, whereIn } from './yaml-file.js';

// The Prometheus side: the scrape jobs that probe through a Blackbox exporter's /probe, and for
// each of their targets what the exporter is asked (target, module) once Prometheus has built and
// relabelled the target (scrape/target.go, PopulateLabels), with the labels its series carry.

/** One target a job has the exporter probe. */
export interface ScrapeTarget {
  readonly job: string;
  /** Where the job is declared (its `job_name`). */
  readonly jobWhere: Where;
  /** Where the target is written: its static_configs item, or its line in a target file. */
  readonly where: Where;
  /** What the exporter probes (`__param_target`). */
  readonly target: string;
  /** The exporter's module (`__param_module`; the exporter's default, http_2xx, without one). */
  readonly module: string;
  /** Other `/probe` parameters (`hostname`, ...) by name. */
  readonly params: ReadonlyMap<string, string>;
  /** Its series' labels, but `job` (the component) and an `instance` naming the target or the exporter. */
  readonly labels: Readonly<Record<string, string>>;
  readonly intervalMs: number;
  readonly scrapeTimeoutMs: number;
}

/** A job that probes through an exporter. */
export interface ProbeJob {
  readonly name: string;
  readonly where: Where;
}

export interface PrometheusProbes {
  readonly jobs: readonly ProbeJob[];
  readonly targets: readonly ScrapeTarget[];
}

/** Prometheus's defaults when `global:` says nothing. */
const DEFAULT_INTERVAL_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 10_000;
/** What the exporter does without a `module` parameter (prober/handler.go). */
const EXPORTER_DEFAULT_MODULE = 'http_2xx';

interface Globals {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

/** Reads a Prometheus config and what its probe jobs ask the exporter; undefined when unreadable. */
export async function readPrometheusProbes(file: string, report: Report): Promise<PrometheusProbes | undefined> {
  const src = await readYamlFile(file, report);
  if (!src) return undefined;
  const root = src.value;
  if (!isRecord(root)) {
    report(whereIn(src, []), 'expected a Prometheus configuration (a mapping with scrape_configs)');
    return undefined;
  }
  const globals = readGlobals(src, root.global, report);
  const reader = new JobReader(globals, report);
  await reader.readList(src, ['scrape_configs'], root.scrape_configs);
  // scrape_config_files (Prometheus 2.43): more scrape configs, relative to this file.
  if (Array.isArray(root.scrape_config_files)) {
    for (const [i, pattern] of root.scrape_config_files.entries()) {
      if (typeof pattern !== 'string') continue;
      const baseDir = dirname(file);
      const files = isDynamicPattern(pattern)
        ? (await glob(pattern, { cwd: baseDir, absolute: true, onlyFiles: true, expandDirectories: false })).sort()
        : [resolve(baseDir, pattern)];
      if (files.length === 0) report(whereIn(src, ['scrape_config_files', i]), `"${pattern}" matches no file`);
      for (const f of files) {
        const more = await readYamlFile(resolve(f), report);
        if (more && isRecord(more.value)) await reader.readList(more, ['scrape_configs'], more.value.scrape_configs);
      }
    }
  }
  if (reader.jobs.length === 0) {
    report(
      whereIn(src, root.scrape_configs === undefined ? [] : ['scrape_configs']),
      'no scrape job probes through a Blackbox exporter (metrics_path /probe): nothing to import',
    );
  }
  return { jobs: reader.jobs, targets: reader.targets };
}

function readGlobals(src: YamlSource, raw: unknown, report: Report): Globals {
  const g = isRecord(raw) ? raw : {};
  const duration = (key: string, fallback: number): number => {
    if (g[key] === undefined) return fallback;
    const ms = parsePromDuration(scalarText(g[key]) ?? '');
    if (ms === undefined) {
      report(whereIn(src, ['global', key]), `global.${key}: invalid duration, Prometheus's default assumed`);
      return fallback;
    }
    return ms;
  };
  return { intervalMs: duration('scrape_interval', DEFAULT_INTERVAL_MS), timeoutMs: duration('scrape_timeout', DEFAULT_TIMEOUT_MS) };
}

/** A job's settings that shape its targets. */
interface JobSettings {
  readonly name: string;
  readonly where: Where;
  readonly defaults: ReadonlyMap<string, string>;
  readonly params: ReadonlyMap<string, string>;
  readonly rules: readonly RelabelRule[];
}

class JobReader {
  readonly jobs: ProbeJob[] = [];
  readonly targets: ScrapeTarget[] = [];
  private readonly names = new Map<string, Where>();

  constructor(
    private readonly globals: Globals,
    private readonly report: Report,
  ) {}

  async readList(src: YamlSource, path: KeyPath, raw: unknown): Promise<void> {
    if (raw === undefined || raw === null) return;
    if (!Array.isArray(raw)) {
      this.report(whereIn(src, path), 'scrape_configs: expected a list');
      return;
    }
    for (const [i, job] of raw.entries()) await this.readJob(src, [...path, i], job);
  }

  private async readJob(src: YamlSource, path: KeyPath, raw: unknown): Promise<void> {
    const where = whereIn(src, path);
    if (!isRecord(raw)) return this.report(where, 'scrape config: expected a mapping');
    const name = scalarText(raw.job_name);
    if (!name) return this.report(where, 'scrape config without job_name');
    const jobWhere = whereIn(src, [...path, 'job_name']);
    if (!probesThroughExporter(raw)) return;
    const first = this.names.get(name);
    if (first) return this.report(jobWhere, `job "${name}" is declared twice (first at line ${first.line}); Prometheus refuses that`);
    this.names.set(name, jobWhere);
    this.jobs.push({ name, where: jobWhere });

    const rules = parseRelabelConfigs(src, [...path, 'relabel_configs'], raw.relabel_configs, this.report);
    const timing = this.timing(src, path, raw);
    if (!rules || !timing) {
      return this.report(jobWhere, `job "${name}": not imported, for the problems reported with its settings`);
    }
    const defaults = new Map<string, string>([
      ['job', name],
      ['__scrape_interval__', formatDuration(timing.intervalMs)],
      ['__scrape_timeout__', formatDuration(timing.timeoutMs)],
      ['__metrics_path__', scalarText(raw.metrics_path) ?? '/metrics'],
      ['__scheme__', scalarText(raw.scheme) ?? 'http'],
    ]);
    const params = new Map<string, string>();
    if (isRecord(raw.params)) {
      for (const [key, values] of Object.entries(raw.params)) {
        // Prometheus puts the first value of each parameter in __param_<name>.
        const value = Array.isArray(values) ? scalarText(values[0]) : undefined;
        if (value !== undefined) params.set(key, value);
      }
    }
    const job: JobSettings = { name, where: jobWhere, defaults, params, rules };

    for (const key of Object.keys(raw)) {
      const at = [...path, key];
      if (key === 'static_configs') {
        this.addGroups(job, readGroups(src, at, raw[key], this.report));
      } else if (key === 'file_sd_configs') {
        const list = raw[key];
        if (!Array.isArray(list)) {
          this.report(whereIn(src, at), 'file_sd_configs: expected a list');
          continue;
        }
        for (const [j, sd] of list.entries()) {
          this.addGroups(job, await readFileSdGroups(src, [...at, j], sd, dirname(src.file), this.report));
        }
      } else if (key.endsWith('_sd_configs')) {
        this.report(
          whereIn(src, at),
          `job "${name}": ${key} discovers targets while Prometheus runs: not followed (only static_configs and file_sd_configs are), its targets are not imported`,
        );
      }
    }
  }

  /** The job's interval and timeout, as Prometheus completes them from `global:`. */
  private timing(
    src: YamlSource,
    path: KeyPath,
    raw: Record<string, unknown>,
  ): { intervalMs: number; timeoutMs: number } | undefined {
    const read = (key: string): number | undefined | null => {
      if (raw[key] === undefined) return undefined;
      const ms = parsePromDuration(scalarText(raw[key]) ?? '');
      if (ms === undefined) {
        this.report(whereIn(src, [...path, key]), `${key}: invalid duration "${String(raw[key])}"`);
        return null;
      }
      return ms;
    };
    const interval = read('scrape_interval');
    const timeout = read('scrape_timeout');
    if (interval === null || timeout === null) return undefined;
    const intervalMs = interval ?? this.globals.intervalMs;
    const timeoutMs = timeout ?? Math.min(this.globals.timeoutMs, intervalMs);
    return { intervalMs, timeoutMs };
  }

  private addGroups(job: JobSettings, groups: readonly TargetGroup[]): void {
    for (const group of groups) {
      for (const t of group.targets) {
        // The target's own labels (its address) win over its group's; the job's fill what is unset.
        const lb: Labels = new Map(group.labels);
        lb.set('__address__', t.address);
        for (const [k, v] of job.defaults) if (!lb.get(k)) lb.set(k, v);
        for (const [k, v] of job.params) lb.set(`__param_${k}`, v);
        const target = this.scrapeTarget(job, t.address, t.where, lb);
        if (target) this.targets.push(target);
      }
    }
  }

  private scrapeTarget(job: JobSettings, address: string, where: Where, before: Labels): ScrapeTarget | undefined {
    const lb = relabel(before, job.rules);
    // Dropped by keep/drop rules: the operator's own filter, not something lost.
    if (!lb) return undefined;
    const what = `job "${job.name}": target ${address}`;
    if (!lb.get('__address__')) {
      this.report(where, `${what}: no __address__ left after relabelling (Prometheus drops it)`);
      return undefined;
    }
    // Relabelling may send some of a job's targets elsewhere than an exporter's /probe.
    if (!(lb.get('__metrics_path__') ?? '').endsWith('/probe')) return undefined;
    const target = lb.get('__param_target');
    if (!target) {
      this.report(where, `${what}: no __param_target after relabelling: the exporter would have nothing to probe`);
      return undefined;
    }
    const intervalMs = parsePromDuration(lb.get('__scrape_interval__') ?? '');
    const scrapeTimeoutMs = parsePromDuration(lb.get('__scrape_timeout__') ?? '');
    if (!intervalMs || scrapeTimeoutMs === undefined) {
      this.report(where, `${what}: invalid __scrape_interval__ or __scrape_timeout__ after relabelling`);
      return undefined;
    }
    for (const k of [...lb.keys()]) if (k.startsWith('__meta_')) lb.delete(k);
    // An instance left to default names the exporter (__address__), not what it probes: not kept.
    const exporter = lb.get('__address__');
    const params = new Map<string, string>();
    const labels: Record<string, string> = {};
    for (const [k, v] of [...lb].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (k.startsWith('__param_')) {
        const name = k.slice('__param_'.length);
        if (name !== 'target' && name !== 'module') params.set(name, v);
      } else if (!k.startsWith('__') && !(k === 'job' && v === job.name) && !(k === 'instance' && (v === target || v === exporter))) {
        labels[k] = v;
      }
    }
    return {
      job: job.name,
      jobWhere: job.where,
      where,
      target,
      module: lb.get('__param_module') || EXPORTER_DEFAULT_MODULE,
      params,
      labels,
      intervalMs,
      scrapeTimeoutMs,
    };
  }
}

/**
 * Whether a scrape job is one of the exporter's: it scrapes `/probe`, passes a module or target
 * parameter, or relabels into them. Other jobs (the exporter's own metrics, node exporters) are
 * not probes and are left alone; targets are checked again after relabelling.
 */
function probesThroughExporter(raw: Record<string, unknown>): boolean {
  if ((scalarText(raw.metrics_path) ?? '').endsWith('/probe')) return true;
  if (isRecord(raw.params) && ('module' in raw.params || 'target' in raw.params)) return true;
  const rules = Array.isArray(raw.relabel_configs) ? raw.relabel_configs : [];
  return rules.some(
    (r: unknown) => isRecord(r) && ['__param_target', '__param_module', '__metrics_path__'].includes(String(r.target_label)),
  );
}
