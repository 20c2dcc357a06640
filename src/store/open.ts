import type { Plan } from '../config/plan.js';
import type { WarnFn } from '../private-files.js';
import type { IncidentStore } from './port.js';
import { RedisStore } from './redis.js';
import { SqliteStore } from './sqlite.js';

/**
 * Opens the store the plan names; `warn` hears about loose permissions on its files and about a
 * password written in the Redis URL; `env` holds `store.password_env`.
 */
export async function openStore(
  plan: Plan,
  opts: { warn?: WarnFn; env?: NodeJS.ProcessEnv } = {},
): Promise<IncidentStore> {
  switch (plan.store.kind) {
    case 'sqlite':
      return SqliteStore.open(plan.store.path, opts);
    case 'redis': {
      const { url, prefix, password_env } = plan.store;
      const warning = passwordInUrl(url, 'store.url', 'store.password_env');
      if (warning) opts.warn?.({ key: 'store.url' }, warning);
      const password = password_env ? (opts.env ?? process.env)[password_env] : undefined;
      return RedisStore.open({ url, prefix, password });
    }
  }
}

/**
 * The warning for a Redis URL that carries a password (a secret in the config file), naming the
 * key to use instead; undefined when it carries none. Accepted still: refusing it would break
 * configs written before `password_env` existed.
 */
export function passwordInUrl(url: string, key: string, instead: string): string | undefined {
  if (!URL.canParse(url) || new URL(url).password === '') return undefined;
  return `${key} carries a password: a secret does not belong in the config file; set ${instead} to the name of an environment variable holding it`;
}
