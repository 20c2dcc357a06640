import { parseItems } from './pick.js';
import { NotifierSpec, TokenSpec } from './schema.js';
import { at, report, type Reporting, type Site } from './site.js';
import { isRecord } from '../json.js';

/** What the secret checks need besides reporting: where `*_env` variables are looked up. */
export interface SecretsContext extends Reporting {
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Secrets come from the environment; a variable that is not set is a config problem, caught early. */
export function checkSecrets(ctx: SecretsContext, root: Site, raw: Record<string, unknown>): void {
  const server = isRecord(raw.server) ? raw.server : {};
  for (const { index, value } of parseItems(server.tokens, TokenSpec)) {
    checkEnv(ctx, at(root, 'server', 'tokens', index), 'token_env', value.token_env);
  }
  for (const key of ['store', 'queue'] as const) {
    const spec = raw[key];
    if (isRecord(spec) && typeof spec.password_env === 'string') checkEnv(ctx, at(root, key), 'password_env', spec.password_env);
  }
  for (const { index, value } of parseItems(raw.notifiers, NotifierSpec)) {
    if (value.secret_env !== undefined)
      checkEnv(ctx, at(root, 'notifiers', index), 'secret_env', value.secret_env);
  }
}

function checkEnv(ctx: SecretsContext, site: Site, key: string, name: string): void {
  const value = ctx.env[name];
  if (value === undefined) report(ctx, site, [key], `environment variable ${name} is not set`);
  else if (value === '') report(ctx, site, [key], `environment variable ${name} is empty`);
}
