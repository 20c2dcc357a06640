import type { Plan } from '../config/plan.js';
import type { WarnFn } from '../private-files.js';
import { passwordsInUrl } from '../redis/connection.js';
import type { IncidentStore, UptimeStore } from './port.js';
import { SqliteStore } from './sqlite.js';

/**
 * Opens the store the plan names; `warn` hears about loose permissions on its files and about a
 * password written in the Redis URL; `env` holds `store.password_env`; `onUnreplicated` hears of
 * each Redis write its replicas did not acknowledge in time (`store.replicas_wait`).
 */
export async function openStore(
  plan: Plan,
  opts: { warn?: WarnFn; env?: NodeJS.ProcessEnv; onUnreplicated?: () => void } = {},
): Promise<IncidentStore & UptimeStore> {
  switch (plan.store.kind) {
    case 'sqlite':
      return SqliteStore.open(plan.store.path, opts);
    case 'redis': {
      const { url, prefix, password_env, replicas_wait } = plan.store;
      const warning = passwordInUrl(url, 'store.url', 'store.password_env');
      if (warning) opts.warn?.({ key: 'store.url' }, warning);
      const password = password_env ? (opts.env ?? process.env)[password_env] : undefined;
      // ioredis is loaded only for a Redis store: an embedded daemon never pays for it.
      const { defaultReplicasWait, RedisStore } = await import('./redis.js');
      const replicasWait = replicas_wait
        ? { count: replicas_wait.count, timeoutMs: replicas_wait.timeout }
        : defaultReplicasWait(url);
      return RedisStore.open({ url, prefix, password, replicasWait, onUnreplicated: opts.onUnreplicated });
    }
  }
}

/**
 * The warning for a Redis URL that carries a password (a secret in the config file), naming the
 * key to use instead; undefined when it carries none. Accepted still: refusing it would break
 * configs written before `password_env` existed.
 */
export function passwordInUrl(url: string, key: string, instead: string): string | undefined {
  const { password, sentinelPassword } = passwordsInUrl(url);
  if (password) {
    return `${key} carries a password: a secret does not belong in the config file; set ${instead} to the name of an environment variable holding it`;
  }
  // No `_env` form for the Sentinels' own password: the warning says so rather than naming one.
  if (sentinelPassword) return `${key} carries sentinel_password: a secret in the config file; keep the file private`;
  return undefined;
}
