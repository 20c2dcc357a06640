import { describe, expect, it } from 'vitest';
import { checkBinding, isLoopbackHost } from '../../src/api/binding.js';
import type { ServerSpec } from '../../src/config/schema.js';

const OPS = [{ name: 'ops', role: 'operator' as const, token_env: 'T_OPS' }];
const server = (host: string, extra: Partial<ServerSpec> = {}): ServerSpec => ({
  listen: { host, port: 9470 },
  tokens: [],
  ...extra,
});

describe('isLoopbackHost', () => {
  it('knows 127.0.0.0/8, ::1 (any spelling) and localhost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost', 'LOCALHOST'])
      expect(isLoopbackHost(h), h).toBe(true);
  });
  it('treats every other address or name as reachable from the network', () => {
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1', '::ffff:10.0.0.1', 'tocsin.example.com', '192.168.1.1'])
      expect(isLoopbackHost(h), h).toBe(false);
  });
});

describe('checkBinding', () => {
  it('lets loopback start silently, with or without tokens', () => {
    expect(checkBinding(server('127.0.0.1'))).toEqual({ ok: true, warnings: [] });
    expect(checkBinding(server('::1', { tokens: OPS }))).toEqual({ ok: true, warnings: [] });
  });

  it('refuses a non-loopback address without tokens, with a one-line reason naming the way out', () => {
    const r = checkBinding(server('0.0.0.0'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.reason).not.toContain('\n');
    expect(r.reason).toContain('0.0.0.0:9470');
    expect(r.reason).toContain('server.tokens');
    expect(r.reason).toContain('allow_unauthenticated_remote');
    expect(checkBinding(server('::')).ok).toBe(false);
  });

  it('starts a non-loopback address with tokens, warning about plain HTTP', () => {
    const r = checkBinding(server('0.0.0.0', { tokens: OPS }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/TLS-terminating/);
  });

  it('starts a non-loopback address without tokens when allow_unauthenticated_remote is set, and says so', () => {
    const r = checkBinding(server('::', { allow_unauthenticated_remote: true }));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.warnings).toHaveLength(2);
    expect(r.warnings[0]).toContain('[::]:9470');
    expect(r.warnings[1]).toContain('allow_unauthenticated_remote');
  });
});
