import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { CheckResult } from '../../src/events/probe-result.js';
import type { CheckContext } from '../probe.js';
import { Deadline } from '../shared/deadline.js';
import type { Failure } from '../shared/net-errors.js';
import { PhaseClock } from '../shared/phase-clock.js';
import type { TlsSessionInfo } from '../shared/tls-options.js';
import type { TlsSpec } from '../shared/tls-spec.js';
import { connectSocket } from './connect.js';
import { checkLatency, freshKey, OpTimer, storageResult } from './ops.js';
import { type RespReply, RespSession } from './resp.js';
import type { RedisSettings, StorageExpect } from './spec.js';

type RedisOp = 'connect' | 'ping' | 'set' | 'get' | 'del';

/** Keys written by the probe expire on their own even when DEL never runs (a failed check). */
const KEY_TTL_MS = 60_000;
/** Server messages end up in `detail`; a long one is noise. */
const MAX_MESSAGE = 200;
/** Redis 6+ answers WRONGPASS/NOAUTH; older servers "ERR invalid password". */
const AUTH_ERROR =
  /^(NOAUTH|WRONGPASS)\b|invalid password|invalid username-password|without any password configured/i;

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}

function describeReply(reply: RespReply): string {
  switch (reply.type) {
    case 'bulk':
      return reply.value === null
        ? 'a null bulk string'
        : `a bulk string of ${reply.value.length} bytes`;
    case 'array':
      return reply.value === null
        ? 'a null array'
        : `an array of ${reply.value.length}`;
    case 'integer':
      return `integer ${reply.value}`;
    default:
      return `"${clip(reply.value)}"`;
  }
}

const unexpected = (
  op: string,
  command: string,
  reply: RespReply,
): Failure => ({
  error: 'protocol_error',
  detail: `${op}: unexpected reply to ${command}: ${describeReply(reply)}`,
});

const expectSimple =
  (op: string, command: string, value: string) =>
    (reply: RespReply): Failure | undefined =>
      reply.type === 'simple' && reply.value === value
        ? undefined
        : unexpected(op, command, reply);

/** The password to send, from `password_env` (read now) or the URL; a failure when the variable is unset. */
function password(
  settings: RedisSettings,
): { value: string | undefined } | Failure {
  if (settings.passwordEnv !== undefined) {
    const value = process.env[settings.passwordEnv];
    if (value === undefined || value === '') {
      return {
        error: 'storage_error',
        detail: `environment variable ${settings.passwordEnv} (password_env) is ${value === undefined ? 'not set' : 'empty'}`,
      };
    }
    return { value };
  }
  return { value: settings.server.password };
}

/**
 * `backend: redis`: on a fresh connection, AUTH/SELECT when the URL asks for them, then PING,
 * SET key value PX 60000, GET (compared with what was set), DEL. No retry, no reconnection, no
 * offline queue; the connection is destroyed at the end of the check whatever happened.
 * `observations.ops`: connect (TCP, TLS, AUTH, SELECT), ping, set, get, del.
 */
