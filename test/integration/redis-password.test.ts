import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { openStore } from '../../src/store/open.js';
import { runCli } from '../helpers/cli.js';
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js';

// Redis's password from the environment (`store.password_env`, `queue.password_env`), never the
// config file, against a real redis-server with requirepass.

const PASSWORD = 'store-test-password-0123456789';
let server: RedisServer;
const dir = mkdtempSync(join(tmpdir(), 'tocsin-redis-password-'));
beforeAll(async () => {
  server = await startRedisServer({ password: PASSWORD });
});
afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const config = (store: string) =>
  [
    'components: [{ id: api, name: API }]',
    'probes: [{ id: api-health, kind: http, component: api, url: "http://127.0.0.1:9/" }]',
    `store: ${store}`,
    '',
  ].join('\n');

describe('Redis password from the environment', () => {
  it('store.password_env authenticates the store; without it the server refuses', async () => {
    writeFileSync(join(dir, 'env.yml'), config(`{ kind: redis, url: "${server.url}", password_env: TOCSIN_TEST_STORE_PASSWORD }`));
    const env = { TOCSIN_TEST_STORE_PASSWORD: PASSWORD };
    const loaded = await loadConfig(join(dir, 'env.yml'), { env });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const store = await openStore(loaded.plan, { env });
    try {
      await store.ping();
      await store.putState('k', 1);
      expect(await store.getState('k')).toBe(1);
    } finally {
      await store.close();
    }
    // The same config with the variable unset is a config problem naming the key.
    const unset = await loadConfig(join(dir, 'env.yml'), { env: {} });
    expect(unset.ok).toBe(false);
    if (!unset.ok) {
      expect(unset.problems.map((p) => `${p.path}: ${p.message}`)).toContain(
        'store.password_env: environment variable TOCSIN_TEST_STORE_PASSWORD is not set',
      );
    }
  });

  it('check-config warns about a password written in the URL, naming the key to use instead', async () => {
    const withPassword = server.url.replace('redis://', `redis://:${PASSWORD}@`);
    writeFileSync(join(dir, 'url.yml'), config(`{ kind: redis, url: "${withPassword}" }`));
    const res = await runCli(['check-config', '--config', 'url.yml'], { cwd: dir });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('warning: store.url carries a password');
    expect(res.stdout).toContain('set store.password_env');
    expect(res.stdout).not.toContain(PASSWORD);
  });
});
