import type { BlackboxModule } from './blackbox-modules.js';
import { parseGoDuration } from './durations.js';
import { mapHttpModule } from './http-module.js';
import type { ModuleMapping } from './module-mapping.js';
import type { Report } from './problems.js';
import { mapTcpModule } from './tcp-module.js';
import { scalarText } from './yaml-file.js';

/** Probers Tocsin has no kind for, and what they do (for the report). */
const UNMAPPED_PROBERS: Readonly<Record<string, string>> = {
  icmp: 'ICMP echo, ping',
  dns: 'DNS queries',
  grpc: 'gRPC health checks',
  unix: 'Unix socket connects',
  websocket: 'WebSocket exchanges',
};

const MODULE_KEYS = new Set(['prober', 'timeout', 'http', 'tcp', 'icmp', 'dns', 'grpc']);

/** A module as a Tocsin probe kind and keys; undefined (reported) when its prober has no equivalent. */
export function mapModule(m: BlackboxModule, report: Report): ModuleMapping | undefined {
  for (const key of Object.keys(m.raw)) {
    if (!MODULE_KEYS.has(key)) report(m.at(key), `module ${m.name}: ${key}: unknown option, not mapped`);
  }
  let timeoutMs: number | undefined;
  if (m.raw.timeout !== undefined) {
    timeoutMs = parseGoDuration(scalarText(m.raw.timeout) ?? '');
    if (timeoutMs === undefined) report(m.at('timeout'), `module ${m.name}: timeout: invalid duration "${String(m.raw.timeout)}", not mapped`);
  }
  const prober = scalarText(m.raw.prober);
  switch (prober) {
    case 'http':
      return mapHttpModule(m, timeoutMs, report);
    case 'tcp':
      return mapTcpModule(m, timeoutMs, report);
    case undefined:
      report(m.at(), `module ${m.name}: no prober, not mapped`);
      return undefined;
    default: {
      const what = UNMAPPED_PROBERS[prober];
      report(
        m.at('prober'),
        what
          ? `module ${m.name}: prober ${prober} (${what}) has no Tocsin probe kind: not mapped`
          : `module ${m.name}: unknown prober "${prober}", not mapped`,
      );
      return undefined;
    }
  }
}
