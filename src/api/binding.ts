import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { ServerSpec } from '../config/schema.js';

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** True when `host` only accepts connections from this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  // BlockList compares addresses, not spellings (0:0:0:0:0:0:0:1, ::ffff:127.0.0.1).
  if (isIPv4(h)) return LOOPBACK.check(h, 'ipv4');
  if (isIPv6(h)) return LOOPBACK.check(h, 'ipv6');
  return false;
}

export type BindingCheck =
  | { readonly ok: true; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Whether the API may listen where the config says. With no `server.tokens`, the only credential
 * is the operator token generated in the data directory: fine for a daemon only this machine can
 * reach, not for one the network reaches (anyone who ever read that file, or a copy of it, operates
 * the daemon from anywhere, and nothing names who). So a non-loopback address needs tokens, or an
 * explicit `allow_unauthenticated_remote: true`. The API speaks plain HTTP, so a non-loopback
 * address also earns a warning: tokens cross the network in clear without a TLS-terminating proxy.
 */
export function checkBinding(server: ServerSpec): BindingCheck {
  const { host, port } = server.listen;
  if (isLoopbackHost(host)) return { ok: true, warnings: [] };
  const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  if (server.tokens.length === 0 && server.allow_unauthenticated_remote !== true) {
    return {
      ok: false,
      reason:
        `server.listen ${shown} is reachable from the network but server.tokens is empty ` +
        '(the only credential would be the generated operator.token file): configure server.tokens, ' +
        'listen on 127.0.0.1, or set server.allow_unauthenticated_remote: true',
    };
  }
  const warnings = [
    `the API on ${shown} speaks plain HTTP: put a TLS-terminating reverse proxy in front of it so tokens do not cross the network in clear`,
  ];
  if (server.tokens.length === 0) {
    warnings.push(
      `server.allow_unauthenticated_remote: the API on ${shown} is reachable from the network with only the generated operator token as credential`,
    );
  }
  return { ok: true, warnings };
}
