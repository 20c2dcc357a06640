import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { drainOnClose } from '../../src/api/drain.js';
import { loadConfig } from '../../src/config/load.js';
import { startDaemon } from '../../src/daemon.js';
import { waitFor } from '../helpers/cli.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// Closing the API never waits on its clients: Node's server.close() closes only the connections
// idle at that moment, and the others kept the daemon's stop waiting (for the keep-alive timeout,
// 72 s, after an answer streaming at close; for the headers timeout behind half a request; for as
// long as a client leaves a large answer unread). Each case below would hang past its bound
// without the drain.

/** A raw HTTP/1.1 client connection: what it received, and whether the server closed it. */
class RawClient {
  readonly socket: net.Socket;
  received = '';
  closed = false;

  constructor(port: number) {
    this.socket = net.connect({ host: '127.0.0.1', port });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (text: string) => {
      this.received += text;
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }
}

const GET = (path: string) => `GET ${path} HTTP/1.1\r\nHost: tocsin.test\r\n\r\n`;

/** 'closed' when `closing` settles first, 'waiting' if it is still pending after `ms`. */
async function settlesWithin(closing: Promise<unknown>, ms: number): Promise<'closed' | 'waiting'> {
  let timer: NodeJS.Timeout | undefined;
  const waiting = new Promise<'waiting'>((resolve) => {
    timer = setTimeout(() => resolve('waiting'), ms);
  });
  const outcome = await Promise.race([closing.then(() => 'closed' as const), waiting]);
  clearTimeout(timer);
  return outcome;
}

describe('closing the API (drainOnClose)', () => {
  const clients: RawClient[] = [];
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    for (const c of clients.splice(0)) c.socket.destroy();
    app?.server.closeAllConnections();
    await app?.close();
    app = undefined;
  });

  /** A Fastify app as the daemon's (503 while closing, default keep-alive timeout), listening. */
  async function listening(drainMs: number, routes: (app: FastifyInstance) => void): Promise<number> {
    const a = Fastify({ return503OnClosing: true });
    app = a;
    drainOnClose(a, drainMs);
    routes(a);
    await a.listen({ host: '127.0.0.1', port: 0 });
    return (a.server.address() as net.AddressInfo).port;
  }

  const client = (port: number): RawClient => {
    const c = new RawClient(port);
    clients.push(c);
    return c;
  };

  it('an answer streaming when the API closes ends, then its connection closes: close() does not wait for the keep-alive timeout', async () => {
    let body: PassThrough | undefined;
    const port = await listening(60_000, (a) =>
      a.get('/stream', (_req, reply) => {
        body = new PassThrough();
        body.write('first\n');
        return reply.type('text/plain').send(body);
      }),
    );
    const c = client(port);
    c.send(GET('/stream'));
    await waitFor(() => (c.received.includes('first') ? true : undefined), 10_000, 20);
    // Its headers went out before the close: kept alive, as they said.
    expect(c.received.toLowerCase()).toContain('connection: keep-alive');

    const closing = app?.close() ?? Promise.resolve();
    body?.end('last\n');
    expect(await settlesWithin(closing, 15_000)).toBe('closed');
    await waitFor(() => (c.closed ? true : undefined), 5_000, 20);
    expect(c.received).toContain('last');
  });

  it('an answer not begun when the API closes says Connection: close, and its connection closes after it', async () => {
    let release: (() => void) | undefined;
    let arrived = false;
    let preClosed = false;
    const port = await listening(60_000, (a) => {
      a.addHook('preClose', (done) => {
        preClosed = true;
        done();
      });
      a.get('/slow', async () => {
        arrived = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return 'done';
      });
    });
    const c = client(port);
    c.send(GET('/slow'));
    await waitFor(() => (arrived ? true : undefined), 10_000, 20);

    const closing = app?.close() ?? Promise.resolve();
    // Fastify runs the close hooks a few ticks later: answer once the API is closing.
    await waitFor(() => (preClosed ? true : undefined), 10_000, 20);
    release?.();
    expect(await settlesWithin(closing, 15_000)).toBe('closed');
    await waitFor(() => (c.closed ? true : undefined), 5_000, 20);
    expect(c.received).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.received.toLowerCase()).toContain('connection: close');
    expect(c.received).toContain('done');
  });

  it('half a request, or an answer left unread, is cut after the drain time', async () => {
    const big = 'x'.repeat(64 * 1024);
    let started = false;
    const port = await listening(300, (a) =>
      a.get('/big', (_req, reply) => {
        started = true;
        // An endless answer to a client that never reads: it never finishes on its own.
        const body = new PassThrough();
        const fill = (): void => {
          while (body.write(big));
          body.once('drain', fill);
        };
        fill();
        return reply.send(body);
      }),
    );
    const half = client(port);
    half.send('GET /never HTTP/1.1\r\nHost: tocsin.test\r\n');
    const unread = client(port);
    unread.socket.pause();
    unread.send(GET('/big'));
    await waitFor(() => (started ? true : undefined), 10_000, 20);
    await waitFor(async () => {
      const n = await new Promise<number>((resolve, reject) =>
        app?.server.getConnections((err, count) => (err ? reject(err) : resolve(count))),
      );
      return n === 2 ? true : undefined;
    }, 10_000, 20);

    expect(await settlesWithin(app?.close() ?? Promise.resolve(), 15_000)).toBe('closed');
    await waitFor(() => (half.closed ? true : undefined), 5_000, 20);
    // The paused client learns of the close once it reads again.
    unread.socket.resume();
    await waitFor(() => (unread.closed ? true : undefined), 5_000, 20);
  });
});

describe('daemon stop with clients holding connections', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-api-close-'));
  let target: TestServer | undefined;
  afterAll(async () => {
    await target?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns though one client sent half a request and another is between requests on a kept-alive connection', async () => {
    target = await startHttpServer((_req, res) => res.writeHead(200).end('ok\n'));
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'tocsin.db')} }
components:
  - { id: web, name: Web, group: Apps }
probes:
  - { id: web-home, kind: http, component: web, url: "${target.url}/", interval: 300ms, timeout: 200ms }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const daemon = await startDaemon({ plan: loaded.plan, logger: pino({ level: 'silent' }), env: {} });
    const port = Number(new URL(daemon.url).port);

    const kept = new RawClient(port);
    const half = new RawClient(port);
    await waitFor(() => (half.socket.readyState === 'open' ? true : undefined), 10_000, 20);
    half.send('GET /healthz HTTP/1.1\r\nHost: tocsin.test\r\n');
    // Sent after the half request: once it is answered, the daemon has read the half one too.
    kept.send(GET('/metrics'));
    await waitFor(() => (kept.received.includes('tocsin_') && kept.received.endsWith('0\r\n\r\n') ? true : undefined), 10_000, 20);

    try {
      // Without the drain, the half request holds the stop for Node's headers timeout (60 s).
      expect(await settlesWithin(daemon.stop(0), 20_000)).toBe('closed');
      await waitFor(() => (kept.closed && half.closed ? true : undefined), 5_000, 20);
    } finally {
      kept.socket.destroy();
      half.socket.destroy();
    }
  });
});
