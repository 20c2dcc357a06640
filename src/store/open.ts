import type { Plan } from '../config/plan.js';
import { TocsinError } from '../errors.js';
import type { IncidentStore } from './port.js';
import { SqliteStore } from './sqlite.js';

/** Opens the store the plan names. */
export async function openStore(plan: Plan): Promise<IncidentStore> {
  switch (plan.store.kind) {
    case 'sqlite':
      return SqliteStore.open(plan.store.path);
    case 'redis':
      throw new TocsinError('UNAVAILABLE', 'store.kind "redis" is not available in this version; use sqlite');
  }
}
