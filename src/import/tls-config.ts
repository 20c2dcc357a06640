import { dirname, isAbsolute, resolve } from 'node:path';
import { isRecord } from '../json.js';
import type { BlackboxModule } from './blackbox-modules.js';
import type { Report } from './problems.js';
import { scalarText, yamlBool } from './yaml-file.js';

/** Go's `min_version` words → Tocsin's `tls.min_version`. */
const MIN_VERSIONS: Readonly<Record<string, string>> = {
  TLS10: 'TLSv1',
  TLS11: 'TLSv1.1',
  TLS12: 'TLSv1.2',
  TLS13: 'TLSv1.3',
};

/**
 * A module's `tls_config` (at `path` inside the module) as Tocsin's `tls` block: only the keys
 * that differ from Tocsin's defaults. Client certificates and a maximum version have no Tocsin
 * key; they are reported and left out.
 */
export function mapTlsConfig(
  m: BlackboxModule,
  path: readonly string[],
  raw: unknown,
  report: Report,
): Record<string, unknown> {
  const tls: Record<string, unknown> = {};
  if (raw === undefined || raw === null) return tls;
  const shown = `module ${m.name}: ${path.join('.')}`;
  if (!isRecord(raw)) {
    report(m.at(...path), `${shown}: expected a mapping`);
    return tls;
  }
  for (const [key, value] of Object.entries(raw)) {
    const where = m.at(...path, key);
    switch (key) {
      case 'insecure_skip_verify': {
        const insecure = yamlBool(value);
        if (insecure === undefined) report(where, `${shown}.${key}: expected true or false`);
        else if (insecure) tls.insecure = true;
        break;
      }
      case 'server_name': {
        const name = scalarText(value);
        if (name) tls.server_name = name;
        break;
      }
      case 'ca_file': {
        const file = scalarText(value);
        if (!file) break;
        if (isAbsolute(file)) {
          tls.ca_file = file;
        } else {
          // The exporter opens it from its own working directory, which the import cannot know.
          tls.ca_file = resolve(dirname(m.src.file), file);
          report(
            where,
            `${shown}.ca_file: relative path "${file}" (the exporter reads it from its working directory), taken as ${tls.ca_file as string}: check it`,
          );
        }
        break;
      }
      case 'min_version': {
        const version = MIN_VERSIONS[scalarText(value) ?? ''];
        if (version === undefined) report(where, `${shown}.min_version: unknown version "${String(value)}", not mapped`);
        else if (version !== 'TLSv1.2') tls.min_version = version;
        break;
      }
      case 'cert_file':
      case 'key_file':
      case 'cert':
      case 'key':
      case 'cert_ref':
      case 'key_ref':
        report(where, `${shown}.${key}: not mapped: Tocsin probes present no client certificate`);
        break;
      case 'ca':
      case 'ca_ref':
        report(where, `${shown}.${key}: not mapped: give the CA bundle as a file (tls.ca_file)`);
        break;
      case 'max_version':
        report(where, `${shown}.max_version: not mapped: Tocsin sets only the oldest accepted version (tls.min_version)`);
        break;
      default:
        report(where, `${shown}.${key}: unknown option, not mapped`);
    }
  }
  return tls;
}
