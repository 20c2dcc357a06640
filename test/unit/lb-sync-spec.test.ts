import { describe, expect, it } from 'vitest';
import { LbSyncProbeSpec, lbSyncProbe } from '../../probes/lb-sync.js';
import { instanceUrl, routeLabel } from '../../probes/lb-sync/spec.js';

const minimal = { instances: ['10.0.0.1:443'], routes: [{ host: 'app1.example.com' }] };

function problems(raw: Record<string, unknown>): string[] {
  const parsed = LbSyncProbeSpec.safeParse(raw);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('lb_sync spec', () => {
  it('applies the documented defaults', () => {
    const spec = LbSyncProbeSpec.parse(minimal);
    expect(spec.routes).toEqual([{ host: 'app1.example.com', path: '/', scheme: 'https' }]);
    expect(spec.compare).toEqual(['status', 'body_sha256']);
    expect(spec.max_lag).toBe(30_000);
    expect(spec.max_body_size).toBe(1_048_576);
    expect(spec.version).toBeUndefined();
    expect(spec.expected_version).toBeUndefined();
  });

  it('takes the seed 000 example', () => {
    const spec = LbSyncProbeSpec.parse({
      instances: ['10.0.0.1:443', '10.0.0.2:443', '[2001:db8::3]:443'],
      routes: [
        { host: 'app1.example.com' },
        { host: 'api.example.com', path: '/health?full=1' },
        { host: 'legacy.example.com:8080', scheme: 'http' },
      ],
      compare: ['status', 'header:X-Config-Version', 'cert_fingerprint', 'body_sha256', 'status'],
      version: { url: 'http://{host}:8404/version', json_path: 'config.version' },
      expected_version: { url: 'https://control.example.com/lb/version', regex: 'version=(\\d+)' },
      max_lag: '0s',
    });
    expect(spec.compare).toEqual(['status', 'header:x-config-version', 'cert_fingerprint', 'body_sha256']);
    expect(spec.max_lag).toBe(0);
    expect(spec.routes.map(routeLabel)).toEqual([
      'app1.example.com/',
      'api.example.com/health?full=1',
      'http://legacy.example.com:8080/',
    ]);
  });

  it.each([
    [{ ...minimal, compare: ['colour'] }, 'compare.0: unknown compare item "colour"'],
    [{ ...minimal, compare: ['header:'] }, 'compare.0: unknown compare item'],
    [{ ...minimal, compare: [] }, 'compare: Too small'],
    [{ ...minimal, instances: [] }, 'instances: Too small'],
    [{ ...minimal, instances: ['10.0.0.1'] }, 'instances.0: must be host:port'],
    [{ ...minimal, instances: ['10.0.0.1:443', '10.0.0.1:443'] }, 'instances.1: duplicate instance (same as [0])'],
    [{ ...minimal, routes: [] }, 'routes: Too small'],
    [{ ...minimal, routes: [{ host: 'a.example.com' }, { host: 'a.example.com', path: '/' }] }, 'routes.1: duplicate route'],
    [{ ...minimal, routes: [{ host: 'https://a.example.com' }] }, 'routes.0.host: must be a host name'],
    [{ ...minimal, routes: [{ host: 'a.example.com', path: 'health' }] }, 'routes.0.path: must start with "/"'],
    [{ ...minimal, routes: [{ host: 'a.example.com', scheme: 'ftp' }] }, 'routes.0.scheme'],
    [{ ...minimal, routes: [{ host: 'a.example.com', colour: 1 }] }, 'routes.0: Unrecognized key'],
    [{ ...minimal, version: { url: 'http://{instance}/version' } }, 'version: give exactly one of json_path or regex'],
    [
      { ...minimal, version: { url: 'http://{instance}/version', json_path: 'a', regex: '(x)' } },
      'version: give exactly one of json_path or regex',
    ],
    [{ ...minimal, version: { url: 'http://{instance}/v', regex: 'v\\d+' } }, 'version.regex: needs a capture group'],
    [{ ...minimal, version: { url: 'http://{instance}/v', regex: '(' } }, 'version.regex: invalid regular expression'],
    [{ ...minimal, version: { url: 'http://{instance}/v', json_path: 'a..b' } }, 'version.json_path: must be a dotted path'],
    [{ ...minimal, version: { url: 'ftp://{instance}/v', json_path: 'a' } }, 'version.url: must be an http:// or https://'],
    [{ ...minimal, expected_version: { url: 'http://{instance}/v', json_path: 'a' } }, 'expected_version.url: the control plane is one URL'],
    [{ ...minimal, max_lag: '30 seconds' }, 'max_lag: invalid duration'],
    [{ ...minimal, max_body_size: 0 }, 'max_body_size: Too small'],
  ])('rejects %j', (raw, message) => {
    expect(problems(raw).join('\n')).toContain(message);
  });

  it('fills {instance} and {host} of a version URL', () => {
    expect(instanceUrl('http://{instance}/version', '10.0.0.1:443')).toBe('http://10.0.0.1:443/version');
    expect(instanceUrl('http://{host}:8404/v?i={instance}', '10.0.0.1:443')).toBe(
      'http://10.0.0.1:8404/v?i=10.0.0.1:443',
    );
    expect(instanceUrl('http://{host}:8404/version', '[2001:db8::1]:443')).toBe(
      'http://[2001:db8::1]:8404/version',
    );
  });

  it('rejects unknown keys', () => {
    expect(problems({ ...minimal, colour: 'red' }).join()).toContain('Unrecognized key');
  });
});

describe('lb_sync cross-key check', () => {
  const issues = (raw: Record<string, unknown>) => {
    const found: { path?: PropertyKey[]; message?: string }[] = [];
    const ctx = { addIssue: (i: { path?: PropertyKey[]; message?: string }) => found.push(i) };
    type Refine = NonNullable<typeof lbSyncProbe.refine>;
    const spec = LbSyncProbeSpec.parse(raw) as Parameters<Refine>[0];
    lbSyncProbe.refine?.(spec, ctx as unknown as Parameters<Refine>[1]);
    return found.map((i) => `${(i.path ?? []).join('.')}: ${i.message}`);
  };

  it('rejects expected_version without version, which it is compared with', () => {
    const expected_version = { url: 'http://cp/v', json_path: 'v' };
    expect(issues({ ...minimal, expected_version })).toEqual([
      'expected_version: needs `version` to read each instance\'s version',
    ]);
    expect(issues({ ...minimal, expected_version, version: { url: 'http://{instance}/version', json_path: 'v' } })).toEqual([]);
  });
});
