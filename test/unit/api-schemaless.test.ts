import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { SCHEMALESS } from '../../src/api/server.js';

describe('the API server without route schema compilers', () => {
  it('serves routes without schemas', async () => {
    const app = Fastify({ schemaController: SCHEMALESS });
    app.post('/x', async (req) => ({ got: req.body }));
    const res = await app.inject({ method: 'POST', url: '/x', payload: { a: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ got: { a: 1 } });
    await app.close();
  });

  it('refuses, at start-up, a route declared with a JSON schema', async () => {
    const app = Fastify({ schemaController: SCHEMALESS });
    app.post('/y', { schema: { body: { type: 'object' } } }, async () => 'ok');
    await expect(app.ready()).rejects.toThrow(/route \/y declares a JSON schema/);
    // After a failed start-up, close may reject with that same error: anything else is a failure.
    await app.close().catch((err: unknown) => expect(String(err)).toMatch(/declares a JSON schema/));
  });
});
