import type { Command } from 'commander';
import { shortTokens } from '../../auth/tokens.js';
import { checkBinding } from '../../api/binding.js';
import { formatProblem, loadConfig } from '../../config/load.js';
import { passwordInUrl } from '../../store/open.js';
import { CliFailure, configPath, globalOptions, plural } from '../options.js';

/**
 * `tocsin check-config`: each problem on stdout as FILE:LINE: path: reason; exit 1 on any. The
 * rules checked are those the daemon would run: the config's, or the default pack without `rules:`.
 * Also what the daemon would refuse at start (a network address without tokens, short tokens in
 * the environment) and its warnings (plain HTTP off loopback).
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
      // What the daemon would refuse at start beyond the file itself: where it listens, and
      // tokens (from the environment) too short to resist guessing.
      const binding = checkBinding(plan.server);
      const refusals = [...(binding.ok ? [] : [binding.reason]), ...shortTokens(plan, process.env)];
      const warnings = [
        ...(binding.ok ? binding.warnings : []),
        ...(plan.store.kind === 'redis' ? [passwordInUrl(plan.store.url, 'store.url', 'store.password_env')] : []),
        ...(plan.queue.kind === 'bullmq' ? [passwordInUrl(plan.queue.redis_url, 'queue.redis_url', 'queue.password_env')] : []),
      ];
      for (const w of warnings) if (w) process.stdout.write(`${file}: warning: ${w}\n`);
      if (refusals.length > 0) {
        for (const r of refusals) process.stdout.write(`${file}: ${r}\n`);
        throw new CliFailure(`${file}: ${plural(refusals.length, 'problem')}`);
      }
      process.stdout.write(
        `${file}: OK (${plural(plan.components.length, 'component')}, ${plural(plan.probes.length, 'probe')}, ${plural(plan.rules.length, 'rule')})\n`,
      );
    });
}
