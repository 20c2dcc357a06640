import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';

// CONTRACT §5.9, SCENARIOS S13 and S16, live: the daemon probes a real loopback server; it stops,
// a draft appears; an operator dismisses it through the API while the failure goes on (no new
// draft); the server comes back and the dismissed incident resolves; the server stops again and
// the new outage is a pending draft again, naming the dismissed one. A dismissal never hides a
// later outage.

describe('a dismissed draft does not hide a later outage (daemon, API)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-dismissal-'));
  const target = new Target();
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    await target.start();
  });
  afterAll(async () => {
    daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draft → dismissed while failing → resolved → a new pending draft naming the dismissed one', async () => {
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: api, name: Public API, group: APIs, region: PAR }
probes:
  - { id: api-home, kind: http, component: api, url: "http://127.0.0.1:${target.port}/", interval: 1s, timeout: 500ms }
`,
    );
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    const { url } = started;
    const token = readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim();
    const headers = { authorization: `Bearer ${token}` };
    const get = async <T>(path: string): Promise<T> => {
      const res = await fetch(`${url}${path}`, { headers });
      if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const list = async (): Promise<Incident[]> => (await get<{ incidents: Incident[] }>('/api/v1/incidents')).incidents;

    // Healthy first.
    await waitFor(async () => ((await get<{ probes: { latest: { ok: boolean }[] }[] }>('/api/v1/probes')).probes[0]?.latest[0]?.ok ? true : undefined), 20_000);
    expect(await list()).toEqual([]);

    // Down: a draft.
    await target.stop();
    const draft = await waitFor(async () => (await list()).find((i) => i.review === 'pending' && i.status === 'open'), 30_000);
    expect(draft.root_component).toBe('api');

    // Dismissed as a false alarm while the failure goes on.
    const res = await fetch(`${url}/api/v1/incidents/${draft.id}/dismiss`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ reason: 'synthetic endpoint, not customer facing' }),
    });
    expect(res.status).toBe(200);
    const dismissed = (await res.json()) as Incident;
    expect(dismissed).toMatchObject({ id: draft.id, review: 'dismissed', status: 'open' });
    expect(dismissed.timeline.at(-1)).toMatchObject({ kind: 'dismissed', text: expect.stringContaining('synthetic endpoint, not customer facing') });

    // Several more failed checks (1 s apart) of the same failure: no new draft.
    await sleep(5000);
    const during = await list();
    expect(during.map((i) => [i.id, i.review, i.status])).toEqual([[draft.id, 'dismissed', 'open']]);

    // Back: the dismissed incident resolves.
    await target.start();
    const resolved = await waitFor(async () => {
      const doc = await get<Incident>(`/api/v1/incidents/${draft.id}`);
      return doc.status === 'resolved' ? doc : undefined;
    }, 30_000);
    expect(resolved.review).toBe('dismissed');

    // Down again, for real this time: a new pending draft that names the dismissed one.
    await target.stop();
    const fresh = await waitFor(async () => (await list()).find((i) => i.id !== draft.id && i.status === 'open'), 30_000);
    expect(fresh).toMatchObject({ review: 'pending', root_component: 'api' });
    expect(fresh.timeline[0]?.kind).toBe('opened');
    expect(fresh.timeline[0]?.text).toContain(draft.id);
    const pending = (await get<{ incidents: Incident[] }>('/api/v1/incidents?review=pending')).incidents;
    expect(pending.map((i) => i.id)).toEqual([fresh.id]);
    // The dismissed one stays as the operator left it.
    expect(await get<Incident>(`/api/v1/incidents/${draft.id}`)).toMatchObject({ review: 'dismissed', status: 'resolved' });
    // The dismissal is counted per rule (S13).
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('tocsin_incident_reviews_total{rule="outage",review="dismissed"} 1');

    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 150_000);
});
