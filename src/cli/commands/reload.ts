import type { Command } from 'commander';
import { type ConnectionFlags, withClient, withConnectionOptions } from '../with-client.js';

/**
 * `tocsin reload`: asks the running daemon to re-read its configuration (`POST /-/reload`, as
 * SIGHUP does). Prints what changed; a refused config prints every problem as FILE:LINE and exits 1
 * (the daemon keeps running its current configuration).
 */
export function reloadCommand(program: Command): void {
  withConnectionOptions(program.command('reload'))
    .description('make the running daemon re-read its configuration (as SIGHUP does)')
    .option('--json', 'print the API\'s JSON')
    .action(async (_opts, cmd: Command) => {
      await withClient<ConnectionFlags & { json?: boolean }, void>(cmd, async (client, flags) => {
        const answer = await client.reload();
        if (flags.json) {
          process.stdout.write(`${JSON.stringify(answer)}\n`);
          return;
        }
        const { added, removed, changed, unchanged } = answer.probes;
        process.stdout.write(`reloaded: probes ${added} added, ${removed} removed, ${changed} changed, ${unchanged} unchanged\n`);
        if (answer.restart_required.length > 0) {
          process.stdout.write(`changed, applied at the next start only: ${answer.restart_required.join(', ')}\n`);
        }
      });
    });
}
