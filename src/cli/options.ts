import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatProblem, loadConfig } from '../config/load.js';
import type { Plan } from '../config/plan.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LoggerOptions, type LogLevel } from '../log.js';

/** Options every command takes (declared on the program, usable before or after the command). */
export interface GlobalOptions {
  readonly config?: string;
  readonly logLevel: LogLevel;
  /** Whether `--log-level` or `--debug` was given: then it wins over the config's `log.level`. */
  readonly logLevelGiven?: boolean;
  /** `--log-format`, when given: it wins over the config's `log.format`. */
  readonly logFormat?: LogFormat;
  readonly debug: boolean;
}

/** An expected failure of a command: a one-line reason on stderr and this exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    /** Extra lines for stderr before the reason (e.g. every config problem). */
    readonly lines: readonly string[] = [],
  ) {
    super(message);
  }
}

export function globalOptions(cmd: Command): GlobalOptions {
  const o = cmd.optsWithGlobals<{ config?: string; logLevel?: string; logFormat?: string; debug?: boolean }>();
  const logLevel = (o.logLevel ?? 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new CliFailure(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, 2);
  }
  const logFormat = o.logFormat as LogFormat | undefined;
  if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat)) {
    throw new CliFailure(`--log-format must be one of ${LOG_FORMATS.join(', ')}`, 2);
  }
  // `--log-level` has a default, so only its source tells a level typed from the default one.
  const levelSource = cmd.getOptionValueSourceWithGlobals('logLevel');
  return {
    config: o.config,
    logLevel: o.debug ? 'debug' : logLevel,
    logLevelGiven: o.debug === true || (levelSource !== undefined && levelSource !== 'default'),
    logFormat,
    debug: o.debug === true,
  };
}

/** The logger of `run` and `worker`: the command line's level and format, else the config's `log:`. */
export function loggerOptions(opts: GlobalOptions, plan: Plan): LoggerOptions {
  return {
    level: opts.logLevelGiven ? opts.logLevel : (plan.log?.level ?? opts.logLevel),
    format: opts.logFormat ?? plan.log?.format ?? 'auto',
  };
}

/** `--config`, else `$TOCSIN_CONFIG`, else `config/tocsin.yml` (CONTRACT §1). */
export function configPath(opts: GlobalOptions, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(opts.config ?? env.TOCSIN_CONFIG ?? 'config/tocsin.yml');
}

/** Loads the plan or fails with every problem listed. */
export async function loadPlanOrFail(opts: GlobalOptions): Promise<Plan> {
  const loaded = await loadConfig(configPath(opts));
  if (!loaded.ok) {
    throw new CliFailure(
      `invalid config: ${plural(loaded.problems.length, 'problem')}`,
      1,
      loaded.problems.map(formatProblem),
    );
  }
  return loaded.plan;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
