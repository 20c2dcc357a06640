import type { FastifyReply } from 'fastify';
import { renderErrorPage } from '../../../console/render.js';

/**
 * The console's pages have no inline script or style, load nothing from elsewhere, post forms only
 * to the console and cannot be framed (clickjacking on the confirm button).
 */
const CSP = [
  'default-src \'none\'',
  'script-src \'self\'',
  'style-src \'self\'',
  'img-src \'self\'',
  'connect-src \'self\'',
  'form-action \'self\'',
  'base-uri \'none\'',
  'frame-ancestors \'none\'',
].join('; ');

/** A console page, with the headers every page carries. */
export function html(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .status(status)
    .type('text/html; charset=utf-8')
    // Operator data: never kept by a shared cache or the browser's back-forward cache.
    .header('cache-control', 'no-store')
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .send(body);
}

/** After a form post or to the sign-in form: a 303 the browser follows with a GET. */
export function redirect(reply: FastifyReply, to: string): FastifyReply {
  return reply.status(303).header('cache-control', 'no-store').header('location', to).send();
}

/** A post that failed its CSRF check or came from the wrong form. */
export function refuse(reply: FastifyReply, reason: string): FastifyReply {
  return html(reply, 403, renderErrorPage('Refused', `${reason}. Reload the console and try again.`));
}
