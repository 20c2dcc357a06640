import { defaultPackRules } from '../../src/config/pack.js';
import type { Plan, ProbePlan, RulePlan } from '../../src/config/plan.js';

// Read once: many tests build a plan per case, and the pack's documents are never changed.
let pack: readonly RulePlan[] | undefined;

/** A minimal valid plan for unit tests of the scheduler, queue and API (no config file involved). */
export function makePlan(probes: Partial<ProbePlan>[], overrides: Partial<Plan> = {}): Plan {
  return {
    file: '/dev/null',
    server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [] },
    store: { kind: 'sqlite', path: ':memory:' },
    queue: { kind: 'inline', concurrency: 16 },
    vantage: 'local',
    vantages: ['local'],
    components: [
      { id: 'app', name: 'App', group: 'Apps', depends_on: [], source: { file: '/dev/null', line: 1 } },
    ],
    probes: probes.map((p, i) => ({
      id: `p${i}`,
      kind: 'fake',
      component: 'app',
      intervalMs: 1000,
      timeoutMs: 500,
      vantages: ['local'],
      labels: {},
      targets: [`t${i}`],
      spec: {},
      source: { file: '/dev/null', line: i + 1 },
      ...p,
    })),
    rules: (pack ??= defaultPackRules()),
    maintenance: [],
    notifiers: [],
    ...overrides,
  };
}
