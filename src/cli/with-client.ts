import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { dataDir, LOCAL_TOKEN_FILE } from '../auth/tokens.js';
import { loadConfig } from '../config/load.js';
import type * as ClientModule from './client.js';
import type { ApiClient } from './client.js';
import { CliFailure, configPath, globalOptions } from './options.js';
import { escapeControls } from './table.js';

/** Where `tocsin run` listens unless the config says otherwise (CONTRACT §6). */
export const DEFAULT_URL = 'http://127.0.0.1:9470';

/** The flags of every command that talks to the daemon's API. */
export interface ConnectionFlags {
  readonly url: string;
  readonly token?: string;
}

/** `--url` and `--token` (with $TOCSIN_URL and $TOCSIN_TOKEN), for commands that call the API. */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', 'the daemon\'s API').env('TOCSIN_URL').default(DEFAULT_URL))
    .addOption(
      new Option('--token <token>', 'bearer token (default: the generated operator.token in the data directory)').env(
        'TOCSIN_TOKEN',
      ),
    );
}

/** Where the token came from, for the message of a 401. */
interface TokenChoice {
  readonly token?: string;
  readonly looked?: string;
}

/**
 * `--token`, else `$TOCSIN_TOKEN`, else the operator token `tocsin run` generated in the data
 * directory of the config (or `data/` when the config cannot be loaded): a fresh local install
 * works without configuring anything, and no secret is ever hard-coded.
 */
async function chooseToken(flags: ConnectionFlags, cmd: Command): Promise<TokenChoice> {
  if (flags.token) return { token: flags.token };
  let dir = resolve('data');
  try {
    const loaded = await loadConfig(configPath(globalOptions(cmd)));
    if (loaded.ok) dir = dataDir(loaded.plan);
  } catch {
    // The fallback directory it is: the config is the daemon's business, not this command's.
  }
  const file = join(dir, LOCAL_TOKEN_FILE);
  if (!existsSync(file)) return { looked: file };
  try {
    const token = readFileSync(file, 'utf8').trim();
    return token ? { token } : { looked: file };
  } catch (err) {
    throw new CliFailure(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** Runs `fn` with a client; turns every API or network failure into a one-line CLI failure. */
export async function withClient<F extends ConnectionFlags, T>(
  cmd: Command,
  fn: (client: ApiClient, flags: F) => Promise<T>,
): Promise<T> {
  const flags = cmd.opts<F>();
  const choice = await chooseToken(flags, cmd);
  // Loaded on use (with axios): `tocsin run` and `tocsin worker` never need the API client.
  const api = await import('./client.js');
  // An empty TOCSIN_URL counts as unset.
  const client = new api.ApiClient({ url: flags.url || DEFAULT_URL, token: choice.token });
  try {
    return await fn(client, flags);
  } catch (err) {
    throw describeFailure(err, client.url, choice, api);
  }
}

function describeFailure(
  err: unknown,
  url: string,
  choice: TokenChoice,
  { ApiError, UnreachableError }: typeof ClientModule,
): unknown {
  if (err instanceof UnreachableError) {
    return new CliFailure(`cannot reach tocsin at ${url} (${err.reason}); is \`tocsin run\` running?`);
  }
  if (!(err instanceof ApiError)) return err;
  switch (err.status) {
    case 401:
      return new CliFailure(
        choice.token
          ? 'the API refused the token (401): pass --token or set TOCSIN_TOKEN'
          : `the API needs a token (401): pass --token or set TOCSIN_TOKEN (no ${choice.looked ?? LOCAL_TOKEN_FILE})`,
      );
    case 403:
      return new CliFailure(`the token may not do this (403): ${escapeControls(err.message)}`);
    case 400:
    case 404:
    case 409:
    case 413:
      // Every problem on a line of its own before the reason (a reload's config problems).
      return new CliFailure(escapeControls(err.message), 1, err.problems.map((p) => escapeControls(p)));
    default:
      return new CliFailure(`the API answered ${err.status}: ${escapeControls(err.message)}`);
  }
}
