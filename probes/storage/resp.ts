import type { Socket } from 'node:net';
import type { Deadline } from '../shared/deadline.js';
import { classifyNetError, type Failure } from '../shared/net-errors.js';
import type { PhaseClock } from '../shared/phase-clock.js';
import { opTimeout } from './ops.js';

// The little of RESP2 (https://redis.io/docs/latest/develop/reference/protocol-spec/) the redis
// backend needs: commands out, simple/error/integer/bulk/array replies in. Hand-written rather than
// ioredis because a probe wants exactly one connection, no retry, no offline queue, no reconnection,
// each command timed on its own, and garbage from the peer reported as such, not retried.

export type RespReply =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly value: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'bulk'; readonly value: Buffer | null }
  | { readonly type: 'array'; readonly value: readonly RespReply[] | null };

/** The peer sent something that is not a RESP2 reply. */
export class RespProtocolError extends Error {}

/** Longest header line accepted (a simple string or an error message). */
const MAX_LINE = 64 * 1024;
/** Largest bulk reply accepted: the probe's values are 32 bytes; anything huge is not our key. */
export const MAX_BULK = 1024 * 1024;
const MAX_ARRAY = 1024;
const MAX_DEPTH = 4;

/** Encodes a command as a RESP array of bulk strings. */
export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

function printable(byte: number | undefined): string {
  if (byte === undefined) return 'nothing';
  const hex = `0x${byte.toString(16).padStart(2, '0')}`;
  return byte >= 0x20 && byte < 0x7f
    ? `${hex} '${String.fromCharCode(byte)}'`
    : hex;
}

function integer(text: string, what: string): number {
  if (!/^-?\d{1,15}$/.test(text))
    throw new RespProtocolError(`malformed ${what} "${text.slice(0, 40)}"`);
  return Number(text);
}

/**
 * Parses one reply starting at `start`. Returns it with the offset just past it, or undefined when
 * `buf` does not hold a whole reply yet. Throws {@link RespProtocolError} on anything that is not RESP2.
 */
export function parseReply(
  buf: Buffer,
  start = 0,
  depth = 0,
): { reply: RespReply; next: number } | undefined {
  if (start >= buf.length) return undefined;
  const eol = buf.indexOf('\r\n', start + 1);
  if (eol < 0) {
    if (buf.length - start > MAX_LINE)
      throw new RespProtocolError('reply line too long');
    return undefined;
  }
  const line = buf.toString('latin1', start + 1, eol);
  const next = eol + 2;
  switch (buf[start]) {
    case 0x2b: // +
      return { reply: { type: 'simple', value: line }, next };
    case 0x2d: // -
      return { reply: { type: 'error', value: line }, next };
    case 0x3a: // :
      return {
        reply: { type: 'integer', value: integer(line, 'integer') },
        next,
      };
    case 0x24: {
      // $
      const len = integer(line, 'bulk length');
      if (len === -1) return { reply: { type: 'bulk', value: null }, next };
      if (len < 0 || len > MAX_BULK)
        throw new RespProtocolError(`bulk length ${len} out of range`);
      if (buf.length < next + len + 2) return undefined;
      if (buf[next + len] !== 0x0d || buf[next + len + 1] !== 0x0a)
        throw new RespProtocolError('bulk string not terminated by CRLF');
      return {
        reply: {
          type: 'bulk',
          value: Buffer.from(buf.subarray(next, next + len)),
        },
        next: next + len + 2,
      };
    }
    case 0x2a: {
      // *
      const count = integer(line, 'array length');
      if (count === -1) return { reply: { type: 'array', value: null }, next };
      if (count < 0 || count > MAX_ARRAY || depth >= MAX_DEPTH)
        throw new RespProtocolError(`array of ${count} out of range`);
      const items: RespReply[] = [];
      let at = next;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, at, depth + 1);
        if (!item) return undefined;
        items.push(item.reply);
        at = item.next;
      }
      return { reply: { type: 'array', value: items }, next: at };
    }
    default:
      throw new RespProtocolError(
        `not a RESP reply (first byte ${printable(buf[start])})`,
      );
  }
}

export type CommandOutcome =
  | { readonly ok: true; readonly reply: RespReply }
  | { readonly ok: false; readonly failure: Failure };

/**
 * One connection to a Redis server, one command at a time, under the check's deadline. `command`
 * never rejects: a broken connection, garbage or the deadline give a failure, after which the
 * session is unusable (`broken`). The caller destroys the socket at the end of the check.
 */
export class RespSession {
  private buffer: Buffer = Buffer.alloc(0);
  private waiting:
    | { op: string; resolve: (o: CommandOutcome) => void }
    | undefined;

  private failed: Failure | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly deadline: Deadline,
    private readonly clock: PhaseClock,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) =>
      this.fail(classifyNetError(err, this.waiting?.op)),
    );
    socket.on('close', () =>
      this.fail({
        error: 'connect_error',
        detail: `connection closed by peer${this.waiting ? ` during ${this.waiting.op}` : ''}`,
      }),
    );
  }

  /** True once the connection failed: no further command can be trusted on it. */
  get broken(): boolean {
    return this.failed !== undefined;
  }

  /** Sends one command and waits for its reply; `op` names it in failures. */
  command(
    op: string,
    args: readonly (string | Buffer)[],
  ): Promise<CommandOutcome> {
    if (this.failed)
      return Promise.resolve({ ok: false, failure: this.failed });
    return new Promise<CommandOutcome>((resolve) => {
      const offExpire = this.deadline.onExpire(() =>
        this.fail(opTimeout(op, this.clock.current, this.deadline.budgetMs)),
      );
      this.waiting = {
        op,
        resolve: (outcome) => {
          offExpire();
          resolve(outcome);
        },
      };
      this.socket.write(encodeCommand(args));
      // A reply may already be buffered (the peer spoke first): look at it now.
      this.drain();
    });
  }

  private onData(chunk: Buffer): void {
    if (this.failed) return;
    this.buffer =
      this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    // Nothing the probe asks for is this big: a peer flooding us is not a Redis server.
    if (this.buffer.length > MAX_BULK + MAX_LINE) {
      this.fail({
        error: 'protocol_error',
        detail: `${this.waiting?.op ?? 'redis'}: reply too large`,
      });
      return;
    }
    this.drain();
  }

  private drain(): void {
    if (!this.waiting || this.failed) return;
    let parsed: ReturnType<typeof parseReply>;
    try {
      parsed = parseReply(this.buffer);
    } catch (err) {
      this.fail({
        error: 'protocol_error',
        detail: `${this.waiting.op}: ${(err as Error).message}, the peer does not speak RESP`,
      });
      return;
    }
    if (!parsed) return;
    this.buffer = this.buffer.subarray(parsed.next);
    const { resolve } = this.waiting;
    this.waiting = undefined;
    resolve({ ok: true, reply: parsed.reply });
  }

  private fail(failure: Failure): void {
    if (this.failed) return;
    this.failed = failure;
    const waiting = this.waiting;
    this.waiting = undefined;
    this.buffer = Buffer.alloc(0);
    this.socket.destroy();
    waiting?.resolve({ ok: false, failure });
  }
}
