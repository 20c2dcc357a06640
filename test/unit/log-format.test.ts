import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import type { Plan } from '../../src/config/plan.js';
import { globalOptions, loggerOptions } from '../../src/cli/options.js';
import { buildProgram } from '../../src/cli/program.js';
import {
  formatLogfmt,
  formatTerminal,
  formatterStream,
  quote,
  resolveLogFormat,
} from '../../src/log-format.js';
import { runningFields } from '../../src/log-start.js';
import { createLogger, type LogFormat } from '../../src/log.js';
import { makePlan } from '../helpers/plan.js';

const T = Date.UTC(2026, 11, 2, 10, 0, 0, 0);
const info = { stacks: false };
const debug = { stacks: true };

/** A destination that keeps what pino (or the formatter) wrote. */
function capture(): { write(s: string): void; text(): string; lines(): string[] } {
  let out = '';
  return {
    write(s: string) {
      out += s;
    },
    text: () => out,
    lines: () => out.split('\n').filter((l) => l !== ''),
  };
}

describe('logfmt values', () => {
  test.each([
    ['plain', 'plain'],
    ['http://127.0.0.1:8080/api/v1', 'http://127.0.0.1:8080/api/v1'],
    ['tocsin running', '"tocsin running"'],
    ['a=b', '"a=b"'],
    ['say "hi"', '"say \\"hi\\""'],
    ['"', '"\\""'],
    ['two\nlines', '"two\\nlines"'],
    ['cr\rtab\t', '"cr\\rtab\\t"'],
    ['esc\u001b[31m', '"esc\\u001b[31m"'],
    ['del\u007f', '"del\\u007f"'],
    ['sep\u2028', '"sep\\u2028"'],
    ['', '""'],
    // A backslash alone needs no quotes (as go-logfmt writes it); inside quotes it is escaped.
    ['C:\\dir', 'C:\\dir'],
    ['C:\\my dir', '"C:\\\\my dir"'],
    ['naïve', 'naïve'],
  ])('%j → %s', (value, expected) => {
    expect(quote(value)).toBe(expected);
  });
});

describe('logfmt records', () => {
  test('ts, level and msg lead; the fields follow in order; service is left out', () => {
    const line = formatLogfmt(
      { level: 30, time: T, service: 'tocsin', url: 'http://127.0.0.1:8080', probes: 3, msg: 'tocsin running' },
      info,
    );
    expect(line).toBe('ts=2026-12-02T10:00:00.000Z level=info msg="tocsin running" url=http://127.0.0.1:8080 probes=3');
  });

  test.each([
    [10, 'trace'],
    [20, 'debug'],
    [30, 'info'],
    [40, 'warn'],
    [50, 'error'],
    [60, 'fatal'],
    [35, '35'],
  ])('level %d is %s', (level, name) => {
    expect(formatLogfmt({ level, time: T, msg: 'm' }, info)).toBe(`ts=2026-12-02T10:00:00.000Z level=${name} msg=m`);
  });

  test('nested objects are flattened as a.b=…; lists, null, booleans and empty objects', () => {
    const line = formatLogfmt(
      {
        level: 30,
        time: T,
        req: { method: 'GET', url: '/api/v1/incidents?limit=5', headers: { 'user-agent': 'curl/8.5.0' } },
        probes: { added: 1, removed: 0 },
        settings: ['log', 'metrics'],
        problems: [],
        objects: [{ a: 1 }],
        resolved_at: null,
        ok: false,
        extra: {},
        msg: 'request',
      },
      info,
    );
    expect(line).toBe(
      'ts=2026-12-02T10:00:00.000Z level=info msg=request req.method=GET req.url="/api/v1/incidents?limit=5"' +
        ' req.headers.user-agent=curl/8.5.0 probes.added=1 probes.removed=0 settings=log,metrics problems=[]' +
        ' objects="[{\\"a\\":1}]" resolved_at=null ok=false extra={}',
    );
  });

  test('keys that would break the line are made safe', () => {
    expect(formatLogfmt({ 'a key': 1, 'b=c': 2, '': 3 }, info)).toBe('a_key=1 b_c=2 _=3');
  });

  test('a message on several lines stays one record on one line', () => {
    const line = formatLogfmt({ level: 50, time: T, msg: 'config/tocsin.yml:3: x\nsecond' }, info);
    expect(line).toBe('ts=2026-12-02T10:00:00.000Z level=error msg="config/tocsin.yml:3: x\\nsecond"');
    expect(line).not.toContain('\n');
  });

  const err = {
    type: 'Error',
    message: 'connect ECONNREFUSED 127.0.0.1:6379',
    stack: 'Error: connect ECONNREFUSED 127.0.0.1:6379\n    at TCPConnectWrap.afterConnect',
    code: 'ECONNREFUSED',
  };

  test('errors: err="message" and their own fields; no stack or type below debug', () => {
    const line = formatLogfmt({ level: 50, time: T, err, msg: 'store unreachable' }, info);
    expect(line).toBe(
      'ts=2026-12-02T10:00:00.000Z level=error msg="store unreachable" err="connect ECONNREFUSED 127.0.0.1:6379" err.code=ECONNREFUSED',
    );
  });

  test('errors at debug: err.type and err.stack too, escaped onto the one line', () => {
    const line = formatLogfmt({ level: 50, time: T, err, msg: 'store unreachable' }, debug);
    expect(line).toContain(' err.type=Error ');
    expect(line).toContain(' err.stack="Error: connect ECONNREFUSED 127.0.0.1:6379\\n    at TCPConnectWrap.afterConnect"');
    expect(line).not.toContain('\n');
  });

  test('an `err` that is not an error object is flattened like any field', () => {
    expect(formatLogfmt({ err: 'plain text' }, info)).toBe('err="plain text"');
  });
});

