import type { IncomingHttpHeaders } from 'node:http';

// An HTTP/1.x response reader for the probe's own client (exchange.ts): a check reads one response
// over a connection it opened for it alone, so the reader needs no pipelining, no upgrade and no
// request side. It follows RFC 9112 for framing (§6.3: HEAD, 1xx, 204 and 304 have no body;
// Transfer-Encoding wins over Content-Length; otherwise the body runs to the close) and node:http
// for the header object (lower-case names, duplicates joined or dropped the same way), so that
// expectations and lb_sync fingerprints read the same values as before.

/** The status line and headers of the final (non-1xx) response. */
export interface ResponseHead {
  readonly status: number;
  readonly httpVersion: string;
  readonly headers: IncomingHttpHeaders;
}

/** Where the reader hands what it read; `false` from `head` or `body` stops reading. */
export interface ResponseSink {
  head(head: ResponseHead): boolean;
  body(chunk: Buffer): boolean;
  complete(): void;
}

/** A response that is not HTTP/1.x. `code` uses llhttp's names, as node:http reported them. */
export class HttpParseError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpParseError';
  }
}

/** node:http's default `maxHeaderSize`: status line and headers together, per response. */
export const MAX_HEAD_BYTES = 16 * 1024;
/** A chunk-size line is hex digits and maybe extensions: a longer one is not HTTP. */
const MAX_CHUNK_LINE = 1024;

/** Headers node:http keeps only the first of (`IncomingMessage._addHeaderLine`). */
const FIRST_WINS: ReadonlySet<string> = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?:[ \t].*)?$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/;
/** The versions there are, shared: the latest result of every probe keeps one. */
const VERSIONS: ReadonlyMap<string, string> = new Map(['1.0', '1.1'].map((v) => [v, v]));

const enum State {
  StatusLine,
  HeaderLine,
  Fixed,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailer,
  UntilClose,
  Done,
}

/**
 * Reads one response from the bytes of a connection, as they arrive (`push`), and `end` when the
 * peer closes. Throws HttpParseError on anything that is not HTTP/1.x; never holds more than
 * MAX_HEAD_BYTES of a head or a chunk-size line, and never holds body bytes (they go to the sink).
 */
export class ResponseParser {
  private state = State.StatusLine;
  private gotHead = false;
  /** The bytes of an unfinished line, kept from the last push. */
  private partial: Buffer | undefined;
  /** Bytes of the current head (or trailer section) read so far. */
  private headBytes = 0;
  /** Body bytes still due: of the Content-Length, or of the current chunk. */
  private remaining = 0;
  private status = 0;
  private version = '';
  private headers: Record<string, string | string[]> = {};
  /** Content-Length values as sent: two that differ make the length unknowable. */
  private length: string | undefined;

  constructor(
    /** The request was HEAD: the answer has headers only, whatever it declares. */
    private readonly headRequest: boolean,
    private readonly sink: ResponseSink,
  ) {}

  /** Has the response been read to its end (or reading been stopped by the sink)? */
  get done(): boolean {
    return this.state === State.Done;
  }

  /** The body length the head declared, while that body is due (not for HEAD, 204, 304 or chunked). */
  get declaredLength(): number | undefined {
    return this.state === State.Fixed ? this.remaining : undefined;
  }

  /** Has a final status line and its headers been read? */
  get headRead(): boolean {
    return this.gotHead;
  }

  push(data: Buffer): void {
    let buf = data;
    // The first `carried` bytes of `buf` are a line begun in an earlier push, already counted.
    let carried = 0;
    if (this.partial !== undefined) {
      carried = this.partial.length;
      buf = Buffer.concat([this.partial, data]);
      this.partial = undefined;
    }
    let at = 0;
    while (at < buf.length && this.state !== State.Done) {
      switch (this.state) {
        case State.Fixed:
        case State.ChunkData: {
          const take = Math.min(this.remaining, buf.length - at);
          const chunk = at === 0 && take === buf.length ? buf : buf.subarray(at, at + take);
          at += take;
          this.remaining -= take;
          if (!this.sink.body(chunk)) this.state = State.Done;
          else if (this.remaining === 0) this.finishBody();
          break;
        }
        case State.UntilClose: {
          const chunk = at === 0 ? buf : buf.subarray(at);
          at = buf.length;
          if (!this.sink.body(chunk)) this.state = State.Done;
          break;
        }
        default: {
          const end = buf.indexOf(10, at); // '\n'
          if (end === -1) {
            this.countLine(buf.length - at, buf.length - Math.max(at, carried));
            // A copy: the rest of a large read would otherwise keep the whole read alive.
            this.partial = Buffer.from(buf.subarray(at));
            return;
          }
          const stop = end > at && buf[end - 1] === 13 ? end - 1 : end; // without '\r'
          this.countLine(end + 1 - at, end + 1 - Math.max(at, carried));
          const line = buf.toString('latin1', at, stop);
          at = end + 1;
          this.line(line);
        }
      }
    }
  }

  /**
   * The peer closed the connection. Returns whether the response was whole: a body that runs to
   * the close ends here; anything else cut short is incomplete.
   */
  end(): boolean {
    if (this.state === State.UntilClose) {
      this.state = State.Done;
      this.sink.complete();
    }
    return this.state === State.Done;
  }

