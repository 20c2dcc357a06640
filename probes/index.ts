import { httpProbe } from './http.js';
import type { ProbeKind } from './probe.js';

/** Every probe kind Tocsin knows, by its `kind:` name. Adding a kind: see CONTRACT and CONTRIBUTING.md. */
export const PROBE_KINDS: Readonly<Record<string, ProbeKind>> = Object.freeze({
  [httpProbe.kind]: httpProbe as ProbeKind,
});
