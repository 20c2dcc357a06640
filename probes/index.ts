import { httpProbe } from './http.js';
import { lbSyncProbe } from './lb-sync.js';
import type { ProbeKind } from './probe.js';
import { storageProbe } from './storage.js';
import { tlsProbe } from './tls.js';

/** Every probe kind Tocsin knows, by its `kind:` name. Adding a kind: see CONTRACT and CONTRIBUTING.md. */
export const PROBE_KINDS: Readonly<Record<string, ProbeKind>> = Object.freeze({
  [httpProbe.kind]: httpProbe as ProbeKind,
  [tlsProbe.kind]: tlsProbe as ProbeKind,
  [lbSyncProbe.kind]: lbSyncProbe as ProbeKind,
  [storageProbe.kind]: storageProbe as ProbeKind,
});
