import type { Plan } from '../config/plan.js';
import type { WarnFn } from '../private-files.js';
import type { IncidentStore } from './port.js';
import { RedisStore } from './redis.js';
import { SqliteStore } from './sqlite.js';

/** Opens the store the plan names; `warn` hears about loose permissions on its files. */
export async function openStore(plan: Plan, opts: { warn?: WarnFn } = {}): Promise<IncidentStore> {
  switch (plan.store.kind) {
    case 'sqlite':
      return SqliteStore.open(plan.store.path, opts);
    case 'redis':
      return RedisStore.open({ url: plan.store.url, prefix: plan.store.prefix });
  }
}
