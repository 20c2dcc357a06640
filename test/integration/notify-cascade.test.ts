import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident, TimelineEntry } from '../../src/events/incident.js';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';

interface Delivery {
  readonly path: string;
  readonly event: string;
  readonly incident: Incident;
  readonly entries: TimelineEntry[];
  readonly reroot?: { from: string | null; to: string };
}

/** A webhook receiver on loopback recording every delivery, by path (one per notifier). */
async function startReceiver(): Promise<{ server: Server; url: string; deliveries: Delivery[] }> {
  const deliveries: Delivery[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Omit<Delivery, 'path'>;
      deliveries.push({ ...body, path: req.url ?? '' });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, deliveries };
}

/**
 * A cascade, with real processes: svc1 fails first and a draft rooted at it is stored at once;
 * then the datacenter gateway behind it fails with the other services, and the engine re-roots
 * the draft at the gateway. A notifier with the default group_wait sends one opening, naming the
 * gateway; one with `group_wait: 0s` hears the draft at once (svc1), then `incident.rerooted`.
 */
describe('a cascade notified (real daemon, real webhook receiver)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-cascade-'));
  const targets = { gateway: new Target(), svc1: new Target(), svc2: new Target(), svc3: new Target() };
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    for (const t of Object.values(targets)) await t.start();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    daemon?.kill();
    for (const t of Object.values(targets)) await t.stop();
    receiver.server.closeAllConnections();
    receiver.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the first message names the root of the cascade, not its first failing component', async () => {
    const configFile = join(dir, 'tocsin.yml');
    const probe = (id: keyof typeof targets) =>
      `  - { id: ${id}-http, kind: http, component: ${id}, url: "http://127.0.0.1:${targets[id].port}/", interval: 300ms, timeout: 250ms }`;
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
components:
  - { id: gateway, name: Datacenter gateway, group: Infrastructure, region: PAR }
  - { id: svc1, name: Service 1, group: Apps, region: PAR, depends_on: [gateway] }
  - { id: svc2, name: Service 2, group: Apps, region: PAR, depends_on: [gateway] }
  - { id: svc3, name: Service 3, group: Apps, region: PAR, depends_on: [gateway] }
probes:
${(['gateway', 'svc1', 'svc2', 'svc3'] as const).map(probe).join('\n')}
notifiers:
  # group_wait as shipped (15s): what a subscriber of openings and resolutions hears.
  - { kind: webhook, url: "${receiver.url}/grouped", events: [incident.opened, incident.resolved] }
  - { kind: webhook, url: "${receiver.url}/at-once", events: [incident.opened, incident.rerooted], group_wait: 0s }
`,
    );
    const { daemon: running, url } = await DaemonProcess.start(configFile, dir);
    daemon = running;
    const headers = { authorization: `Bearer ${readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim()}` };
    const api = async <T>(path: string): Promise<T> => (await fetch(`${url}${path}`, { headers })).json() as Promise<T>;
    const incidents = async () => (await api<{ incidents: Incident[] }>('/api/v1/incidents')).incidents;
    const delivered = (path: string) => receiver.deliveries.filter((d) => d.path === path);

    type Probes = { probes: { latest: { ok: boolean }[] }[] };
    await waitFor(async () => {
      const { probes } = await api<Probes>('/api/v1/probes');
      return probes.length === 4 && probes.every((p) => p.latest[0]?.ok) ? true : undefined;
    }, 15_000);

    // svc1 first: a draft rooted at it, stored and served at once.
    await targets.svc1.stop();
    const draft = await waitFor(async () => (await incidents())[0], 15_000);
    expect(draft.root_component).toBe('svc1');
    // Then the gateway, and every service behind it.
    await Promise.all([targets.gateway.stop(), targets.svc2.stop(), targets.svc3.stop()]);
    // The draft is served without waiting for any notifier; the grouped one has sent nothing yet
    // (its group_wait is 15 s from the draft, which appeared a moment ago).
    expect(delivered('/grouped')).toEqual([]);

    const rerooted = await waitFor(async () => {
      const all = await incidents();
      return all.find((i) => i.root_component === 'gateway');
    }, 20_000);
    // The same incident, re-rooted (not a second one).
    expect(rerooted.id).toBe(draft.id);
    expect(await incidents()).toHaveLength(1);

    // group_wait 0s: the draft as it was at once, then the re-root as its own event.
    const atOnce = await waitFor(() => {
      const mine = delivered('/at-once');
      return mine.some((d) => d.event === 'incident.rerooted') ? mine : undefined;
    }, 20_000);
    expect(atOnce.map((d) => [d.event, d.incident.id, d.incident.root_component])).toEqual([
      ['incident.opened', draft.id, 'svc1'],
      ['incident.rerooted', draft.id, 'gateway'],
    ]);
    expect(atOnce[1]?.reroot).toEqual({ from: 'svc1', to: 'gateway' });

    // The default group_wait: one opening, naming the gateway and what failed behind it.
    const grouped = await waitFor(() => {
      const mine = delivered('/grouped');
      return mine.length > 0 ? mine : undefined;
    }, 30_000);
    expect(grouped).toHaveLength(1);
    const [first] = grouped;
    expect(first?.event).toBe('incident.opened');
    expect(first?.incident.id).toBe(draft.id);
    expect(first?.incident.root_component).toBe('gateway');
    expect(first?.incident.components[0]?.id).toBe('gateway');
    expect(first?.incident.components.map((c) => c.id)).toEqual(expect.arrayContaining(['gateway', 'svc1', 'svc2']));
    // The entries since the draft came with it, its re-root among them.
    expect(first?.entries[0]?.kind).toBe('opened');
    expect(first?.entries.map((e) => e.kind)).toContain('rerooted');

    // Repaired: the resolution follows the one opening.
    for (const t of Object.values(targets)) await t.start();
    const closed = await waitFor(() => {
      const mine = delivered('/grouped');
      return mine.some((d) => d.event === 'incident.resolved') ? mine : undefined;
    }, 30_000);
    expect(closed.map((d) => [d.event, d.incident.root_component])).toEqual([
      ['incident.opened', 'gateway'],
      ['incident.resolved', 'gateway'],
    ]);

    running.signal('SIGTERM');
    expect(await running.exited).toBe(0);
  }, 120_000);
});