  /**
   * Checks a line (`length` bytes so far, `fresh` of them new in this push) against its cap: a
   * chunk-size line alone, a head's lines (or a trailer section's) together.
   */
  private countLine(length: number, fresh: number): void {
    if (this.state === State.ChunkSize || this.state === State.ChunkEnd) {
      if (length > MAX_CHUNK_LINE) {
        throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
      }
      return;
    }
    this.headBytes += fresh;
    if (this.headBytes > MAX_HEAD_BYTES) {
      throw new HttpParseError('HPE_HEADER_OVERFLOW', `Header overflow (over ${MAX_HEAD_BYTES} bytes)`);
    }
  }

  private line(line: string): void {
    switch (this.state) {
      case State.StatusLine:
        this.statusLine(line);
        return;
      case State.HeaderLine:
        if (line === '') this.endOfHead();
        else this.headerLine(line);
        return;
      case State.ChunkSize:
        this.chunkSize(line);
        return;
      case State.ChunkEnd:
        if (line !== '') throw new HttpParseError('HPE_STRICT', 'Expected CRLF after chunk');
        this.state = State.ChunkSize;
        return;
      case State.Trailer:
        // Trailer fields are read and dropped (node:http keeps them apart from the headers too).
        if (line === '') this.complete();
        return;
      default:
        return;
    }
  }

  private statusLine(line: string): void {
    // A client may skip empty lines before the status line (RFC 9112 §2.2).
    if (line === '') return;
    const match = STATUS_LINE.exec(line);
    if (match === null) {
      if (!line.startsWith('HTTP/')) throw new HttpParseError('HPE_INVALID_CONSTANT', 'Expected HTTP/');
      throw new HttpParseError('HPE_INVALID_STATUS', 'Invalid status line');
    }
    const [, major, minor, status] = match as unknown as [string, string, string, string];
    if (major !== '1') throw new HttpParseError('HPE_INVALID_VERSION', `Invalid HTTP version ${major}.${minor}`);
    const version = `${major}.${minor}`;
    this.version = VERSIONS.get(version) ?? version;
    this.status = Number(status);
    this.headers = {};
    this.length = undefined;
    this.state = State.HeaderLine;
  }

  private headerLine(line: string): void {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    // A line without a name, a space before the colon or a folded line (leading space) is refused,
    // as by llhttp: they are how responses are smuggled past one parser and not another.
    if (!TOKEN.test(name)) throw new HttpParseError('HPE_INVALID_HEADER_TOKEN', 'Invalid header token');
    const key = name.toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-length') {
      if (this.length !== undefined && this.length !== value) {
        throw new HttpParseError('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length');
      }
      this.length = value;
    }
    const had = this.headers[key];
    if (had === undefined) {
      this.headers[key] = key === 'set-cookie' ? [value] : value;
    } else if (key === 'set-cookie') {
      (had as string[]).push(value);
    } else if (!FIRST_WINS.has(key)) {
      this.headers[key] = `${had as string}${key === 'cookie' ? '; ' : ', '}${value}`;
    }
  }

  private endOfHead(): void {
    this.headBytes = 0;
    // Interim answers (100 Continue, 103 Early Hints) precede the real one: skip them.
    if (this.status >= 100 && this.status < 200 && this.status !== 101) {
      this.state = State.StatusLine;
      return;
    }
    const bodyless =
      this.headRequest || this.status === 101 || this.status === 204 || this.status === 304;
    const transfer = this.headers['transfer-encoding'];
    let next: State;
    if (bodyless) {
      next = State.Done;
    } else if (typeof transfer === 'string') {
      // Chunked only when it is the last coding; any other coding runs to the close.
      const codings = transfer.split(',');
      next = codings[codings.length - 1]?.trim().toLowerCase() === 'chunked' ? State.ChunkSize : State.UntilClose;
    } else if (this.length !== undefined) {
      if (!/^\d{1,15}$/.test(this.length)) {
        throw new HttpParseError('HPE_INVALID_CONTENT_LENGTH', 'Invalid character in Content-Length');
      }
      this.remaining = Number(this.length);
      next = this.remaining === 0 ? State.Done : State.Fixed;
    } else {
      next = State.UntilClose;
    }
    this.state = next;
    this.gotHead = true;
    if (!this.sink.head({ status: this.status, httpVersion: this.version, headers: this.headers })) {
      this.state = State.Done;
      return;
    }
    if (next === State.Done) this.complete();
  }

  private chunkSize(line: string): void {
    const match = CHUNK_SIZE.exec(line);
    if (match === null) throw new HttpParseError('HPE_INVALID_CHUNK_SIZE', 'Invalid character in chunk size');
    this.remaining = Number.parseInt(match[1] as string, 16);
    this.state = this.remaining === 0 ? State.Trailer : State.ChunkData;
  }

  /** The end of a Content-Length body, or of one chunk's data. */
  private finishBody(): void {
    if (this.state === State.Fixed) this.complete();
    else this.state = State.ChunkEnd;
  }

  private complete(): void {
    this.state = State.Done;
    this.partial = undefined;
    this.sink.complete();
  }
}
