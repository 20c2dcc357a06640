import { z } from 'zod';

/** Protocol names accepted by `tls.min_version`, in the order of node:tls. */
export const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

/**
 * The `tls` block shared by every kind that speaks TLS (http, tls, lb_sync, storage s3).
 * `ca_file` is resolved relative to the file that declares it and read by the config loader into `ca`.
 */
export const TlsSpec = z
  .object({
    /** SNI and the name the certificate must match; default: the URL's or target's host. */
    server_name: z.string().min(1).optional(),
    /** PEM bundle of CAs to trust instead of the system store (private CA). */
    ca_file: z.string().min(1).optional(),
    /** Skip certificate verification (the handshake and its timings are still measured). Default false. */
    insecure: z.boolean().default(false),
    /** Oldest protocol accepted; a server offering only older ones fails with `tls_protocol`. Default TLSv1.2. */
    min_version: z.enum(TLS_VERSIONS).default('TLSv1.2'),
    /** Filled by the config loader from `ca_file`; not a config key. */
    ca: z.string().optional(),
  })
  .strict();
export type TlsSpec = z.infer<typeof TlsSpec>;
