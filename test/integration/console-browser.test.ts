import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonProcess } from '../helpers/cli.js';
import { Target } from '../helpers/target.js';
import { launchChromium } from '../helpers/chromium.js';

// The console in a real browser: Debian's Chromium driven by playwright-core (never a downloaded
// browser), against a `tocsin run` child process probing real loopback HTTP targets. A stopped
// target's draft must appear on the open page without a reload; one draft is dismissed with a
// reason, another confirmed and then found on the public status page. Screenshots go to
// test-artifacts/ (gitignored).

const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');

describe('operator console in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tocsin-console-browser-'));
  const profile = mkdtempSync(join(tmpdir(), 'tocsin-chromium-profile-'));
  const configFile = join(dir, 'tocsin.yml');
  const shop = new Target();
  const api = new Target();
  let daemon: DaemonProcess | undefined;
  let url = '';
  let browser: BrowserContext | undefined;
  let page: Page;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await shop.start();
    await api.start();
    // No tokens in the config: the daemon generates the operator token in data/operator.token.
    writeFileSync(
      configFile,
      `server: { listen: 127.0.0.1:0 }
store: { kind: sqlite, path: ${join(dir, 'data', 'tocsin.db')} }
components:
  - { id: shop, name: Web shop, group: Storefront, region: PAR }
  - { id: api, name: Public API, group: Platform, region: PAR }
probes:
  - { id: shop-home, kind: http, component: shop, url: "http://127.0.0.1:${shop.port}/", interval: 300ms, timeout: 250ms }
  - { id: api-health, kind: http, component: api, url: "http://127.0.0.1:${api.port}/health", interval: 300ms, timeout: 250ms }
`,
    );
    const started = await DaemonProcess.start(configFile, dir);
    daemon = started.daemon;
    url = started.url;
    browser = await launchChromium(profile, { width: 1280, height: 900 });
    page = browser.pages()[0] ?? (await browser.newPage());
  });

  afterAll(async () => {
    await browser?.close();
    daemon?.kill();
    await shop.stop();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  });

  const draftCard = (text: string) => page.locator('[data-live="drafts"] article[data-review="pending"]', { hasText: text });

  it('signs in, shows a new draft without a reload, dismisses one, confirms another onto /status', async () => {
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    await page.fill('#token', 'wrong-token');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('.flash.error')).toContain('not valid');

    const token = readFileSync(join(dir, 'data', 'operator.token'), 'utf8').trim();
    await page.fill('#token', token);
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}/`);
    // From here on, no script error and no failed request on the console's pages (the public
    // page's favicon request is not the console's business).
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    page.on('console', (msg) => {
      const where = msg.location().url;
      if (msg.type() === 'error' && !where.endsWith('/favicon.ico')) errors.push(`${where}: ${msg.text()}`);
    });
    expect(await page.textContent('.who')).toContain('local-operator');
    expect(await page.textContent('[data-live="drafts"]')).toContain('No drafts waiting');
    // The probes table fills in from live results.
    await page.locator('[data-probe="shop-home"] .ok').first().waitFor({ timeout: 15_000 });
    expect(await page.context().cookies()).toEqual([
      expect.objectContaining({ name: 'tocsin_session', httpOnly: true, sameSite: 'Strict', secure: false, path: '/' }),
    ]);

    // A marker on the window survives only as long as the page is not reloaded.
    await page.evaluate(() => {
      (globalThis as { consoleMarker?: string }).consoleMarker = 'same page';
    });
    await shop.stop();
    await draftCard('Web shop').waitFor({ timeout: 20_000 });
    await api.stop();
    await draftCard('Public API').waitFor({ timeout: 20_000 });
    expect(await page.evaluate(() => (globalThis as { consoleMarker?: string }).consoleMarker)).toBe('same page');
    expect(await page.title()).toMatch(/^\(2\) Tocsin console$/);
    const shopCard = draftCard('Web shop');
    expect(await shopCard.textContent()).toContain('connect_refused');
    expect(await shopCard.locator('.timeline li').first().textContent()).toContain('opened');
    expect(await page.getAttribute('[data-component="shop"]', 'data-status')).toBe('major_outage');
    await page.screenshot({ path: join(ARTIFACTS, 'console-drafts.png'), fullPage: true });
    // The first screen alone (README's docs/console.png is a copy of one run's).
    await page.screenshot({ path: join(ARTIFACTS, 'console-overview.png') });

    // Live updates swap a changed card in place (here: a note added through the JSON API)...
    const shopId = await shopCard.getAttribute('data-key');
    const apiId = await draftCard('Public API').getAttribute('data-key');
    const note = async (id: string | null, text: string) => {
      const res = await fetch(`${url}/api/v1/incidents/${id}/notes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
      expect(res.status).toBe(200);
    };
    await note(apiId, 'Vendor ticket 4711 opened');
    await page.locator(`article[data-key="${apiId}"] .timeline`, { hasText: 'Vendor ticket 4711' }).waitFor({ timeout: 15_000 });
    // ...but never under the hands of an operator typing in it: the half-written reason survives.
    const reason = shopCard.locator('form[data-verb="dismiss"] input[name="reason"]');
    await reason.fill('Planned restart of the shop');
    await note(shopId, 'Change ticket CHG-99');
    // Two completed polls: the second surely started after the note was stored.
    for (let i = 0; i < 2; i++) {
      const before = await page.textContent('#live-state');
      await expect.poll(() => page.textContent('#live-state'), { timeout: 15_000 }).not.toBe(before);
    }
    expect(await reason.inputValue()).toBe('Planned restart of the shop');
    expect(await page.evaluate(() => (globalThis as { consoleMarker?: string }).consoleMarker)).toBe('same page');

    // Dismiss the shop's draft: the reason is required (the browser will not submit without it).
    await shopCard.locator('button[data-action="dismiss"]').click();
    await expect.poll(() => page.textContent('.flash.ok')).toContain(`Dismissed ${shopId}`);
    expect(await page.locator(`[data-live="recent"] article[data-key="${shopId}"]`).getAttribute('data-review')).toBe('dismissed');
    const dismissed = await page.locator(`[data-live="recent"] article[data-key="${shopId}"] .timeline`).textContent();
    expect(dismissed).toContain('Change ticket CHG-99');
    expect(dismissed).toContain('Dismissed by local-operator: Planned restart of the shop');

    // Confirm the API's draft: it moves to the open incidents and onto the public page.
    const apiCard = draftCard('Public API');
    await apiCard.locator('input[name="note"]').first().fill('We are investigating errors on the public API.');
    await apiCard.locator('button[data-action="confirm"]').click();
    await expect.poll(() => page.textContent('.flash.ok')).toContain(`Confirmed ${apiId}`);
    expect(await page.locator(`[data-live="open"] article[data-key="${apiId}"]`).count()).toBe(1);
    expect(await page.locator('[data-live="drafts"] article').count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'console-confirmed.png'), fullPage: true });

    // Retitle it, post an update in a phase, and write an incident of our own, all from the forms.
    const openCard = page.locator(`[data-live="open"] article[data-key="${apiId}"]`);
    await openCard.locator('details.edit summary').click();
    await openCard.locator('form[data-verb="edit"] input[name="title"]').fill('Public API errors');
    await openCard.locator('button[data-action="edit"]').click();
    await expect.poll(() => page.textContent('.flash.ok')).toContain(`Edited ${apiId}: Public API errors`);
    await openCard.locator('form[data-verb="notes"] input[name="text"]').fill('A bad deploy; rolling back.');
    await openCard.locator('form[data-verb="notes"] select[name="phase"]').selectOption('identified');
    await openCard.locator('button[data-action="notes"]').click();
    await expect.poll(() => page.textContent('.flash.ok')).toContain(`Note added to ${apiId}`);
    await page.locator('details.write summary').click();
    const write = page.locator('form[data-verb="create"]');
    await write.locator('input[name="title"]').fill('Payment provider delays');
    await write.locator('textarea[name="components"]').fill('shop=degraded');
    await write.locator('input[name="update"]').fill('Our payment provider reports delays.');
    await write.locator('select[name="phase"]').selectOption('investigating');
    await write.locator('button[data-action="create"]').click();
    await expect.poll(() => page.textContent('.flash.ok')).toContain('Published inc_');

    await page.goto(`${url}/status`);
    const published = page.locator(`article#${apiId}`);
    expect(await published.textContent()).toContain('We are investigating errors on the public API.');
    expect(await published.textContent()).toContain('Public API errors');
    expect(await published.textContent()).toMatch(/EDIT \d\d:\d\d UTC — Identified: A bad deploy; rolling back\./);
    expect(await page.textContent('body')).toContain('Our payment provider reports delays.');
    expect(await page.locator(`article#${shopId}`).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'console-status-page.png'), fullPage: true });

    // On a phone: nothing wider than the screen, the actions still there.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${url}/`);
    const overflow = await page.evaluate(() => {
      type Doc = { documentElement: { scrollWidth: number; clientWidth: number } };
      const root = (globalThis as unknown as { document: Doc }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.locator(`[data-live="open"] article[data-key="${apiId}"] button[data-action="resolve"]`).isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'console-phone.png'), fullPage: true });

    // Sign out: back to the form, and the console is closed to this browser.
    await page.click('button[data-action="sign-out"]');
    await page.waitForURL(`${url}/console/sign-in`);
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(errors).toEqual([]);
  });
});
