import { describe, expect, it } from 'vitest';
import { atJsonPath, compareVersions, extractVersion } from '../../probes/lb-sync/version.js';

describe('extractVersion', () => {
  it('reads a dotted json_path', () => {
    expect(extractVersion('{"config":{"version":42}}', { json_path: 'config.version' })).toEqual({
      version: '42',
    });
    expect(extractVersion('{"config":{"version":"v43-rc1"}}', { json_path: 'config.version' })).toEqual({
      version: 'v43-rc1',
    });
    expect(extractVersion('{"items":[{"v":1},{"v":2}]}', { json_path: 'items.1.v' })).toEqual({ version: '2' });
  });

  it('says why there is no version', () => {
    expect(extractVersion('<html>', { json_path: 'config.version' })).toEqual({ error: 'answer is not JSON' });
    expect(extractVersion('{"config":{}}', { json_path: 'config.version' })).toEqual({
      error: 'no string or number at json_path config.version',
    });
    expect(extractVersion('{"config":{"version":{"major":1}}}', { json_path: 'config.version' })).toMatchObject({
      error: expect.stringContaining('no string or number'),
    });
    expect(extractVersion('{"config":{"version":"  "}}', { json_path: 'config.version' })).toMatchObject({
      error: expect.any(String),
    });
    expect(extractVersion('nothing here', { regex: 'version=(\\d+)' })).toEqual({
      error: 'regex /version=(\\d+)/ did not match (or its group 1 is empty)',
    });
  });

  it('takes the first capture group of a regex', () => {
    expect(extractVersion('sozu config_version=41 workers=4', { regex: 'config_version=(\\d+)' })).toEqual({
      version: '41',
    });
  });

  it('does not walk into inherited properties', () => {
    expect(atJsonPath({ a: {} }, 'a.constructor')).toBeUndefined();
    expect(atJsonPath({ a: { b: 0 } }, 'a.b')).toBe(0);
  });
});

describe('compareVersions', () => {
  it.each([
    ['41', '42', -1],
    ['100', '42', 1],
    ['42', '42', 0],
    ['0.13.2', '0.15.17', -1],
    ['0.15.17', '0.15.9', 1],
    ['v9', 'v10', -1],
    ['2023-11-24T09:00', '2023-11-24T10:00', -1],
  ] as const)('%s vs %s', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});
