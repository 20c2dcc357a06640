import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from 'vitest';
import {
  guardedLookup,
  guardsRedirect,
  isRefusedAddress,
  RefusedAddressError,
  redirectRefused,
  refusedByUrl,
} from '../../probes/http/redirect-guard.js';
import { HttpProbeSpec, redirectPolicy } from '../../probes/http/spec.js';

describe('isRefusedAddress', () => {
  it('refuses IPv4 and IPv6 link-local and the metadata addresses', () => {
    for (const address of [
      '169.254.169.254',
      '169.254.0.1',
      '169.254.255.255',
      'fe80::1',
      'febf:ffff::1',
      'fd00:ec2::254',
      '::ffff:169.254.169.254',
      '::ffff:a9fe:a9fe',
    ]) {
      expect(isRefusedAddress(address), address).toBe(true);
    }
  });

  it('lets everything else through, names included (they are judged once resolved)', () => {
    for (const address of [
      '127.0.0.1',
      '10.0.0.3',
      '169.253.255.255',
      '169.255.0.1',
      '::1',
      'fec0::1',
      'fd00:ec2::253',
      'example.com',
    ]) {
      expect(isRefusedAddress(address), address).toBe(false);
    }
  });
});

describe('refusedByUrl', () => {
  it('refuses literal addresses in any notation and the metadata names', () => {
    for (const href of [
      'http://169.254.169.254/latest/meta-data/',
      'http://2852039166/',
      'http://0xa9.0xfe.0xa9.0xfe/',
      'http://169.254.169.254./',
      'https://[::ffff:169.254.169.254]:8443/',
      'http://[fe80::1]/',
      'http://[FD00:EC2::254]/latest/',
      'http://metadata.google.internal/computeMetadata/v1/',
      'http://METADATA.Google.Internal./',
    ]) {
      expect(refusedByUrl(new URL(href)), href).toBeDefined();
    }
  });

  it('does not refuse other hosts', () => {
    for (const href of ['http://127.0.0.2/', 'https://example.com/', 'http://metadata.example.com/', 'http://[::1]/']) {
      expect(refusedByUrl(new URL(href)), href).toBeUndefined();
    }
  });

  it('names the refused location in the failure', () => {
    const url = new URL('http://169.254.169.254/latest/meta-data/');
    expect(redirectRefused(url, refusedByUrl(url) ?? '')).toEqual({
      error: 'redirect_refused',
      detail:
        'redirect to http://169.254.169.254/latest/meta-data/ refused: 169.254.169.254 is a link-local or metadata address (follow_redirects.allow_link_local allows it)',
    });
  });
});

describe('guardsRedirect', () => {
  const metadata = new URL('http://169.254.169.254/latest/meta-data/');
  it('guards redirects away from the probe origin by default', () => {
    expect(guardsRedirect(metadata, 'https://app.example.com', false)).toBe(true);
  });
  it('lets them through when the probe allows link-local addresses', () => {
    expect(guardsRedirect(metadata, 'https://app.example.com', true)).toBe(false);
  });
  it('never guards a redirect back to the origin the operator configured', () => {
    expect(guardsRedirect(new URL('http://169.254.169.254/other'), 'http://169.254.169.254', false)).toBe(false);
  });
});

type Answer = { address: string | LookupAddress[]; family: number };

/** A resolver answering from a table, with the dns.lookup calling convention. */
function table(answers: Record<string, Answer>) {
  return (
    hostname: string,
    _options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family: number) => void,
  ): void => {
    const answer = answers[hostname];
    if (answer) callback(null, answer.address, answer.family);
    else callback(Object.assign(new Error('not found'), { code: 'ENOTFOUND' }), '', 0);
  };
}

function resolve(
  lookup: ReturnType<typeof guardedLookup>,
  hostname: string,
  options: LookupOptions,
): Promise<{ err: NodeJS.ErrnoException | null; address: unknown }> {
  type Callback = (err: NodeJS.ErrnoException | null, address: unknown) => void;
  const call = lookup as unknown as (hostname: string, options: LookupOptions, callback: Callback) => void;
  return new Promise((done) => call(hostname, options, (err, address) => done({ err, address })));
}

describe('guardedLookup', () => {
  const lookup = guardedLookup(
    table({
      'rebind.test': { address: '169.254.169.254', family: 4 },
      'fine.test': { address: '192.0.2.1', family: 4 },
      'mixed.test': {
        address: [
          { address: '192.0.2.1', family: 4 },
          { address: 'fe80::1', family: 6 },
        ],
        family: 0,
      },
    }),
  );

  it('fails a name resolving to a refused address, single or all answers', async () => {
    const single = await resolve(lookup, 'rebind.test', {});
    expect(single.err).toBeInstanceOf(RefusedAddressError);
    expect(single.err?.message).toBe('rebind.test resolves to link-local or metadata address 169.254.169.254');
    const all = await resolve(lookup, 'mixed.test', { all: true });
    expect(all.err).toBeInstanceOf(RefusedAddressError);
  });

  it('passes other answers and resolver errors through unchanged', async () => {
    expect(await resolve(lookup, 'fine.test', {})).toEqual({ err: null, address: '192.0.2.1' });
    const missing = await resolve(lookup, 'missing.test', {});
    expect(missing.err?.code).toBe('ENOTFOUND');
  });

  it('resolves with the system resolver by default', async () => {
    const real = await resolve(guardedLookup(), 'localhost', { all: true });
    expect(real.err).toBeNull();
    expect(Array.isArray(real.address)).toBe(true);
  });
});

describe('follow_redirects', () => {
  it('accepts a boolean or an object of options', () => {
    const parse = (value: unknown) =>
      redirectPolicy(HttpProbeSpec.parse({ url: 'http://x.test/', follow_redirects: value }).follow_redirects);
    expect(redirectPolicy(HttpProbeSpec.parse({ url: 'http://x.test/' }).follow_redirects)).toEqual({
      follow: true,
      allowLinkLocal: false,
    });
    expect(parse(true)).toEqual({ follow: true, allowLinkLocal: false });
    expect(parse(false)).toEqual({ follow: false, allowLinkLocal: false });
    expect(parse({})).toEqual({ follow: true, allowLinkLocal: false });
    expect(parse({ allow_link_local: true })).toEqual({ follow: true, allowLinkLocal: true });
  });

  it('rejects unknown option keys', () => {
    expect(() =>
      HttpProbeSpec.parse({ url: 'http://x.test/', follow_redirects: { allow_linklocal: true } }),
    ).toThrow();
  });
});
