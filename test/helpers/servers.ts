import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

// Loopback servers for probe tests: well-behaved ones and hostile ones. Every server listens on
// 127.0.0.1 with a port picked by the kernel, and close() destroys its open connections first, so
// that an afterAll never waits on a client a test left hanging.

export const LOOPBACK = '127.0.0.1';

export interface TestServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** `http://` or `https://` base URL, no trailing slash (`tcp://` for raw TCP servers). */
  readonly url: string;
  /** Connections currently open on the server side. */
  openConnections(): number;
  /** Connections accepted since the start. */
  acceptedConnections(): number;
  /** Destroys every connection and stops listening. Idempotent. */
  close(): Promise<void>;
}

async function listen(server: net.Server, scheme: string): Promise<TestServer> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on('connection', (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    // Clients of hostile servers vanish mid-write; that is the point, not an error.
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  let closing: Promise<void> | undefined;
  return {
    host: LOOPBACK,
    port: addr.port,
    address: `${LOOPBACK}:${addr.port}`,
    url: `${scheme}://${LOOPBACK}:${addr.port}`,
    openConnections: () => sockets.size,
    acceptedConnections: () => accepted,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}

/** An HTTP/1.1 server; `handler` is a plain node:http request listener. */
export function startHttpServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer({ keepAliveTimeout: 1000 }, handler);
  server.on('clientError', (_err, socket) => socket.destroy());
  return listen(server, 'http');
}

/** An HTTPS server with the given certificate (and any node:tls server options, e.g. maxVersion). */
export function startHttpsServer(
  handler: http.RequestListener,
  options: https.ServerOptions,
): Promise<TestServer> {
  const server = https.createServer(options, handler);
  server.on('clientError', (_err, socket) => socket.destroy());
  server.on('tlsClientError', () => undefined);
  return listen(server, 'https');
}

/** A raw TLS server: `onSocket` gets each established TLS connection. */
export function startTlsServer(
  options: tls.TlsOptions,
  onSocket: (socket: tls.TLSSocket) => void,
): Promise<TestServer> {
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => undefined);
    onSocket(socket);
  });
  server.on('tlsClientError', () => undefined);
  return listen(server, 'tls');
}

/** A raw TCP server: `onSocket` gets each accepted connection. */
export function startTcpServer(onSocket: (socket: net.Socket) => void): Promise<TestServer> {
  return listen(net.createServer(onSocket), 'tcp');
}

/** A loopback port with nothing listening (bound, then released): connecting is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

/** Servers that misbehave in the ways real targets do. */
export const hostile = {
  /**
   * Accepts TCP connections and never sends a byte (nor closes). It reads and discards what comes,
   * so that it notices when the client goes away (an unread socket never sees the FIN).
   */
  silentTcp: (): Promise<TestServer> => startTcpServer((socket) => socket.resume()),

  /** A real HTTP server that reads the request and never answers. */
  neverAnswers: (): Promise<TestServer> => startHttpServer(() => undefined),

  /** Answers 200 with a 1000-byte Content-Length, then sends one byte every `intervalMs`. */
  trickle: (intervalMs = 200): Promise<TestServer> =>
    startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.flushHeaders();
      const timer = setInterval(() => res.write('x'), intervalMs);
      res.once('close', () => clearInterval(timer));
    }),

  /** Answers 200 and streams an endless body (no Content-Length), as fast as the client reads. */
  endlessBody: (): Promise<TestServer> =>
    startHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'a');
      const pump = (): void => {
        while (!res.destroyed && !res.writableEnded && res.write(chunk)) {
          // keep writing until the socket pushes back
        }
      };
      res.on('drain', pump);
      res.on('error', () => undefined);
      pump();
    }),

  /** Reads the first bytes (the request, or a TLS ClientHello), then resets the connection (RST, not FIN). */
  reset: (): Promise<TestServer> =>
    startTcpServer((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    }),

  /** Answers something that is not HTTP. */
  malformedHttp: (): Promise<TestServer> =>
    startTcpServer((socket) => {
      socket.once('data', () => socket.end('SSH-2.0-OpenSSH_9.2 not http at all\r\n\r\n'));
    }),

  /** Answers a status line and headers, then closes before the promised Content-Length. */
  truncatedBody: (): Promise<TestServer> =>
    startTcpServer((socket) => {
      socket.once('data', () =>
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\ncontent-type: text/plain\r\n\r\nonly ten b'),
      );
    }),
};

/**
 * A TCP proxy to `upstream` that holds every chunk, both ways, for `delayMs` before passing it on:
 * a real service behind a slow (long-distance, congested) link. Order is kept; closing either side
 * closes the other.
 */
export function startSlowProxy(
  upstream: { readonly host: string; readonly port: number },
  delayMs: number,
): Promise<TestServer> {
  return startTcpServer((client) => {
    const server = net.connect({ host: upstream.host, port: upstream.port });
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void): void => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, delayMs);
      timers.add(timer);
    };
    // Data and the end of a stream are delayed alike, so a peer that answers then closes is seen
    // answering, then closing, `delayMs` later.
    const relay = (from: net.Socket, to: net.Socket): void => {
      from.on('data', (chunk: Buffer) => later(() => !to.destroyed && to.write(chunk)));
      from.once('end', () => later(() => to.end()));
      from.once('close', () => later(() => to.destroy()));
    };
    const abort = (): void => {
      for (const timer of timers) clearTimeout(timer);
      client.destroy();
      server.destroy();
    };
    server.on('error', abort);
    client.on('error', abort);
    relay(client, server);
    relay(server, client);
  });
}

/** An `openssl s_server` child process: a TLS peer that is not Node's (old protocols, OpenSSL's own choices). */
export interface OpensslServer {
  readonly host: string;
  readonly port: number;
  /** `host:port`. */
  readonly address: string;
  /** What the server wrote on stderr so far (for failure messages). */
  stderr(): string;
  /** Kills the process and waits for it. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts `openssl s_server -accept 127.0.0.1:PORT -cert F -key F ...args` and resolves once it prints
 * ACCEPT. It serves one connection at a time, which is all a probe test needs. `args` example:
 * `['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']` for a server that only speaks TLS 1.1.
 */
export async function startOpensslServer(
  pair: { readonly certFile: string; readonly keyFile: string },
  args: readonly string[] = [],
): Promise<OpensslServer> {
  // The port is picked free, then bound by openssl: another process may take it in between, so retry.
  for (let attempt = 1; ; attempt++) {
    const port = await closedPort();
    const child = spawn(
      'openssl',
      ['s_server', '-accept', `${LOOPBACK}:${port}`, '-cert', pair.certFile, '-key', pair.keyFile, ...args],
      // stdin stays open: s_server closes its connection when its stdin reaches EOF.
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      const onData = (): void => {
        if (stdout.includes('ACCEPT')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout.on('data', onData);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve(false);
      });
      child.once('error', () => resolve(false));
    });
    if (!ready) {
      child.kill('SIGKILL');
      await exited;
      if (attempt < 3 && /in use/i.test(stderr)) continue;
      throw new Error(`openssl s_server did not start: ${stderr.trim() || stdout.trim()}`);
    }
    let closing: Promise<void> | undefined;
    return {
      host: LOOPBACK,
      port,
      address: `${LOOPBACK}:${port}`,
      stderr: () => stderr,
      close() {
        closing ??= (async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
        })();
        return closing;
      },
    };
  }
}
