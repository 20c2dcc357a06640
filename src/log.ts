import pino from 'pino';
import {
  formatterStream,
  type LineSink,
  type LogFormat,
  type LogLevel,
  resolveLogFormat,
  showsStacks,
} from './log-format.js';

export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from './log-format.js';

export type Logger = pino.Logger;

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** `auto` (default): the terminal format when the destination is a terminal, JSON otherwise. */
  readonly format?: LogFormat;
  /** Where lines go; default stderr (stdout is for command results). */
  readonly destination?: LineSink;
  /** Whether the destination is a terminal, for `auto`; default: whether stderr is one. */
  readonly isTTY?: boolean;
}

/**
 * Logs on stderr: pino's JSON lines, or logfmt or the terminal format written from them.
 * Authorization headers and anything named like a secret are redacted before a record is
 * serialised, so a token reaches no line in any format.
 */
export function createLogger(options: LogLevel | LoggerOptions = 'info'): Logger {
  const o: LoggerOptions = typeof options === 'string' ? { level: options } : options;
  const level = o.level ?? 'info';
  const output = resolveLogFormat(o.format ?? 'auto', o.isTTY ?? process.stderr.isTTY === true);
  const sink = o.destination ?? pino.destination({ fd: 2, sync: false });
  const stream = output === 'json' ? sink : formatterStream(output, sink, { stacks: showsStacks(level) });
  return pino(
    {
      level,
      base: { service: 'tocsin' },
      redact: {
        paths: ['req.headers.authorization', '*.token', '*.secret', 'token', 'secret'],
        censor: '[redacted]',
      },
    },
    stream as pino.DestinationStream,
  );
}
