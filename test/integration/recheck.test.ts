import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess, waitFor } from '../helpers/cli.js';
import { storedIncidents } from '../helpers/stored-incidents.js';
import { Target } from '../helpers/target.js';

// Re-checks in the embedded daemon: a probe every 10 s against a real loopback HTTP server. When
// the server stops, the failed check is re-checked 2 s later, twice: three failures in a row
// open the draft before the next regular check. When it is back after a failure of six checks in
// a row (as many as `intermittent` needs to judge), one re-check confirms the recovery. A probe
// with `recheck: false` on the same server is never re-checked.

/** The value of one sample of the exposition, undefined when the series is absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('re-checks in the daemon (real HTTP target, 10s interval)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-recheck-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const configFile = join(dir, 'tocsin.yml');
  const target = new Target();
  let daemon: DaemonProcess | undefined;

  beforeAll(async () => {
    await target.start();
    const url = `http://127.0.0.1:${target.port}/`;
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: web, name: Web shop }
  - { id: web-b, name: Web shop B }
probes:
  - { id: web-home, kind: http, component: web, url: "${url}", interval: 10s, timeout: 1s, recheck: { interval: 2s } }
  - { id: web-plain, kind: http, component: web-b, url: "${url}", interval: 10s, timeout: 1s, recheck: false }
`,
    );
  });
  afterAll(async () => {
    daemon?.kill();
    await target.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('confirms a failure and a recovery with re-checks, then goes back to the interval', async () => {
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    const metrics = async () => (await fetch(`${started.url}/metrics`)).text();
    const home = (result: string) => `tocsin_rechecks_total{probe="web-home",result="${result}"}`;
    const homeChecks = (result: 'success' | 'failure', error = '') =>
      `tocsin_probe_checks_total{probe="web-home",kind="http",vantage="local",result="${result}",error="${error}"}`;
    // The first regular check (its slot is within 10 s of the start) succeeds.
    await waitFor(async () => ((sample(await metrics(), homeChecks('success')) ?? 0) >= 1 ? true : undefined), 60_000, 250);
    expect(sample(await metrics(), home('failed'))).toBeUndefined();

    await target.stop();
    const [draft] = await waitFor(() => {
      const all = storedIncidents(dbFile).filter((i) => i.root_component === 'web');
      return all.length > 0 ? all : undefined;
    }, 90_000, 250);
    const signal = draft?.signals[0];
    expect(signal).toMatchObject({ rule: 'outage', probe: 'web-home', error: 'connect_refused' });
    // Two re-checks failed after the regular check: the three failures in a row of `outage`.
    const atDraft = await metrics();
    expect(sample(atDraft, home('failed'))).toBe(2);
    expect(sample(atDraft, homeChecks('failure', 'connect_refused'))).toBeGreaterThanOrEqual(3);
    // The re-checks came within the probe's interval: the draft did not wait for two more slots.
    expect(Date.parse(draft?.opened_at ?? '') - Date.parse(signal?.since ?? '')).toBeLessThan(10_000);
    // The other probe is never re-checked.
    expect(atDraft).not.toContain('tocsin_rechecks_total{probe="web-plain"');
    // Down for six checks in a row (three more regular ones): its end is no flapping streak.
    await waitFor(async () => ((sample(await metrics(), homeChecks('failure', 'connect_refused')) ?? 0) >= 6 ? true : undefined), 60_000, 250);
    expect(sample(await metrics(), home('failed'))).toBe(2);

    await target.start();
    const resolved = await waitFor(() => {
      const found = storedIncidents(dbFile).find((i) => i.id === draft?.id);
      return found?.status === 'resolved' ? found : undefined;
    }, 90_000, 250);
    expect(resolved.timeline.map((t) => t.kind)).toEqual(['opened', 'recovered', 'resolved']);
    const atRecovery = await metrics();
    // One re-check confirmed the recovery (recover_after: 2); none ran after it.
    expect(sample(atRecovery, home('ok'))).toBe(1);
    expect(sample(atRecovery, home('failed'))).toBe(2);
    expect(sample(atRecovery, home('skipped'))).toBeUndefined();
    const successes = sample(atRecovery, homeChecks('success')) ?? 0;
    // Back on its interval: the next check is the next regular slot, with no re-check after it.
    await waitFor(async () => ((sample(await metrics(), homeChecks('success')) ?? 0) > successes ? true : undefined), 60_000, 250);
    const after = await metrics();
    expect(sample(after, home('ok'))).toBe(1);
    expect(after).not.toContain('tocsin_rechecks_total{probe="web-plain"');
  }, 300_000);
});
