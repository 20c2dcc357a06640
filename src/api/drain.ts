import type { FastifyInstance } from 'fastify';

/** How long answers in progress get once the API closes, before every connection left is cut. */
export const API_DRAIN_MS = 2000;

/**
 * Makes `app.close()` end within `drainMs`, whatever its clients do. Node's server.close() closes
 * only the connections idle at that moment: one that is serving a request then stays open after
 * its answer for the keep-alive timeout (72 s with Fastify's default), one whose request has not
 * fully arrived waits for the headers timeout, and one whose client stopped reading a large answer
 * (an unread /metrics) stays until the client goes. The daemon's stop waited for all of them.
 *
 * So, once closing: an answer whose headers are still to be sent says `Connection: close` (Node
 * then closes the socket after it); a connection whose answer had started (a /metrics exposition
 * streams) is closed as soon as that answer has ended; past `drainMs` the connections left are
 * cut. Requests arriving meanwhile get Fastify's 503 (`return503OnClosing`).
 */
export function drainOnClose(app: FastifyInstance, drainMs = API_DRAIN_MS): void {
  let closing = false;
  let cut: NodeJS.Timeout | undefined;
  app.addHook('preClose', (done) => {
    closing = true;
    cut = setTimeout(() => app.server.closeAllConnections(), drainMs);
    // Never what keeps a stopped process alive.
    cut.unref();
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (_request, _reply, done) => {
    // Ended: the connection is idle now (the answer was written out), so this closes it.
    if (closing) app.server.closeIdleConnections();
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    clearTimeout(cut);
    done();
  });
}
