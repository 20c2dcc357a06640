import { z } from 'zod';
import { Duration } from '../../src/duration.js';
import { parseHostPort } from '../shared/host-port.js';
import { KEY_TYPE_PATTERN } from './cert.js';

/** Below this many days left, a valid certificate is `tls_cert_expiring` (Let's Encrypt renews at 30). */
export const DEFAULT_MIN_DAYS_LEFT = 14;
/** What the probe offers by ALPN unless told: what a browser offers, so the server picks as for one. */
export const DEFAULT_ALPN_PROTOCOLS = ['h2', 'http/1.1'];

const HostPort = z
  .string()
  .refine((text) => parseHostPort(text) !== undefined, 'must be host:port (IPv6 as [::1]:443)');

/** An ALPN protocol id as registered with IANA (`h2`, `http/1.1`, `acme-tls/1`): 1–255 printable bytes. */
const AlpnId = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be an ALPN protocol id such as h2 or http/1.1');

const KeyType = z
  .string()
  .regex(
    KEY_TYPE_PATTERN,
    'must be rsa, rsaN (e.g. rsa2048), ecdsa, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519 or ed448',
  );

export const TlsExpect = z
  .object({
    /** A handshake (TCP connect excluded) slower than this is `ok: false, error: latency`. Default: no limit. */
    max_handshake: Duration.optional(),
    /** Fewer whole days left on the leaf certificate than this is `tls_cert_expiring`. Default 14. */
    min_days_left: z.number().min(0).default(DEFAULT_MIN_DAYS_LEFT),
    /**
     * Accepted leaf key types: `rsa` (any size), `rsa2048`/`rsa3072`/`rsa4096` (exact size), `ecdsa`
     * (any curve), `ecdsa-p256`/`ecdsa-p384`/`ecdsa-p521`, `ed25519`, `ed448`. Default: any key.
     */
    key_types: z.array(KeyType).min(1).optional(),
    /** The protocol ALPN must settle on (one id or a list of accepted ones). Default: not checked. */
    alpn: z
      .union([AlpnId, z.array(AlpnId).min(1)])
      .transform((value) => (typeof value === 'string' ? [value] : value))
      .optional(),
  })
  .strict();
export type TlsExpect = z.infer<typeof TlsExpect>;

/** The keys of `kind: tls` (the common probe keys, `tls` included, are merged by the config loader). */
export const TlsProbeShape = {
  /** The endpoints to handshake with, `host:port` each; every one is its own event target. */
  targets: z
    .array(HostPort)
    .min(1)
    .superRefine((targets, ctx) => {
      // Results are keyed by target: a repeated one would hide the other's result.
      targets.forEach((target, i) => {
        if (targets.indexOf(target) !== i) {
          ctx.addIssue({ code: 'custom', path: [i], message: `duplicate target "${target}"` });
        }
      });
    }),
  /** Protocols offered by ALPN, in order of preference. Default ["h2", "http/1.1"]. */
  alpn_protocols: z.array(AlpnId).min(1).default(DEFAULT_ALPN_PROTOCOLS),
  /** What a healthy endpoint looks like. Default: a valid certificate with at least 14 days left. */
  // `prefault` parses the default, so the inner defaults (min_days_left) apply to an omitted block.
  expect: TlsExpect.prefault({}),
};

/** A `kind: tls` probe's own keys, validated, with defaults applied. */
export const TlsProbeSpec = z.object(TlsProbeShape).strict();
export type TlsProbeSpec = z.infer<typeof TlsProbeSpec>;
