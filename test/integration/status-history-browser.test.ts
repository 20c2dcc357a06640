import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type Daemon, startDaemon } from '../../src/daemon.js';
import type { Incident } from '../../src/events/incident.js';
import { createLogger } from '../../src/log.js';
import { HISTORY_SINCE_KEY } from '../../src/status/history.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { incident } from '../helpers/store-contract.js';
import { saveDoc } from '../helpers/store-writes.js';
import { launchChromium } from '../helpers/chromium.js';

// The status page's uptime bars in Debian's Chromium (playwright-core, as console-browser.test.ts):
// a daemon whose store holds 90 days of incidents (confirmed ones, a pending draft and a dismissed
// one that must colour nothing) and a weekly maintenance window. The page must render its 90
// bars per component under its CSP with no error, with each bar's title and the text summary.
// The screenshot is docs/status-page-history.png when TOCSIN_WRITE_SCREENSHOTS=1 (the one in
// the docs comes from such a run), else it goes to the temporary directory.

const H = 3_600_000;
const DAY = 24 * H;

describe('status page uptime bars in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-status-bars-'));
  const profile = mkdtempSync(join(tmpdir(), 'tocsin-chromium-profile-'));
  const dbFile = join(dir, 'data', 'tocsin.db');
  const screenshot =
    process.env.TOCSIN_WRITE_SCREENSHOTS === '1'
      ? join(import.meta.dirname, '..', '..', 'docs', 'status-page-history.png')
      : join(dir, 'status-page-history.png');
  const now = Date.now();
  const today = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00.000Z`);
  const iso = (ms: number) => new Date(ms).toISOString();
  let daemon: Daemon | undefined;
  let browser: BrowserContext | undefined;
  let page: Page;

  /** A confirmed incident on `days` ago, from `from` to `to` hours into that day. */
  const past = (id: string, days: number, from: number, to: number, components: Incident['components'], over: Partial<Incident> = {}) =>
    incident(id, iso(today - days * DAY + from * H), {
      review: 'confirmed',
      status: 'resolved',
      resolved_at: iso(today - days * DAY + to * H),
      root_component: components[0]?.id ?? '',
      components,
      ...over,
    });

  beforeAll(async () => {
    const configFile = join(dir, 'tocsin.yml');
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${dbFile} }
components:
  - { id: hv-par6-008, name: Hypervisor hv-par6-008, group: Infrastructure, region: PAR }
  - { id: lb-public-par, name: Public load balancers, group: Infrastructure, region: PAR }
  - { id: pg, name: PostgreSQL add-ons, group: Databases, region: PAR, depends_on: [hv-par6-008] }
  - { id: redis, name: Redis add-ons, group: Databases, region: PAR }
  - { id: api, name: Public API, group: Platform, depends_on: [lb-public-par] }
  - { id: console, name: Customer console, group: Platform, depends_on: [lb-public-par] }
probes: []
maintenance:
  - { id: pg-weekly, title: PostgreSQL minor upgrades, components: [pg], cron: "0 2 * * 0", duration: 2h }
`,
    );
    const loaded = await loadConfig(configFile, { cwd: dir });
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));

    // 90 days of history, stored as a daemon running all along would have left it.
    const seed = SqliteStore.open(dbFile);
    await seed.putState(HISTORY_SINCE_KEY, today - 89 * DAY);
    const docs = [
      past('inc_lb', 71, 13, 14.5, [{ id: 'lb-public-par', impact: 'partial_outage' }, { id: 'api', impact: 'partial_outage' }, { id: 'console', impact: 'degraded_performance' }], { title: 'Public load balancers: 1 of 4 serving an old configuration' }),
      past('inc_redis', 52, 9, 9.75, [{ id: 'redis', impact: 'major_outage' }], { title: 'Redis add-ons unreachable' }),
      past('inc_hv', 33, 3, 7, [{ id: 'hv-par6-008', impact: 'major_outage' }, { id: 'pg', impact: 'major_outage' }], { title: 'Hypervisor hv-par6-008 down' }),
      past('inc_api_slow', 20, 10, 22, [{ id: 'api', impact: 'degraded_performance' }], { title: 'Public API: slow responses' }),
      past('inc_console', 6, 15, 16, [{ id: 'console', impact: 'partial_outage' }], { title: 'Customer console: sign-in failing for some users' }),
      // Never public: a pending draft and a dismissed false alarm, on a component otherwise clean.
      past('inc_draft', 12, 0, 12, [{ id: 'redis', impact: 'major_outage' }], { review: 'pending' }),
      past('inc_false_alarm', 3, 0, 20, [{ id: 'redis', impact: 'major_outage' }], { review: 'dismissed' }),
      // Ongoing, published: today's bar.
      incident('inc_now', iso(now - 40 * 60_000), {
        title: 'Public API: elevated error rates',
        review: 'confirmed',
        root_component: 'api',
        components: [{ id: 'api', impact: 'partial_outage' }],
      }),
    ];
    for (const doc of docs) await saveDoc(seed, doc, null);
    await seed.close();

    daemon = await startDaemon({ plan: loaded.plan, logger: createLogger('silent'), env: {} });
    browser = await launchChromium(profile, { width: 900, height: 1000 });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop(0);
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  it('draws 90 bars per component with titles and a text summary, under the page\'s CSP', async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      // A CSP violation is reported on the console; the missing favicon is not the page's.
      if (msg.type() === 'error' && !msg.text().includes('favicon')) errors.push(msg.text());
    });
    // History of the seeded incidents is reconciled at start, in the background: reload until it shows.
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.goto(`${daemon?.url}/status`);
      if ((await page.locator('[data-component="hv-par6-008"] rect[data-worst="major_outage"]').count()) > 0) break;
      if (Date.now() > deadline) throw new Error('history of the seeded incidents never showed');
      await new Promise((r) => setTimeout(r, 250));
    }

    for (const id of ['hv-par6-008', 'lb-public-par', 'pg', 'redis', 'api', 'console']) {
      expect(await page.locator(`[data-component="${id}"] svg.bars rect`).count()).toBe(90);
    }
    const bars = await page.locator('[data-component="api"] svg.bars').boundingBox();
    expect(bars?.width ?? 0).toBeGreaterThan(300);
    expect(bars?.height ?? 0).toBeGreaterThan(10);

    const hvDay = iso(today - 33 * DAY).slice(0, 10);
    expect(await page.locator(`[data-component="hv-par6-008"] rect[data-day="${hvDay}"] title`).textContent()).toBe(
      `${hvDay}: 83.33% uptime, Major outage`,
    );
    // The pending draft and the dismissed incident colour nothing: one day with incidents only.
    const redis = page.locator('[data-component="redis"]');
    expect(await redis.locator('rect[data-worst="major_outage"]').count()).toBe(1);
    expect(await redis.locator('.sr').textContent()).toMatch(/^99\.\d\d% uptime over 90 days; 1 day with incidents: /);
    // The weekly window: blue bars on pg, and on nothing that does not depend on hv or pg.
    expect(await page.locator('[data-component="pg"] rect[data-worst="under_maintenance"]').count()).toBeGreaterThanOrEqual(11);
    expect(await page.locator('[data-component="redis"] rect[data-worst="under_maintenance"]').count()).toBe(0);
    // Today's bar of the ongoing incident.
    expect(await page.locator('[data-component="api"] rect').last().getAttribute('data-worst')).toBe('partial_outage');
    expect(await page.locator('script').count()).toBe(0);
    expect(errors).toEqual([]);

    await page.screenshot({ path: screenshot, fullPage: true });
    const png = readFileSync(screenshot);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
  });
});
