import type { Plan } from '../config/plan.js';
import type { ReloadOutcome } from '../config/reload.js';
import type { IncidentsContext } from '../incidents/manager.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { ProbeQueue } from '../queue/port.js';
import type { LatestResults } from '../results/latest.js';
import type { IncidentStore, UptimeStore } from '../store/port.js';
import type { TokenTable } from '../auth/tokens.js';
import type { AuthThrottle } from './throttle.js';
import type { ResultHistory } from '../console/history.js';

/**
 * What the API's handlers may use; built once by the daemon. `plan` and `tokens` are read on each
 * request: a reload replaces them.
 */
export interface ApiContext {
  readonly plan: Plan;
  readonly store: IncidentStore;
  readonly queue: ProbeQueue;
  readonly latest: LatestResults;
  readonly metrics: Metrics;
  readonly tokens: TokenTable;
  readonly logger: Logger;
  /** Incidents: the store, the write queue and the live engine (operator verbs, component statuses). */
  readonly incidents: IncidentsContext;
  /** Recent checks per series for the console's latency sparklines (absent: no history shown). */
  readonly history?: ResultHistory;
  /** Where uptime history is read (the store); absent, the page and the API show none. */
  readonly uptime?: Pick<UptimeStore, 'uptimeDays' | 'openUptimeSpans'> & Pick<IncidentStore, 'getState'>;
  /** Re-reads the configuration (`POST /-/reload`); absent, the route is not there. */
  readonly reload?: () => Promise<ReloadOutcome>;
  /** Backoff of addresses guessing tokens; buildApi makes one on the system clock when absent. */
  readonly throttle?: AuthThrottle;
}