describe('the terminal format', () => {
  test('local time, level, message as written, then key=value', () => {
    const line = formatTerminal(
      { level: 40, time: T, service: 'tocsin', settings: ['log'], file: '/tmp/my dir/x', msg: 'changed settings apply at the next start only' },
      info,
    );
    expect(line).toMatch(
      /^\d\d:\d\d:\d\d\.000 WARN  changed settings apply at the next start only settings=log file="\/tmp\/my dir\/x"$/,
    );
  });

  test('control characters of a message are escaped; the stack follows indented at debug only', () => {
    const err = { type: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at f (x.js:1:1)' };
    const quiet = formatTerminal({ level: 50, time: T, err, msg: 'a\u001b[2Jb' }, info);
    expect(quiet).toMatch(/^\d\d:\d\d:\d\d\.000 ERROR a\\u001b\[2Jb err=boom$/);
    const loud = formatTerminal({ level: 50, time: T, err, msg: 'failed' }, debug);
    expect(loud.split('\n')).toEqual([
      expect.stringMatching(/ ERROR failed err=boom$/),
      '    TypeError: boom',
      '        at f (x.js:1:1)',
    ]);
  });
});

describe('auto', () => {
  test.each<[LogFormat, boolean, string]>([
    ['auto', true, 'terminal'],
    ['auto', false, 'json'],
    ['json', true, 'json'],
    ['json', false, 'json'],
    ['logfmt', true, 'logfmt'],
    ['logfmt', false, 'logfmt'],
  ])('%s with a terminal %s → %s', (format, tty, output) => {
    expect(resolveLogFormat(format, tty)).toBe(output);
  });
});

describe('createLogger', () => {
  const TOKEN = 'tok_9f3b2c1d8e7a6b5c4d3e2f1a0b9c8d7e';

  test.each<[LogFormat, boolean]>([
    ['json', false],
    ['logfmt', false],
    ['auto', true],
    ['auto', false],
  ])('redaction holds in %s (terminal: %s): a token never appears', (format, isTTY) => {
    const out = capture();
    const logger = createLogger({ level: 'debug', format, destination: out, isTTY });
    logger.info({ token: TOKEN }, 'top-level token');
    logger.info({ req: { method: 'GET', headers: { authorization: `Bearer ${TOKEN}` } } }, 'request');
    logger.warn({ notifier: { url: 'https://hooks.example.com/', secret: TOKEN } }, 'nested secret');
    logger.child({ token: TOKEN }).info('child binding');
    const text = out.text();
    expect(out.lines()).toHaveLength(4);
    expect(text).not.toContain(TOKEN);
    expect(text.match(/\[redacted\]/g)).toHaveLength(4);
  });

  test('json (and auto without a terminal) writes pino JSON lines as before', () => {
    for (const format of ['json', 'auto'] as const) {
      const out = capture();
      createLogger({ format, destination: out, isTTY: false }).info({ url: 'http://127.0.0.1:1' }, 'tocsin running');
      const [line] = out.lines();
      expect(JSON.parse(line ?? '')).toEqual({
        level: 30,
        time: expect.any(Number),
        service: 'tocsin',
        url: 'http://127.0.0.1:1',
        msg: 'tocsin running',
      });
      expect(line).toMatch(/^\{"level":30,"time":\d+,"service":"tocsin","url":"http:\/\/127.0.0.1:1","msg":"tocsin running"\}$/);
    }
  });

  test('logfmt: one line per record, levels filtered, stacks only at debug', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', format: 'logfmt', destination: out });
    logger.debug('hidden');
    logger.error({ err: new Error('disk full') }, 'write failed');
    logger.error(new TypeError('bad input'));
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=error msg="write failed" err="disk full"$/);
    expect(lines[1]).toMatch(/ level=error msg="bad input" err="bad input"$/);

    const verbose = capture();
    createLogger({ level: 'debug', format: 'logfmt', destination: verbose }).error({ err: new Error('disk full') }, 'x');
    expect(verbose.lines()).toHaveLength(1);
    expect(verbose.text()).toMatch(/ err="disk full" err.type=Error err.stack="Error: disk full\\n {4}at /);
  });

  test('the formatter stream splits chunks into records and passes flush on', () => {
    const out = capture();
    let flushed = 0;
    const flush = (cb?: (err?: Error) => void) => {
      flushed++;
      cb?.();
    };
    const stream = formatterStream('logfmt', { ...out, flush }, info);
    stream.write('{"level":30,"time":0,"msg":"a"}\n{"level":40,"time":0,"msg":"b"}\nnot json\n');
    expect(out.lines()).toEqual([
      'ts=1970-01-01T00:00:00.000Z level=info msg=a',
      'ts=1970-01-01T00:00:00.000Z level=warn msg=b',
      'not json',
    ]);
    let called = false;
    stream.flush?.(() => {
      called = true;
    });
    expect([flushed, called]).toEqual([1, true]);
  });
});

describe('the level and format of run and worker', () => {
  /** The global options as the real program parses them for `args`. */
  function parsed(args: string[]): ReturnType<typeof globalOptions> {
    const program = buildProgram();
    const sub = program.commands.find((c) => c.name() === 'check-config');
    let got: ReturnType<typeof globalOptions> | undefined;
    sub?.action((_o, cmd: Command) => {
      got = globalOptions(cmd);
    });
    program.parse([...args, 'check-config'], { from: 'user' });
    if (!got) throw new Error('not parsed');
    return got;
  }

  const plan = (log?: Plan['log']): Plan => makePlan([], { log });

  test('without options: the config, else info and auto', () => {
    expect(loggerOptions(parsed([]), plan())).toEqual({ level: 'info', format: 'auto' });
    expect(loggerOptions(parsed([]), plan({ level: 'warn', format: 'logfmt' }))).toEqual({
      level: 'warn',
      format: 'logfmt',
    });
  });

  test('--log-level, --debug and --log-format win over the config', () => {
    const cfg = plan({ level: 'warn', format: 'logfmt' });
    expect(loggerOptions(parsed(['--log-level', 'error']), cfg)).toEqual({ level: 'error', format: 'logfmt' });
    // Typed as the default is still typed: it wins.
    expect(loggerOptions(parsed(['--log-level', 'info']), cfg).level).toBe('info');
    expect(loggerOptions(parsed(['--debug']), cfg).level).toBe('debug');
    expect(loggerOptions(parsed(['--log-format', 'json']), cfg)).toEqual({ level: 'warn', format: 'json' });
  });

  test('an unknown --log-format is bad usage', () => {
    const program = buildProgram();
    program.configureOutput({ writeErr: () => {} });
    expect(() => program.parse(['--log-format', 'xml', 'check-config'], { from: 'user' })).toThrow(
      expect.objectContaining({ exitCode: 1, code: 'commander.invalidArgument' }),
    );
  });
});

describe('the log: section of the config', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-log-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(extra: string) {
    const file = join(dir, 'tocsin.yml');
    await writeFile(
      file,
      `components:\n  - { id: web, name: Web }\nprobes:\n  - { id: web-home, kind: http, component: web, url: "http://127.0.0.1:1/" }\nrules: []\n${extra}`,
    );
    return loadConfig(file, { cwd: dir, env: {} });
  }

  test('defaults to auto with no level', async () => {
    const loaded = await load('');
    expect(loaded.ok && loaded.plan.log).toEqual({ format: 'auto' });
  });

  test('takes a level and a format', async () => {
    const loaded = await load('log: { level: debug, format: logfmt }\n');
    expect(loaded.ok && loaded.plan.log).toEqual({ level: 'debug', format: 'logfmt' });
  });

  test('unknown values and keys are problems at their line', async () => {
    const loaded = await load('log:\n  format: xml\n  colour: true\n');
    expect(loaded.ok).toBe(false);
    const problems = loaded.ok ? [] : loaded.problems.map(formatProblem);
    expect(problems).toEqual([
      expect.stringMatching(/tocsin\.yml:7: log\.format: .*"auto".*"json".*"logfmt"/),
      expect.stringMatching(/tocsin\.yml:8: log\.colour: unknown key/),
    ]);
  });
});

describe('the start line', () => {
  test('names the API, the console, /metrics and the generated token file (its path only)', () => {
    const p = makePlan([], { store: { kind: 'sqlite', path: '/var/lib/tocsin/tocsin.db' } });
    expect(runningFields('http://127.0.0.1:9470', p, 4)).toEqual({
      url: 'http://127.0.0.1:9470',
      api: 'http://127.0.0.1:9470/api/v1',
      console: 'http://127.0.0.1:9470/',
      metrics: 'http://127.0.0.1:9470/metrics',
      token_file: '/var/lib/tocsin/operator.token',
      probes: 0,
      checks: 4,
    });
  });

  test('no token file when the config names tokens', () => {
    const p = makePlan([], {
      server: {
        listen: { host: '127.0.0.1', port: 0 },
        tokens: [{ name: 'ops', role: 'operator', token_env: 'TOCSIN_OPERATOR_TOKEN' }],
      },
    });
    expect(runningFields('http://127.0.0.1:9470', p, 0)).not.toHaveProperty('token_file');
  });
});
