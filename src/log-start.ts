import { join } from 'node:path';
import { dataDir, LOCAL_TOKEN_FILE } from './auth/tokens.js';
import type { Plan } from './config/plan.js';

/** The fields of the daemon's "tocsin running" line. */
export interface RunningFields {
  /** The listener's base URL (kept first: scripts read it as `"url":"…"`). */
  readonly url: string;
  readonly api: string;
  /** The console is served at `/` (and `/console/…`) of the same listener. */
  readonly console: string;
  readonly metrics: string;
  /** The generated operator token's file when the daemon uses it (no `server.tokens`): its path only. */
  readonly token_file?: string;
  readonly probes: number;
  readonly checks: number;
}

/**
 * What a person starting the daemon needs first: where to point a browser, curl and Prometheus,
 * and which file holds the token to sign in with. Never the token itself.
 */
export function runningFields(url: string, plan: Plan, checks: number, cwd = process.cwd()): RunningFields {
  const tokenFile =
    plan.server.tokens.length === 0 ? { token_file: join(dataDir(plan, cwd), LOCAL_TOKEN_FILE) } : {};
  return {
    url,
    api: `${url}/api/v1`,
    console: `${url}/`,
    metrics: `${url}/metrics`,
    ...tokenFile,
    probes: plan.probes.length,
    checks,
  };
}
