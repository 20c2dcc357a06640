import { HttpProbeSpec } from '../../probes/http.js';
import { frozenCopy } from '../../src/config/freeze.js';
import { defaultPackRules } from '../../src/config/pack.js';
import type { Plan, ProbePlan } from '../../src/config/plan.js';
import type { Listener } from './target.js';

/**
 * A plan of `count` HTTP probes against the benchmark target, built in code as the config loader
 * would build it. Each probe has its own path (`/p/<i>`), spread over the target's listeners, so
 * every check has a target of its own, as in a real fleet.
 */
export function httpProbesPlan(opts: {
  readonly file: string;
  readonly count: number;
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly listeners: readonly Listener[];
  readonly vantage: string;
  readonly queue: Plan['queue'];
}): Plan {
  const { file, intervalMs, timeoutMs, listeners, vantage } = opts;
  const source = { file, line: 1 };
  const probes: ProbePlan[] = [];
  for (let i = 0; i < opts.count; i++) {
    const l = listeners[i % listeners.length];
    if (!l) throw new Error('no target listener');
    const spec = HttpProbeSpec.parse({ url: `http://${l.host}:${l.port}/p/${i}` });
    probes.push({
      id: `bench-${i}`,
      kind: 'http',
      component: 'bench',
      intervalMs,
      timeoutMs,
      vantages: [vantage],
      labels: {},
      targets: [spec.url],
      // As the config loader builds it: the kind's keys plus the resolved timeout and vantages.
      spec: { ...spec, timeout: timeoutMs, vantages: [vantage] },
      source,
    });
  }
  // Frozen and copied as the loader hands it out (src/config/freeze.ts): shapes and sharing as in
  // the daemon (a plan built here and not copied held a hidden class per probe: 17 MB at 50,000).
  return frozenCopy({
    file,
    server: { listen: { host: '127.0.0.1', port: 0 }, tokens: [] },
    store: { kind: 'sqlite', path: ':memory:' },
    queue: opts.queue,
    vantage,
    vantages: [vantage],
    components: [{ id: 'bench', name: 'Benchmark targets', group: 'Bench', depends_on: [], source }],
    probes,
    rules: defaultPackRules(),
    maintenance: [],
    notifiers: [],
  } satisfies Plan);
}
