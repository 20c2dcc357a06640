import type { FastifyInstance } from 'fastify';
import { openApiDocument } from '../openapi.js';

/** `GET /api/v1/openapi.json`: the OpenAPI 3.1 document of this API (no auth: it holds no data). */
export function openApiRoutes(app: FastifyInstance): void {
  app.get('/api/v1/openapi.json', async () => openApiDocument());
}
