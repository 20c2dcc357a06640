import type { Command } from 'commander';
import { formatProblem, loadConfig } from '../../config/load.js';
import { CliFailure, configPath, globalOptions, plural } from '../options.js';

/**
 * `tocsin check-config`: each problem on stdout as FILE:LINE: path: reason; exit 1 on any. The
 * rules checked are those the daemon would run: the config's, or the default pack without `rules:`.
 */
export function checkConfigCommand(program: Command): void {
  program
    .command('check-config')
    .description('validate the config, its probe files and rule files')
    .action(async (_opts, cmd: Command) => {
      const file = configPath(globalOptions(cmd));
      const loaded = await loadConfig(file);
      if (!loaded.ok) {
        for (const p of loaded.problems) process.stdout.write(`${formatProblem(p)}\n`);
        throw new CliFailure(`${file}: ${plural(loaded.problems.length, 'problem')}`);
      }
      const { plan } = loaded;
      process.stdout.write(
        `${file}: OK (${plural(plan.components.length, 'component')}, ${plural(plan.probes.length, 'probe')}, ${plural(plan.rules?.length ?? 0, 'rule')})\n`,
      );
    });
}
