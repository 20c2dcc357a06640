import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliFailure, plural } from '../options.js';

/**
 * `tocsin import blackbox --blackbox F [--prometheus F] [-o FILE] [--strict]`: Blackbox exporter
 * modules and the Prometheus jobs that probe through them, as a Tocsin probes list (on stdout, or
 * in FILE). What cannot be mapped goes to stderr as FILE:LINE: reason; the output is written
 * whatever was reported. Exit 0 when anything was imported (CONTRACT §1), 1 when nothing was, or
 * with --strict when anything was reported; 2 on bad usage.
 */
export function importCommand(program: Command): void {
  const command = program
    .command('import')
    .description('turn another tool\'s configuration into Tocsin probes');
  command
    .command('blackbox')
    .description('Blackbox exporter modules and the Prometheus jobs that probe through them, as Tocsin probes (YAML)')
    .requiredOption('--blackbox <file>', 'the Blackbox exporter config (blackbox.yml)')
    .option('--prometheus <file>', 'the Prometheus config whose scrape jobs probe through the exporter (prometheus.yml)')
    .option('-o, --output <file>', 'write the probes to FILE instead of stdout')
    .option('--strict', 'exit 1 when anything could not be mapped, even if probes were imported')
    .action(async (opts: { blackbox: string; prometheus?: string; output?: string; strict?: boolean }) => {
      // Loaded here, not at the top: every `tocsin` command, the daemon included, loads this file.
      const { importBlackbox } = await import('../../import/blackbox.js');
      const result = await importBlackbox({ blackbox: opts.blackbox, prometheus: opts.prometheus });
      if (opts.output === undefined) {
        process.stdout.write(result.yaml);
      } else {
        try {
          await writeFile(opts.output, result.yaml);
        } catch (err) {
          throw new CliFailure(`cannot write ${opts.output}: ${(err as Error).message}`, 1, result.problemLines);
        }
      }
      const what = opts.prometheus === undefined ? plural(result.imported, 'module') : plural(result.imported, 'probe');
      const summary = `imported ${what}${opts.prometheus === undefined ? ' (no targets without --prometheus)' : ` of ${plural(result.components.length, 'job')}`}, ${plural(result.problems.length, 'problem')}`;
      if (result.imported === 0 || (opts.strict === true && result.problems.length > 0)) {
        throw new CliFailure(summary, 1, result.problemLines);
      }
      for (const line of result.problemLines) process.stderr.write(`${line}\n`);
      process.stderr.write(`tocsin: ${summary}\n`);
    });
}
