/**
 * How log records are written: pino's JSON lines as they are, or rewritten as logfmt (the
 * `key=value` lines Prometheus and Alertmanager print) or as a short line for a terminal. No
 * pino here: the config schema names the levels and formats without loading a logger.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** `auto`: the terminal format when stderr is a terminal, JSON otherwise. */
export const LOG_FORMATS = ['auto', 'json', 'logfmt'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** What records are written as once `auto` is decided; `terminal` is for people, not parsers. */
export type LogOutput = 'json' | 'logfmt' | 'terminal';

/**
 * `auto` gives JSON unless a person is watching: anything that collects logs (systemd, Docker,
 * a file, a pipe) keeps the JSON lines it always got.
 */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): LogOutput {
  if (format === 'auto') return isTTY ? 'terminal' : 'json';
  return format;
}

const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

const LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

/** Whether a logger at `level` writes stacks: they help whoever debugs, and drown everyone else. */
export function showsStacks(level: LogLevel): boolean {
  return LEVEL_VALUES[level] <= LEVEL_VALUES.debug;
}

export interface TextFormatOptions {
  /** Write an error's stack (and type) besides its message. */
  readonly stacks: boolean;
}

/**
 * Keys a text line leaves out: `service` is the same on every record (it is there for log
 * stores that mix services); the time, level and message lead the line.
 */
const LEADING = new Set(['time', 'level', 'msg']);
const OMITTED = new Set(['service']);

type LogRecord = Readonly<Record<string, unknown>>;

/** One pino record as a logfmt line (no newline): `ts=… level=… msg=… key=value…`. */
export function formatLogfmt(record: LogRecord, opts: TextFormatOptions): string {
  const pairs: [string, string][] = [];
  if (record.time !== undefined) pairs.push(['ts', isoTime(record.time)]);
  if (record.level !== undefined) pairs.push(['level', levelName(record.level)]);
  if (record.msg !== undefined) pairs.push(['msg', String(record.msg)]);
  pairs.push(...fields(record, opts));
  return pairs.map(([k, v]) => `${k}=${quote(v)}`).join(' ');
}

/**
 * One pino record for a terminal: `10:00:00.000 INFO  message key=value…`, local time, the
 * message as written (control characters escaped, so a record stays on its line); at debug, an
 * error's stack follows on indented lines.
 */
export function formatTerminal(record: LogRecord, opts: TextFormatOptions): string {
  const head: string[] = [];
  if (record.time !== undefined) head.push(localTime(record.time));
  if (record.level !== undefined) head.push(levelName(record.level).toUpperCase().padEnd(5));
  if (record.msg !== undefined) head.push(escapeControls(String(record.msg)));
  const pairs = fields(record, { stacks: false }).map(([k, v]) => `${k}=${quote(v)}`);
  const line = [...head, ...pairs].join(' ');
  const err = record.err;
  if (opts.stacks && isErrorRecord(err) && typeof err.stack === 'string') {
    const stack = err.stack.split('\n').map((l) => `    ${escapeControls(l)}`);
    return [line, ...stack].join('\n');
  }
  return line;
}

/** The fields after the leading three, flattened to `a.b` keys, in the record's order. */
function fields(record: LogRecord, opts: TextFormatOptions): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(record)) {
    if (LEADING.has(key) || OMITTED.has(key)) continue;
    if (key === 'err' && isErrorRecord(value)) errorFields(value, opts, out);
    else flatten(safeKey(key), value, out);
  }
  return out;
}

interface ErrorRecord {
  readonly message: string;
  readonly [key: string]: unknown;
}

/** What pino's error serializer makes of an Error: `{ type, message, stack, ...own fields }`. */
function isErrorRecord(value: unknown): value is ErrorRecord {
  return typeof value === 'object' && value !== null && typeof (value as ErrorRecord).message === 'string';
}

/** `err="message"`, its own fields (`err.code=…`), and `err.type`/`err.stack` only with stacks. */
function errorFields(err: ErrorRecord, opts: TextFormatOptions, out: [string, string][]): void {
  out.push(['err', err.message]);
  for (const [key, value] of Object.entries(err)) {
    if (key === 'message') continue;
    if ((key === 'stack' || key === 'type') && !opts.stacks) continue;
    flatten(`err.${safeKey(key)}`, value, out);
  }
}

