import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { M } from '../../src/metrics/names.js';

// monitoring/: the Prometheus rules and the Grafana dashboard for Tocsin itself, checked with
// the real promtool (Debian's prometheus package, installed by scripts/install-test-deps.sh).

const execFileP = promisify(execFile);
const MONITORING = fileURLToPath(new URL('../../monitoring/', import.meta.url));
const RULES = join(MONITORING, 'tocsin-rules.yml');
const dir = mkdtempSync(join(tmpdir(), 'tocsin-monitoring-'));

async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await execFileP('promtool', args, { cwd: MONITORING });
    return stdout + stderr;
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed (${String(e.code)}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Every metric a query names that looks like Tocsin's, without the histogram suffixes. */
function tocsinMetrics(text: string): string[] {
  return [...new Set([...text.matchAll(/\btocsin_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|count|sum)$/, '')))];
}

interface Panel {
  title: string;
  targets?: { expr: string }[];
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('monitoring/: rules and dashboard for Tocsin itself', () => {
  const known = new Set<string>(Object.values(M));

  it('the alerting rules pass promtool check rules and their unit tests', async () => {
    expect(await promtool('check', 'rules', RULES)).toMatch(/SUCCESS: \d+ rules found/);
    expect(await promtool('test', 'rules', 'tocsin-rules.test.yml')).toContain('SUCCESS');
  });

  it('the alerting rules name only metrics Tocsin exposes', () => {
    const unknown = tocsinMetrics(readFileSync(RULES, 'utf8')).filter((m) => !known.has(m));
    expect(unknown).toEqual([]);
  });

  it('every dashboard query parses as PromQL and names only metrics Tocsin exposes', async () => {
    const dashboard = JSON.parse(readFileSync(join(MONITORING, 'tocsin-dashboard.json'), 'utf8')) as { panels: Panel[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    // promtool parses rules files, not queries: each query becomes a recording rule.
    const rules = {
      groups: [{ name: 'dashboard', rules: exprs.map((e, i) => ({ record: `tocsin_dashboard:query_${i}`, expr: e.expr })) }],
    };
    const file = join(dir, 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify(rules));
    expect(await promtool('check', 'rules', file)).toContain(`SUCCESS: ${exprs.length} rules found`);
    const unknown = exprs.flatMap((e) => tocsinMetrics(e.expr).filter((m) => !known.has(m)).map((m) => `${e.title}: ${m}`));
    expect(unknown).toEqual([]);
  });
});
