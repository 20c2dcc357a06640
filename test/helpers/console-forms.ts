import type { LightMyRequestResponse } from 'fastify';

// Reading the console's answers in tests that drive it over fastify.inject: its cookies and the
// hidden fields of its forms (the CSRF token).

/** Every Set-Cookie header of an answer. */
export function cookies(res: LightMyRequestResponse): string[] {
  const h = res.headers['set-cookie'];
  return h === undefined ? [] : Array.isArray(h) ? h : [h];
}

/** The value of one cookie an answer sets, if it sets it. */
export function cookieValue(res: LightMyRequestResponse, name: string): string | undefined {
  const c = cookies(res).find((x) => x.startsWith(`${name}=`));
  return c?.slice(name.length + 1).split(';')[0];
}

/** The value of a page's hidden field (the form's CSRF token). */
export function hidden(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]+)"`).exec(html);
  if (!m?.[1]) throw new Error(`no hidden field ${name}`);
  return m[1];
}
