import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Form bodies: a note of MAX_TEXT_CHARS characters, URL-encoded (up to 9 bytes each), fits. */
export const FORM_BODY_LIMIT_BYTES = 64 * 1024;

type Form = Record<string, string>;

/** Browsers post forms URL-encoded; nothing else reaches the console's bodies. A repeated field: its first value. */
export function acceptForms(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES },
    (_req, body, done) => {
      const form: Form = {};
      for (const [k, v] of new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))) {
        if (!(k in form)) form[k] = v;
      }
      done(null, form);
    },
  );
}

/** A field of the posted form, as sent. */
export function field(req: FastifyRequest, name: string): string | undefined {
  const body = req.body as Record<string, unknown> | undefined;
  const v = body?.[name];
  return typeof v === 'string' ? v : undefined;
}

/** A field left blank is a field not given (an optional note, no phase), as the API reads a missing key. */
export function given(req: FastifyRequest, name: string): string | undefined {
  const v = field(req, name);
  return v?.trim() ? v : undefined;
}
