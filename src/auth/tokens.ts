// Who may call: the API tokens from the config and the local token file, and the principal they
// name. Its own domain, below the API and the console (docs/design.md, "Layers"): the console's
// sessions carry a principal, the CLI finds the local token, and neither reaches into the API.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Plan } from '../config/plan.js';
import { TocsinError } from '../errors.js';
import { ensurePrivateDir, formatMode, restrictFile, type WarnFn } from '../private-files.js';

export type Role = 'operator' | 'viewer';

export interface Principal {
  readonly name: string;
  readonly role: Role;
}

interface TokenEntry extends Principal {
  readonly digest: Buffer;
}

/** Shortest configured token accepted: a short one is guessed despite the backoff. */
export const MIN_TOKEN_CHARS = 24;

/** Name of the generated operator token file in the data directory (read by the CLI). */
export const LOCAL_TOKEN_FILE = 'operator.token';

/** Where a local install keeps its files: beside the SQLite database, or `./data` otherwise. */
export function dataDir(plan: Plan, cwd = process.cwd()): string {
  return plan.store.kind === 'sqlite' ? dirname(plan.store.path) : join(cwd, 'data');
}

/**
 * Tokens of the config too short to resist guessing, one message each: the token's name and
 * variable, never its value (nor a hint of it beyond its length). The daemon refuses to start
 * on the first; `check-config` reports them all.
 */
export function shortTokens(plan: Plan, env: NodeJS.ProcessEnv): string[] {
  const out: string[] = [];
  for (const t of plan.server.tokens) {
    const secret = env[t.token_env];
    if (secret && secret.length < MIN_TOKEN_CHARS) {
      out.push(
        `server.tokens: token "${t.name}" (${t.token_env}) is ${secret.length} characters; tokens need at least ${MIN_TOKEN_CHARS} (e.g. openssl rand -base64 32)`,
      );
    }
  }
  return out;
}

/**
 * The bearer tokens the API accepts. Tokens from the config come from the environment; when the
 * config names none, a random operator token is generated once and kept (mode 0600) in the data
 * directory, so a fresh install is usable and still has no default secret.
 */
export class TokenTable {
  readonly #entries: TokenEntry[];

  private constructor(entries: TokenEntry[]) {
    this.#entries = entries;
  }

  static fromPlan(plan: Plan, env: NodeJS.ProcessEnv = process.env, warn?: WarnFn): TokenTable {
    const [short] = shortTokens(plan, env);
    if (short) throw new TocsinError('INVALID', short);
    const entries: TokenEntry[] = [];
    for (const t of plan.server.tokens) {
      const secret = env[t.token_env];
      // The loader already reported unset variables; a blank one must not become a valid token.
      if (secret) entries.push({ name: t.name, role: t.role, digest: digest(secret) });
    }
    if (plan.server.tokens.length === 0) {
      entries.push({
        name: 'local-operator',
        role: 'operator',
        digest: digest(ensureLocalToken(dataDir(plan), warn)),
      });
    }
    return new TokenTable(entries);
  }

  /** The principal holding `token`, compared in constant time against every known token. */
  authenticate(token: string): Principal | undefined {
    const d = digest(token);
    let found: TokenEntry | undefined;
    for (const e of this.#entries) {
      // Hashing first gives equal-length buffers; no early exit keeps the time independent of the match.
      if (timingSafeEqual(d, e.digest) && !found) found = e;
    }
    return found ? { name: found.name, role: found.role } : undefined;
  }
}

/**
 * Reads the local operator token, creating it (0600, in a 0700 directory when Tocsin creates it)
 * on first use. An existing file that group or other users could read is set back to 0600 with a
 * warning (the path and old mode, never the token): refusing to start would break an install
 * for a mode bit, and the fix is the same either way. Whoever could read it may hold the token,
 * so the warning says how to rotate it.
 */
export function ensureLocalToken(dir: string, warn?: WarnFn): string {
  const file = join(dir, LOCAL_TOKEN_FILE);
  if (existsSync(file)) {
    const loose = restrictFile(file, warn);
    if (loose !== undefined) {
      warn?.(
        { file, mode: formatMode(loose) },
        'operator token file was readable by group/other users; set it to 0600 (to rotate the token, delete the file and restart)',
      );
    }
    return readFileSync(file, 'utf8').trim();
  }
  ensurePrivateDir(dir, warn);
  const token = randomBytes(32).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return token;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
