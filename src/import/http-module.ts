import { isIP } from 'node:net';
import { redactUrl } from '../../probes/shared/url.js';
import { isRecord } from '../json.js';
import type { BlackboxModule } from './blackbox-modules.js';
import { combinePatterns, translateGoRegexp } from './go-regexp.js';
import type { ModuleMapping, TargetInfo } from './module-mapping.js';
import type { Report } from './problems.js';
import { mapTlsConfig } from './tls-config.js';
import { scalarText, yamlBool } from './yaml-file.js';

// A Blackbox `prober: http` module as a Tocsin `kind: http` probe (probes/http/spec.ts). Each
// option either becomes Tocsin keys with the same verdict, or is reported where it is written.

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers whose value is a credential: it goes to the environment (`headers_env`), never the file. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|api-?key|password|passwd/i;

/** Go's units.Base2Bytes (body_size_limit): KB and KiB both mean 1024. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1024,
  kib: 1024,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

function parseBase2Size(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = /^(\d+)\s*([A-Za-z]*)$/.exec(scalarText(value)?.trim() ?? '');
  const unit = SIZE_UNITS[(m?.[2] ?? '').toLowerCase()];
  if (!m?.[1] || unit === undefined) return undefined;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** An environment variable name for a module's secret: BLACKBOX_<MODULE>_<WHAT>. */
export function secretEnvName(module: string, what: string): string {
  const part = (s: string): string => s.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '');
  return `BLACKBOX_${part(module)}_${part(what)}`;
}

/** The host of a Host header value, without its port (`[::1]:8443` → `::1`). */
function hostOf(hostHeader: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader);
  if (v6?.[1]) return v6[1];
  return /^([^:]+)(?::\d+)?$/.exec(hostHeader)?.[1] ?? hostHeader;
}

const NOT_SSL =
  'not mapped: Tocsin does not check that the final answer came over TLS (kept only for https:// targets with redirects off)';
const SSL =
  'not mapped: Tocsin does not check that the final answer came without TLS (kept only for http:// targets with redirects off)';
/** The exporter's `ip_protocol_fallback: false` pins one address family; Tocsin takes what the resolver gives. */
export const NO_FALLBACK =
  'not mapped for host names: Tocsin connects over whichever address family the resolver gives, with no preference';

interface MatchRule {
  readonly required: string[];
  readonly forbidden: string[];
}

