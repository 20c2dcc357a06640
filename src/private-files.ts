import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';

/** Where a permission warning goes (pino's argument order, so `logger.warn.bind(logger)` fits). */
export type WarnFn = (fields: Record<string, unknown>, msg: string) => void;

/** Group and other permission bits: any of them set lets another local user in. */
const LOOSE_BITS = 0o077;

/** `0644`-style text of a mode's permission bits, for log lines. */
export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}

/**
 * Makes sure `dir` exists for Tocsin's private files (incidents, the operator token). A directory
 * Tocsin creates is 0700 whatever the umask. One that already exists was chosen by the user and
 * may hold other things, so it is left as it is; it only earns a warning when others can enter it.
 */
export function ensurePrivateDir(dir: string, warn?: WarnFn): void {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask, which can only remove bits; chmod states it exactly.
    chmodSync(dir, 0o700);
    return;
  }
  const mode = statSync(dir).mode;
  if (mode & LOOSE_BITS) {
    warn?.(
      { dir, mode: formatMode(mode) },
      'data directory is accessible to group/other users; Tocsin keeps its own files 0600 but consider chmod 700',
    );
  }
}

/**
 * Sets `file` (when it exists) to 0600. Returns its previous mode when that let group or other
 * users in, so the caller can say so. A failed chmod (e.g. a file owned by another user) is warned
 * about rather than fatal: the daemon can still work, the operator has to fix it.
 */
export function restrictFile(file: string, warn?: WarnFn): number | undefined {
  if (!existsSync(file)) return undefined;
  const mode = statSync(file).mode;
  if ((mode & 0o777) === 0o600) return undefined;
  try {
    chmodSync(file, 0o600);
  } catch (err) {
    warn?.({ file, mode: formatMode(mode), err: (err as Error).message }, 'could not set file mode to 0600');
    return undefined;
  }
  return mode & LOOSE_BITS ? mode & 0o777 : undefined;
}
