import dns, { type LookupAddress, type LookupOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { Failure } from '../shared/net-errors.js';

// Redirects may not lead the probe to link-local or cloud metadata addresses (SSRF: a target that
// answers `302 Location: http://169.254.169.254/...` would otherwise make Tocsin fetch instance
// credentials). Refused unless the probe sets `follow_redirects: { allow_link_local: true }`.

/** Link-local ranges and the metadata addresses outside them (IPv4-mapped IPv6 forms match too). */
const REFUSED = new BlockList();
REFUSED.addSubnet('169.254.0.0', 16, 'ipv4'); // IPv4 link-local; 169.254.169.254 is AWS/GCP/Azure/OCI metadata
REFUSED.addSubnet('fe80::', 10, 'ipv6'); // IPv6 link-local
REFUSED.addAddress('fd00:ec2::254', 'ipv6'); // AWS metadata over IPv6 (Nitro)

/** Host names of metadata services (compared lower-case, without a trailing dot). */
const METADATA_NAMES: ReadonlySet<string> = new Set(['metadata.google.internal']);

/** Is this IP literal (v4 or v6, brackets removed) link-local or a metadata address? */
export function isRefusedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return REFUSED.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Why a redirect to `url` is refused before any DNS or connection, judging the URL alone (an IP
 * literal or a known metadata name), or undefined when the URL itself is not refused.
 */
export function refusedByUrl(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (isRefusedAddress(host)) return `${host} is a link-local or metadata address`;
  if (METADATA_NAMES.has(host)) return `${host} is a metadata service name`;
  return undefined;
}

/**
 * Does the link-local guard apply to a redirect hop to `url`? Not when the probe allows it, nor
 * when the hop goes back to the probe's own origin (the operator chose that host).
 */
export function guardsRedirect(url: URL, homeOrigin: string, allowLinkLocal: boolean): boolean {
  return !allowLinkLocal && url.origin !== homeOrigin;
}

/** The `redirect_refused` failure for a redirect to `url`. */
export function redirectRefused(url: URL, reason: string): Failure {
  return {
    error: 'redirect_refused',
    detail: `redirect to ${url.href} refused: ${reason} (follow_redirects.allow_link_local allows it)`,
  };
}

/** Raised by `guardedLookup` when a name resolves to a refused address: no connection is made. */
export class RefusedAddressError extends Error {
  constructor(
    readonly hostname: string,
    readonly address: string,
  ) {
    super(`${hostname} resolves to link-local or metadata address ${address}`);
    this.name = 'RefusedAddressError';
  }
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family: number,
) => void;
type BaseLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

const dnsLookup: BaseLookup = (hostname, options, callback) => dns.lookup(hostname, options, callback);

/**
 * A `lookup` for node:net that resolves like the default one (dns.lookup, as the probe connects)
 * and fails with `RefusedAddressError` when any address of the answer is refused, so that the
 * check is made on the very address the socket would connect to (no second, racy resolution).
 * Both call shapes are served: one address, or `all: true` (Happy Eyeballs).
 */
export function guardedLookup(base: BaseLookup = dnsLookup): LookupFunction {
  const lookup = (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    base(hostname, options, (err, address, family) => {
      if (err) {
        callback(err, address, family);
        return;
      }
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const refused = addresses.find(isRefusedAddress);
      if (refused !== undefined) {
        callback(new RefusedAddressError(hostname, refused), Array.isArray(address) ? [] : '', family);
        return;
      }
      callback(null, address, family);
    });
  };
  return lookup as unknown as LookupFunction;
}
