import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback HTTP target a test can stop and restart on the same port (a service going down and
 * coming back). It answers `200 ok`, or never answers `/slow` while `hang` is set.
 */
export class Target {
  server: Server | undefined;
  port = 0;
  hang = false;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (this.hang && req.url === '/slow') return; // never answers: the check runs into its deadline
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
