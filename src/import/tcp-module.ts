import { isIP } from 'node:net';
import { parseHostPort } from '../../probes/shared/host-port.js';
import { isRecord } from '../json.js';
import type { BlackboxModule } from './blackbox-modules.js';
import { NO_FALLBACK } from './http-module.js';
import type { ModuleMapping, TargetInfo } from './module-mapping.js';
import type { Report } from './problems.js';
import { mapTlsConfig } from './tls-config.js';
import { scalarText, yamlBool } from './yaml-file.js';

// A Blackbox `prober: tcp` module: with `tls: true`, a Tocsin `kind: tls` probe (connect and
// handshake); without, the storage kind's TCP connect (`kind: storage, backend: tcp`).

export function mapTcpModule(m: BlackboxModule, timeoutMs: number | undefined, report: Report): ModuleMapping {
  const tcp: Record<string, unknown> = isRecord(m.raw.tcp) ? m.raw.tcp : {};
  if (m.raw.tcp !== undefined && m.raw.tcp !== null && !isRecord(m.raw.tcp)) {
    report(m.at('tcp'), `module ${m.name}: tcp: expected a mapping`);
  }
  const say = (key: string, reason: string): void => report(m.at('tcp', key), `module ${m.name}: tcp.${key}: ${reason}`);

  let useTls = false;
  let fallback = true;
  let tlsConfig: unknown;
  let queryResponse: unknown[] | undefined;
  for (const [key, value] of Object.entries(tcp)) {
    switch (key) {
      case 'tls': {
        const b = yamlBool(value);
        if (b === undefined) say(key, 'expected true or false, not mapped');
        useTls = b ?? false;
        break;
      }
      case 'tls_config':
        tlsConfig = value;
        break;
      case 'preferred_ip_protocol':
        if (!['ip4', 'ip6'].includes(scalarText(value) ?? '')) say(key, `unknown protocol "${String(value)}"`);
        break;
      case 'ip_protocol_fallback':
        fallback = yamlBool(value) ?? true;
        break;
      case 'source_ip_address':
        say(key, 'not mapped: a probe has no source address of its own (a fleet worker has one: docs/fleet.md)');
        break;
      case 'query_response':
        if (Array.isArray(value) && value.length > 0) queryResponse = value;
        break;
      default:
        say(key, 'unknown option, not mapped');
    }
  }
  if (queryResponse) {
    const starttls = queryResponse.some((step: unknown) => isRecord(step) && yamlBool(step.starttls) === true);
    const checked = useTls ? 'the TCP connect and the TLS handshake are' : 'the TCP connect is';
    say(
      'query_response',
      `not mapped: Tocsin sends and reads nothing over the connection, only ${checked} checked${starttls ? ' (no STARTTLS)' : ''}`,
    );
  }
  // Without `tls: true`, a tls_config serves only STARTTLS steps, reported with query_response.
  const tls = useTls ? mapTlsConfig(m, ['tcp', 'tls_config'], tlsConfig, report) : {};

  const keys = (address: string): Record<string, unknown> =>
    useTls
      ? {
          targets: [address],
          ...(Object.keys(tls).length > 0 ? { tls } : {}),
          // The exporter passes a certificate until it expires; Tocsin's default warns 14 days before.
          expect: { min_days_left: 0 },
        }
      : { backend: 'tcp', address };

  return {
    module: m.name,
    where: m.at(),
    kind: useTls ? 'tls' : 'storage',
    timeoutMs,
    params: [],
    template() {
      if (!fallback) say('ip_protocol_fallback', NO_FALLBACK);
      return keys('TARGET:PORT');
    },
    keysFor(t: TargetInfo, targetReport: Report) {
      const hp = parseHostPort(t.target);
      if (!hp) {
        targetReport(t.where, `target ${t.target}: module ${m.name} needs host:port (IPv6 as [::1]:443), not imported`);
        return undefined;
      }
      if (!fallback && isIP(hp.host) === 0) say('ip_protocol_fallback', NO_FALLBACK);
      return keys(t.target);
    },
  };
}