export async function checkRedis(
  settings: RedisSettings,
  expect: StorageExpect,
  tls: TlsSpec | undefined,
  target: string,
  ctx: CheckContext,
): Promise<CheckResult> {
  const deadline = new Deadline(ctx);
  const clock = new PhaseClock();
  const timer = new OpTimer<RedisOp>();
  let socket: Socket | undefined;
  let peer: { remote_address?: string } & TlsSessionInfo = {};
  const done = (failure: Failure | undefined): CheckResult => {
    clock.stop();
    const ops = timer.ops();
    return storageResult(
      target,
      deadline,
      failure ?? checkLatency(ops, expect.max_latency),
      {
        ops,
        timings: clock.timings(),
        ...peer,
      },
    );
  };

  try {
    const secret = password(settings);
    if ('error' in secret) return done(secret);
    const { host, port, db, username } = settings.server;

    timer.start('connect');
    const conn = await connectSocket(
      {
        host,
        port,
        tls: settings.server.tls ? { spec: tls, name: host } : undefined,
        localAddress: ctx.sourceAddress,
      },
      deadline,
      clock,
      'connect',
    );
    if (!conn.ok) {
      timer.abandon();
      return done(conn.failure);
    }
    socket = conn.socket;
    peer = {
      ...(conn.remoteAddress ? { remote_address: conn.remoteAddress } : {}),
      ...conn.tls,
    };
    const session = new RespSession(socket, deadline, clock);

    /** Runs one command in `phase`; error replies and unexpected ones become failures. */
    const run = async (
      op: RedisOp,
      phase: string,
      args: readonly (string | Buffer)[],
      check: (reply: RespReply) => Failure | undefined,
    ): Promise<Failure | undefined> => {
      clock.enter(phase);
      const out = await session.command(op, args);
      if (!out.ok) return out.failure;
      if (out.reply.type === 'error') {
        const message = clip(out.reply.value);
        if (AUTH_ERROR.test(message)) {
          const hint =
            secret.value === undefined
              ? ' (no password given: set password_env)'
              : '';
          return { error: 'storage_error', detail: `auth: ${message}${hint}` };
        }
        return { error: 'storage_error', detail: `${op}: ${message}` };
      }
      return check(out.reply);
    };
    const step = async (
      op: RedisOp,
      work: () => Promise<Failure | undefined>,
    ): Promise<Failure | undefined> => {
      timer.start(op);
      const failure = await work();
      if (failure) timer.abandon();
      else timer.end();
      return failure;
    };

    let failure = await step('connect', async () => {
      if (secret.value !== undefined) {
        const user = username !== undefined ? [username] : [];
        const auth = await run(
          'connect',
          'auth',
          ['AUTH', ...user, secret.value],
          expectSimple('connect', 'AUTH', 'OK'),
        );
        if (auth) return auth;
      }
      if (db === 0) return undefined;
      return run(
        'connect',
        'select',
        ['SELECT', String(db)],
        expectSimple('connect', 'SELECT', 'OK'),
      );
    });
    if (failure) return done(failure);
    failure = await step('ping', () =>
      run('ping', 'ping', ['PING'], expectSimple('ping', 'PING', 'PONG')),
    );
    if (failure) return done(failure);

    const key = freshKey(settings.keyPrefix);
    const value = randomBytes(16).toString('hex');
    failure = await step('set', () =>
      run(
        'set',
        'set',
        ['SET', key, value, 'PX', String(KEY_TTL_MS)],
        expectSimple('set', 'SET', 'OK'),
      ),
    );
    if (failure) return done(failure);
    failure = await step('get', () =>
      run('get', 'get', ['GET', key], (reply) => {
        if (reply.type !== 'bulk') return unexpected('get', 'GET', reply);
        if (reply.value === null)
          return {
            error: 'storage_error',
            detail: 'get: content mismatch: the key just set is missing',
          };
        if (reply.value.toString('latin1') !== value) {
          return {
            error: 'storage_error',
            detail: `get: content mismatch (got ${reply.value.length} bytes, set ${value.length})`,
          };
        }
        return undefined;
      }),
    );
    if (failure) {
      // Best effort, unmeasured: the key expires anyway, but a live connection can remove it now.
      if (!session.broken && !deadline.expired)
        await session.command('del', ['DEL', key]);
      return done(failure);
    }
    failure = await step('del', () =>
      run('del', 'del', ['DEL', key], (reply) => {
        if (reply.type !== 'integer') return unexpected('del', 'DEL', reply);
        return reply.value === 1
          ? undefined
          : {
              error: 'storage_error',
              detail: `del: the key just set was not found (DEL returned ${reply.value})`,
            };
      }),
    );
    return done(failure);
  } finally {
    socket?.destroy();
    deadline.dispose();
  }
}
