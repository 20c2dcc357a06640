import { Command, CommanderError, Option } from 'commander';
import { TocsinError } from '../errors.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log.js';
import { VERSION } from '../package-info.js';
import { checkConfigCommand } from './commands/check-config.js';
import { importCommand } from './commands/import.js';
import { incidentsCommand } from './commands/incidents.js';
import { probeCommand } from './commands/probe.js';
import { reloadCommand } from './commands/reload.js';
import { replayCommand } from './commands/replay.js';
import { runCommand } from './commands/run.js';
import { workerCommand } from './commands/worker.js';
import { CliFailure } from './options.js';

/** Builds the `tocsin` program; exported so tests can drive it without a child process. */
export function buildProgram(): Command {
  const program = new Command('tocsin')
    .description('Probes infrastructure, correlates failures and drafts incidents for operators to confirm.')
    .version(VERSION)
    .option('-c, --config <file>', 'config file (default: $TOCSIN_CONFIG, then config/tocsin.yml)')
    .addOption(new Option('--log-level <level>', 'log level').choices(LOG_LEVELS).default('info'))
    .addOption(new Option('--log-format <format>', 'log lines: auto (terminal: text, else JSON), json or logfmt (default: log.format, else auto)').choices(LOG_FORMATS))
    .option('--debug', 'debug logs, and stack traces on failure')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  runCommand(program);
  checkConfigCommand(program);
  probeCommand(program);
  replayCommand(program);
  importCommand(program);
  incidentsCommand(program);
  reloadCommand(program);
  workerCommand(program);
  return program;
}

/** Runs the CLI: exit 0 on success, 1 on failure (one line on stderr), 2 on bad usage. */
export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err, argv.includes('--debug'));
  }
}

function exitCodeFor(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Help and version are not failures; every other commander error is bad usage (already printed).
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0
      ? 0
      : 2;
  }
  if (err instanceof CliFailure) {
    for (const line of err.lines) process.stderr.write(`${line}\n`);
    process.stderr.write(`tocsin: ${err.message}\n`);
    return err.exitCode;
  }
  if (err instanceof TocsinError) {
    process.stderr.write(`tocsin: ${err.message}\n`);
    return 1;
  }
  process.stderr.write(`tocsin: ${(err as Error)?.message ?? String(err)}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return 1;
}
