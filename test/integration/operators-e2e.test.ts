import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/events/incident.js';
import { DaemonProcess, runCli, waitFor } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';

const SECRET = 'e2e-webhook-secret-7f3a';

interface Delivery {
  readonly event: string;
  readonly incidentId: string;
  readonly delivery: string;
  readonly signatureValid: boolean;
}

/** A webhook receiver on loopback that records every delivery and checks its signature. */
async function startReceiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const verify = (raw: string, headers: IncomingHttpHeaders): boolean => {
    const ts = String(headers['x-tocsin-timestamp'] ?? '');
    const given = Buffer.from(String(headers['x-tocsin-signature'] ?? ''));
    const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(`${ts}.${raw}`).digest('hex')}`);
    return /^\d+$/.test(ts) && given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as { event: string; incident: Incident };
      deliveries.push({
        event: body.event,
        incidentId: body.incident.id,
        delivery: String(req.headers['x-tocsin-delivery'] ?? ''),
        signatureValid: verify(raw, req.headers),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, deliveries };
}

/**
 * The operator's whole path, with real processes: the daemon probes a real server; the server
 * stops; a draft appears in the API; an operator confirms it with the CLI; it is on /status;
 * the server comes back; the incident resolves; the webhook receiver got each event once, signed.
 */
describe('operators end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-e2e-'));
  const target = new Target();
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    await target.start();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    daemon?.kill();
    await target.stop();
    receiver.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('draft → CLI confirm → /status → resolved, with each webhook event once and signed', async () => {
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: shop, name: Web shop, group: Shops, region: PAR }
probes:
  - { id: shop-home, kind: http, component: shop, url: "http://127.0.0.1:${target.port}/", interval: 300ms, timeout: 250ms }
notifiers:
  - { kind: webhook, url: "${receiver.url}", secret_env: E2E_WEBHOOK_SECRET, timeout: 2s }
`,
    );
    process.env.E2E_WEBHOOK_SECRET = SECRET;
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    const { url } = started;
    const token = readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim();
    const api = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;

    // Healthy first: no incident.
    await waitFor(async () => ((await api<{ probes: { latest: { ok: boolean }[] }[] }>('/api/v1/probes')).probes[0]?.latest[0]?.ok ? true : undefined));
    expect((await api<{ incidents: Incident[] }>('/api/v1/incidents')).incidents).toEqual([]);

    await target.stop();
    const draft = await waitFor(async () => (await api<{ incidents: Incident[] }>('/api/v1/incidents?review=pending')).incidents[0], 15_000);
    expect(draft).toMatchObject({ status: 'open', review: 'pending', root_component: 'shop' });
    expect(draft.components).toEqual([{ id: 'shop', impact: 'major_outage' }]);

    // A draft is not public.
    const before = await (await fetch(`${url}/status.json`)).json() as { incidents: unknown[] };
    expect(before.incidents).toEqual([]);

    const confirmed = await runCli(['incidents', 'confirm', draft.id, '--note', 'We are investigating', '--url', url, '--token', token, '--json'], { cwd: dir });
    expect(confirmed.stderr).toBe('');
    expect(confirmed.code).toBe(0);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ id: draft.id, review: 'confirmed' });

    const page = await (await fetch(`${url}/status`)).text();
    expect(page).toContain(draft.title.replace(/&/g, '&amp;'));
    expect(page).toMatch(/EDIT \d\d:\d\d UTC/);
    const publicJson = await (await fetch(`${url}/status.json`)).json() as { incidents: { id: string }[] };
    expect(publicJson.incidents.map((i) => i.id)).toEqual([draft.id]);

    await target.start();
    const resolved = await waitFor(async () => {
      const doc = await api<Incident>(`/api/v1/incidents/${draft.id}`);
      return doc.status === 'resolved' ? doc : undefined;
    }, 15_000);
    expect(resolved.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['opened', 'confirmed', 'recovered', 'resolved']));

    // Each lifecycle event reached the receiver exactly once, with a valid signature.
    const forDraft = await waitFor(() => {
      const mine = receiver.deliveries.filter((d) => d.incidentId === draft.id);
      return mine.some((d) => d.event === 'incident.resolved') ? mine : undefined;
    });
    for (const event of ['incident.opened', 'incident.confirmed', 'incident.resolved']) {
      expect(forDraft.filter((d) => d.event === event), event).toHaveLength(1);
    }
    expect(forDraft.every((d) => d.signatureValid)).toBe(true);
    expect(new Set(forDraft.map((d) => d.delivery)).size).toBe(forDraft.length);
    expect(daemon.stderr).not.toContain(token);
    expect(daemon.stderr).not.toContain(SECRET);

    daemon.signal('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }, 60_000);
});
