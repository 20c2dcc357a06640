import net from 'node:net';

/**
 * Loopback ports below 1024 that nothing on a test machine listens on. A port picked by binding to
 * port 0 and closing it again is back in the ephemeral range the next instant, where another test's
 * server (started on port 0 in parallel) can take it: a check meant to be refused then reaches that
 * server (seen in CI). Ports are only ever handed out from the ephemeral range (32768 and up here),
 * so these stay free; each is still tried before it is used.
 */
const CANDIDATES = [1, 3, 5, 7, 9, 11, 13, 17, 19, 23];

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** A loopback port (on 127.0.0.1) whose connections are refused, for as long as the test runs. */
export async function refusedPort(): Promise<number> {
  for (const port of CANDIDATES) if (await refuses(port)) return port;
  throw new Error(`every candidate port refused nothing: ${CANDIDATES.join(', ')} all answer on 127.0.0.1`);
}
