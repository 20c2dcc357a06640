import type { Plan } from '../config/plan.js';
import type { IncidentStore } from './port.js';
import { RedisStore } from './redis.js';
import { SqliteStore } from './sqlite.js';

/** Opens the store the plan names. */
export async function openStore(plan: Plan): Promise<IncidentStore> {
  switch (plan.store.kind) {
    case 'sqlite':
      return SqliteStore.open(plan.store.path);
    case 'redis':
      return RedisStore.open({ url: plan.store.url, prefix: plan.store.prefix });
  }
}
