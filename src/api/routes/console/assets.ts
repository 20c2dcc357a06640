import type { FastifyInstance } from 'fastify';
import { CONSOLE_CSS, CONSOLE_ICON_SVG } from '../../../console/assets.js';
import { CONSOLE_PATHS } from '../../../console/render.js';

/** The console's stylesheet, script and icon; no session needed (the sign-in page uses them). */
export function assetRoutes(scope: FastifyInstance, clientScript: string): void {
  scope.get(CONSOLE_PATHS.css, async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(CONSOLE_CSS),
  );
  scope.get(CONSOLE_PATHS.script, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(clientScript),
  );
  scope.get(CONSOLE_PATHS.icon, async (_req, reply) =>
    reply.type('image/svg+xml').header('cache-control', 'max-age=86400').header('x-content-type-options', 'nosniff').send(CONSOLE_ICON_SVG),
  );
}