export function mapHttpModule(m: BlackboxModule, timeoutMs: number | undefined, report: Report): ModuleMapping {
  const http: Record<string, unknown> = isRecord(m.raw.http) ? m.raw.http : {};
  if (m.raw.http !== undefined && m.raw.http !== null && !isRecord(m.raw.http)) {
    report(m.at('http'), `module ${m.name}: http: expected a mapping`);
  }
  const say = (key: string, reason: string, ...more: (string | number)[]): void =>
    report(m.at('http', key, ...more), `module ${m.name}: http.${key}${more.map((k) => `[${k}]`).join('')}: ${reason}`);

  let method = 'GET';
  const headers: Record<string, string> = {};
  const headersEnv: Record<string, string> = {};
  let body: string | undefined;
  let follow = true;
  let noFollow: boolean | undefined;
  let maxBodySize: number | undefined;
  let tls: Record<string, unknown> = {};
  const statuses: number[] = [];
  const bodyRule: MatchRule = { required: [], forbidden: [] };
  const headerRules = new Map<string, MatchRule>();
  let failIfSsl = false;
  let failIfNotSsl = false;
  let fallback = true;

  const credential = (key: string, how: string): void => {
    const env = secretEnvName(m.name, 'authorization');
    headersEnv.authorization = env;
    say(key, `credentials never live in Tocsin's config: set the environment variable ${env} to ${how} (sent as headers_env: { authorization: ${env} })`);
  };
  const bool = (key: string, value: unknown): boolean | undefined => {
    const b = yamlBool(value);
    if (b === undefined) say(key, 'expected true or false, not mapped');
    return b;
  };
  const regexps = (key: string, value: unknown, into: string[]): void => {
    if (!Array.isArray(value)) return say(key, 'expected a list of regular expressions, not mapped');
    value.forEach((item: unknown, i) => {
      const text = scalarText(item) ?? '';
      const t = translateGoRegexp(text, { names: false });
      if (t.ok) into.push(t.source);
      else say(key, `regexp ${JSON.stringify(text)} not mapped: ${t.reason}`, i);
    });
  };
  const headerMatches = (key: string, value: unknown, forbidden: boolean): void => {
    if (!Array.isArray(value)) return say(key, 'expected a list of { header, regexp }, not mapped');
    value.forEach((item: unknown, i) => {
      const name = isRecord(item) ? scalarText(item.header) : undefined;
      if (!isRecord(item) || !name) return say(key, 'expected { header, regexp, allow_missing }, not mapped', i);
      if (yamlBool(item.allow_missing) === true) {
        return say(
          key,
          `header ${name}: allow_missing is not mapped: a Tocsin header expectation fails when the header is missing`,
          i,
        );
      }
      const text = scalarText(item.regexp) ?? '';
      const t = translateGoRegexp(text, { names: false });
      if (!t.ok) return say(key, `header ${name}: regexp ${JSON.stringify(text)} not mapped: ${t.reason}`, i);
      const rule = headerRules.get(name.toLowerCase()) ?? { required: [], forbidden: [] };
      (forbidden ? rule.forbidden : rule.required).push(t.source);
      headerRules.set(name.toLowerCase(), rule);
    });
  };

  for (const [key, value] of Object.entries(http)) {
    switch (key) {
      case 'valid_status_codes':
        if (!Array.isArray(value)) say(key, 'expected a list of status codes, not mapped');
        else {
          value.forEach((code: unknown, i) => {
            if (typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599) statuses.push(code);
            else say(key, `status ${String(code)} is not an HTTP status (100-599), not mapped`, i);
          });
        }
        break;
      case 'valid_http_versions': {
        const versions = Array.isArray(value) ? value.map((v: unknown) => scalarText(v)) : [];
        // Tocsin speaks HTTP/1.1: a list that accepts it keeps its verdict.
        if (!versions.includes('HTTP/1.1')) {
          say(key, 'not mapped: Tocsin probes over HTTP/1.1 and does not check the version (only a list with HTTP/1.1 keeps its meaning)');
        }
        break;
      }
      case 'preferred_ip_protocol':
        if (!['ip4', 'ip6'].includes(scalarText(value) ?? '')) say(key, `unknown protocol "${String(value)}"`);
        break;
      case 'ip_protocol_fallback':
        fallback = bool(key, value) ?? true;
        break;
      case 'skip_resolve_phase_with_proxy':
      case 'enable_http2':
        // Only meaningful with a proxy (reported itself); Tocsin speaks HTTP/1.1, as the exporter can.
        break;
      case 'no_follow_redirects':
        noFollow = bool(key, value);
        break;
      case 'follow_redirects':
        follow = bool(key, value) ?? true;
        break;
      case 'fail_if_ssl':
        failIfSsl = bool(key, value) ?? false;
        break;
      case 'fail_if_not_ssl':
        failIfNotSsl = bool(key, value) ?? false;
        break;
      case 'method': {
        const text = scalarText(value) ?? '';
        if (/^[A-Za-z]+$/.test(text)) method = text.toUpperCase();
        else say(key, `"${text}" is not an HTTP method, not mapped`);
        break;
      }
      case 'headers':
        if (!isRecord(value)) say(key, 'expected a mapping, not mapped');
        else {
          for (const [name, v] of Object.entries(value)) {
            const text = scalarText(v) ?? '';
            if (!HEADER_NAME.test(name)) say(key, `"${name}" is not an HTTP header name, not mapped`, name);
            else if (/[\r\n\0]/.test(text)) say(key, 'a header value with a line break is not mapped', name);
            else if (SECRET_HEADER.test(name)) {
              const env = secretEnvName(m.name, name);
              headersEnv[name] = env;
              say(key, `header ${name} holds a secret, which never lives in Tocsin's config: set the environment variable ${env} to its value (sent as headers_env)`, name);
            } else headers[name] = text;
          }
        }
        break;
      case 'body':
        body = scalarText(value);
        break;
      case 'body_file':
        say(key, 'not mapped: copy the file\'s content into the probe\'s body');
        break;
      case 'compression':
        if ((scalarText(value) ?? '') !== '') say(key, 'not mapped: Tocsin does not decompress answers; body expectations see the raw bytes');
        break;
      case 'body_size_limit': {
        const bytes = parseBase2Size(value);
        if (bytes === undefined) say(key, `invalid size "${String(value)}", not mapped`);
        else if (bytes > 0) maxBodySize = bytes;
        break;
      }
      case 'fail_if_body_matches_regexp':
        regexps(key, value, bodyRule.forbidden);
        break;
      case 'fail_if_body_not_matches_regexp':
        regexps(key, value, bodyRule.required);
        break;
      case 'fail_if_header_matches':
        headerMatches(key, value, true);
        break;
      case 'fail_if_header_not_matches':
        headerMatches(key, value, false);
        break;
      case 'tls_config':
        tls = mapTlsConfig(m, ['http', 'tls_config'], value, report);
        break;
      case 'basic_auth':
        credential(key, '"Basic " followed by the base64 of username:password');
        break;
      case 'bearer_token':
      case 'bearer_token_file':
        credential(key, '"Bearer " followed by the token');
        break;
      case 'authorization':
        credential(key, `"${(isRecord(value) && scalarText(value.type)) || 'Bearer'} " followed by the credentials`);
        break;
      case 'oauth2':
        say(key, 'not mapped: Tocsin does not fetch OAuth 2.0 tokens (a static token can go in headers_env)');
        break;
      case 'proxy_url':
      case 'proxy_from_environment':
      case 'no_proxy':
      case 'proxy_connect_header':
        say(key, 'not mapped: Tocsin connects to targets directly, never through a proxy');
        break;
      default:
        say(key, 'unknown option, not mapped');
    }
  }
  // no_follow_redirects (older exporters) wins over follow_redirects, as the exporter reads them.
  if (noFollow !== undefined) follow = !noFollow;

  const expect: Record<string, unknown> = {};
  // Without redirects followed, Tocsin's default accepts 3xx; the exporter's stays 2xx.
  if (statuses.length > 0) expect.status = statuses;
  else if (!follow) expect.status = ['2xx'];
  if (headerRules.size > 0) {
    expect.header = Object.fromEntries(
      // An empty pattern would read as the exact value "//": `(?:)` matches anything, as '' does in Go.
      [...headerRules].map(([name, rule]) => [name, `/${combinePatterns(rule.required, rule.forbidden) || '(?:)'}/`]),
    );
  }
  if (bodyRule.required.length + bodyRule.forbidden.length > 0) {
    expect.body_regex = combinePatterns(bodyRule.required, bodyRule.forbidden);
  }
  const hostKey = Object.keys(headers).find((h) => h.toLowerCase() === 'host');

  const keys = (
    url: string,
    extraHeaders: Record<string, string>,
    serverName: string | undefined,
  ): Record<string, unknown> => {
    const allHeaders = { ...headers, ...extraHeaders };
    const tlsBlock = serverName && tls.server_name === undefined ? { ...tls, server_name: serverName } : tls;
    return {
      url,
      ...(method !== 'GET' ? { method } : {}),
      ...(Object.keys(allHeaders).length > 0 ? { headers: allHeaders } : {}),
      ...(Object.keys(headersEnv).length > 0 ? { headers_env: headersEnv } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(!follow ? { follow_redirects: false } : {}),
      ...(maxBodySize !== undefined ? { max_body_size: maxBodySize } : {}),
      ...(Object.keys(tlsBlock).length > 0 ? { tls: tlsBlock } : {}),
      ...(Object.keys(expect).length > 0 ? { expect } : {}),
    };
  };

  return {
    module: m.name,
    where: m.at(),
    kind: 'http',
    timeoutMs,
    params: ['hostname'],
    template() {
      if (failIfNotSsl) say('fail_if_not_ssl', NOT_SSL);
      if (failIfSsl) say('fail_if_ssl', SSL);
      if (!fallback) say('ip_protocol_fallback', NO_FALLBACK);
      return keys('http://TARGET', {}, undefined);
    },
    keysFor(t: TargetInfo, targetReport: Report) {
      // The exporter's own rule: a target without http:// or https:// is http.
      const text = t.target.startsWith('http://') || t.target.startsWith('https://') ? t.target : `http://${t.target}`;
      if (!URL.canParse(text)) {
        targetReport(t.where, `target ${t.target}: not a URL, not imported`);
        return undefined;
      }
      const url = new URL(text);
      if (url.username || url.password) {
        targetReport(
          t.where,
          `target ${redactUrl(text)}: credentials in the URL never live in Tocsin's config: not imported (send them with headers_env)`,
        );
        return undefined;
      }
      const extra: Record<string, string> = {};
      let host = hostKey ? headers[hostKey] : undefined;
      const hostname = t.params.get('hostname');
      if (hostname !== undefined) {
        if (host !== undefined && host !== hostname) {
          targetReport(t.where, `target ${t.target}: hostname parameter "${hostname}" and the module's Host header "${host}" differ: the exporter refuses this probe, not imported`);
          return undefined;
        }
        host = hostname;
        extra[hostKey ?? 'Host'] = hostname;
      }
      const https = url.protocol === 'https:';
      // The exporter's rule for which answers may come without TLS can only be kept when there are no redirects.
      if (failIfNotSsl && !(https && !follow)) say('fail_if_not_ssl', NOT_SSL);
      if (failIfSsl && !(!https && !follow)) say('fail_if_ssl', SSL);
      if (!fallback && isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0) say('ip_protocol_fallback', NO_FALLBACK);
      // The exporter sends the Host header's name as SNI (and checks the certificate against it).
      return keys(text, extra, https && host ? hostOf(host) : undefined);
    },
  };
}