/**
 * Objects become dotted keys (`req.method=GET`); a list of plain values is written
 * comma-separated, any other list as JSON; an empty object as `{}` so that its key still shows.
 */
function flatten(key: string, value: unknown, out: [string, string][]): void {
  if (value === null || value === undefined) {
    out.push([key, 'null']);
  } else if (Array.isArray(value)) {
    const plain = value.length > 0 && value.every((v) => v === null || typeof v !== 'object');
    out.push([key, plain ? value.map(String).join(',') : JSON.stringify(value)]);
  } else if (typeof value === 'object') {
    const entries = Object.entries(value);
    if (entries.length === 0) out.push([key, '{}']);
    for (const [k, v] of entries) flatten(`${key}.${safeKey(k)}`, v, out);
  } else {
    out.push([key, String(value)]);
  }
}

// Control characters (C0, DEL, C1) and the Unicode line separators: a value holding one is quoted
// and the character escaped, so a record never spans lines nor moves a terminal's cursor.
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029';
const NEEDS_QUOTES = new RegExp(`[\\s="${CONTROL}]`, 'u');
const ESCAPED_IN_QUOTES = new RegExp(`["\\\\${CONTROL}]`, 'gu');
const CONTROLS = new RegExp(`[${CONTROL}]`, 'gu');
const KEY_UNSAFE = new RegExp(`[\\s="${CONTROL}]`, 'gu');

const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  return ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * A logfmt value: bare when it holds no space, `=`, `"` or control character; otherwise in
 * double quotes with `"`, `\` and control characters escaped (`\n`, `\u001b`). Empty is `""`.
 */
export function quote(value: string): string {
  if (value === '') return '""';
  if (!NEEDS_QUOTES.test(value)) return value;
  return `"${value.replace(ESCAPED_IN_QUOTES, escapeChar)}"`;
}

function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeChar);
}

/** Keys cannot be quoted in logfmt: what would break the line becomes `_`. */
function safeKey(key: string): string {
  return key === '' ? '_' : key.replace(KEY_UNSAFE, '_');
}

function levelName(level: unknown): string {
  return (typeof level === 'number' && LEVEL_NAMES[level]) || String(level);
}

function isoTime(time: unknown): string {
  const d = new Date(time as number | string);
  return Number.isNaN(d.getTime()) ? String(time) : d.toISOString();
}

function localTime(time: unknown): string {
  const d = new Date(time as number | string);
  if (Number.isNaN(d.getTime())) return String(time);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** Where formatted lines go: pino's own destination (SonicBoom) or, in tests, anything with `write`. */
export interface LineSink {
  write(chunk: string): unknown;
  flush?(cb?: (err?: Error) => void): void;
  flushSync?(): void;
  end?(): void;
}

/**
 * The stream pino writes its JSON lines to when the output is not JSON: each line is parsed and
 * written again in the chosen format to `sink`. Redaction happened before pino serialised the
 * record, so what reaches here is already censored. `flush` reaches the sink, so that
 * `logger.flush()` before an exit still drains it.
 */
export function formatterStream(output: 'logfmt' | 'terminal', sink: LineSink, opts: TextFormatOptions): LineSink {
  const format = output === 'logfmt' ? formatLogfmt : formatTerminal;
  const line = (json: string): string => {
    try {
      return `${format(JSON.parse(json) as LogRecord, opts)}\n`;
    } catch {
      // Not a record pino made (nothing else writes here): passed on rather than lost.
      return `${json}\n`;
    }
  };
  return {
    write(chunk: string) {
      let text = '';
      for (const json of chunk.split('\n')) if (json !== '') text += line(json);
      return sink.write(text);
    },
    flush(cb) {
      if (sink.flush) sink.flush(cb);
      else cb?.();
    },
    flushSync() {
      sink.flushSync?.();
    },
    end() {
      sink.end?.();
    },
  };
}
