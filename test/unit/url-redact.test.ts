import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { redactUrl } from '../../probes/shared/url.js';
import { formatProblem, loadConfig } from '../../src/config/load.js';
import { redactUrl as redactRedisForLogs } from '../../src/queue/bullmq-keys.js';

describe('redactUrl (metric labels, logs)', () => {
  test('userinfo: the password as ***, a user alone (maybe a token) as ***', () => {
    expect(redactUrl('http://user:hunter2@api.example.com/health')).toBe('http://user:***@api.example.com/health');
    expect(redactUrl('https://ghp_TOKEN@api.example.com/')).toBe('https://***@api.example.com/');
  });

  test('the query string and fragment are dropped', () => {
    expect(redactUrl('http://user:hunter2@h:8080/health?api_key=SECRETKEY&x=1#frag')).toBe(
      'http://user:***@h:8080/health',
    );
    expect(redactUrl('https://api.example.com/health?full=1')).toBe('https://api.example.com/health');
  });

  test('anything else is kept as written', () => {
    expect(redactUrl('https://api.example.com/health')).toBe('https://api.example.com/health');
    expect(redactUrl('db.example.com:5432')).toBe('db.example.com:5432');
    expect(redactUrl('[::1]:443')).toBe('[::1]:443');
    expect(redactUrl('')).toBe('');
  });

  test('the Redis log redactor is the same function (and hides an invalid URL)', () => {
    expect(redactRedisForLogs('redis://:pw@cache:6379/0')).toBe('redis://:***@cache:6379/0');
    expect(redactRedisForLogs('not a url :pw@')).toBe('(invalid url)');
  });
});

describe('check-config: credentials written in URLs are refused at FILE:LINE', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tocsin-urlcreds-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  test('http url, lb_sync version url, storage redis url', async () => {
    const file = join(dir, 'bad.yml');
    await writeFile(
      file,
      `components: [{ id: api, name: API }]
probes:
  - id: web
    kind: http
    component: api
    url: http://user:hunter2@api.example.com/health?api_key=SECRETKEY
  - id: lbs
    kind: lb_sync
    component: api
    instances: ["10.0.0.1:443", "10.0.0.2:443"]
    routes: [{ host: app.example.com }]
    version: { url: "http://admin:pw@{instance}/version", json_path: version }
  - { id: cache, kind: storage, component: api, backend: redis, url: "redis://:pw@cache:6379/0" }
  - { id: ok, kind: http, component: api, url: "https://api.example.com/health?full=1", headers_env: { authorization: API_AUTH } }
`,
    );
    const res = await loadConfig(file, { cwd: dir, env: {} });
    expect(res.ok).toBe(false);
    expect(res.ok ? [] : res.problems.map(formatProblem)).toEqual([
      'bad.yml:6: probes[0].url: must not carry credentials (a secret never lives in the config file): send them in a header read from the environment, e.g. headers_env: { authorization: MY_AUTH_ENV }',
      'bad.yml:12: probes[1].version.url: must not carry credentials (a secret never lives in the config file)',
      'bad.yml:13: probes[2].url: must not carry a password (a secret never lives in the config file): give it with password_env',
    ]);
  });
});
