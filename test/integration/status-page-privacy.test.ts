import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import { confirmIncident } from '../../src/incidents/manager.js';
import { createLogger } from '../../src/log.js';
import { waitFor } from '../helpers/cli.js';
import { refusedPort } from '../helpers/refused-port.js';
import { startHttpServer, type TestServer } from '../helpers/servers.js';

// What the public reads (docs/status-page.md, "Public words"), on a live daemon: an incident
// whose targets are private addresses and URLs with paths, confirmed by an operator, reaches
// /status and /status.json without any of them, nor the raw errors the checks saw; the
// operator API keeps them.

describe('public status page: no addresses, URLs or raw errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-privacy-'));
  let daemon: Daemon | undefined;
  let failing: TestServer | undefined;
  let refused = 0;

  beforeAll(async () => {
    refused = await refusedPort();
    failing = await startHttpServer((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('backend pool-7 on 10.0.3.18 unavailable\n');
    });
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
components:
  - { id: pg, name: Database add-ons, group: Databases }
  - { id: infra, name: Internal network, group: Infrastructure }
  - { id: api, name: Public API, group: Apps, depends_on: [infra] }
probes:
  - { id: pg-primary-tcp, kind: http, component: pg, url: "http://127.0.0.1:${refused}/internal/pg-health/primary", interval: 300ms, timeout: 200ms }
  - { id: api-backend-pool, kind: http, component: api, url: "${failing.url}/internal/backends/pool-7", interval: 300ms, timeout: 200ms }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    daemon = await startDaemon({ plan: loaded.plan, logger: createLogger('silent'), env: {} });
  });
  afterAll(async () => {
    await daemon?.stop(0);
    await failing?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('confirmed incidents read in public words; the operator API keeps the detail', async () => {
    const ctx = daemon?.incidents;
    if (!ctx || !failing) throw new Error('daemon not started');
    const drafts = await waitFor(
      async () => {
        const open = await ctx.store.listIncidents({ status: 'open' });
        const roots = new Set(open.map((i) => i.root_component));
        return roots.has('pg') && roots.has('api') ? open : undefined;
      },
      20_000,
    );
    for (const d of drafts) await confirmIncident(ctx, d.id, { by: 'ops' });

    const failingPort = new URL(failing.url).port;
    const secrets = [
      // The refused port is below 1024 (a digit or two): the address above covers it.
      '127.0.0.1',
      failingPort,
      '/internal/',
      'pg-health',
      'pool-7',
      '10.0.3.18',
      'ECONNREFUSED',
      'connect_refused',
      'http://',
      'pg-primary-tcp',
      'api-backend-pool',
    ];
    const json = await (await fetch(`${daemon?.url}/status.json`)).text();
    const html = await (await fetch(`${daemon?.url}/status`)).text();
    // The public page shows both incidents, in reader words.
    expect(json).toContain('Investigating — Database add-ons: connections refused.');
    expect(json).toContain('Investigating — Public API: answering with errors.');
    for (const secret of secrets) {
      expect(json, `/status.json shows ${secret}`).not.toContain(secret);
      expect(html, `/status shows ${secret}`).not.toContain(secret);
    }
    // Operators still see what the checks saw.
    const stored = await ctx.store.getIncident(drafts.find((d) => d.root_component === 'pg')?.id ?? '');
    expect(stored?.incident.timeline[0]?.text).toContain('ECONNREFUSED');
  }, 60_000);
});
