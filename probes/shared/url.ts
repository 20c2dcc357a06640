import { z } from 'zod';

/** An `http://` or `https://` URL, as a config string (kept a string: probes build `URL`s per check). */
export const HttpUrl = z.string().superRefine((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: 'custom', message: `invalid URL "${text}"` });
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: `must be an http:// or https:// URL, got "${url.protocol}"` });
  }
});
