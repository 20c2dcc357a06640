import { existsSync } from 'node:fs';
import { type BrowserContext, chromium } from 'playwright-core';

/** Debian's Chromium (scripts/install-test-deps.sh), driven by playwright-core: never a downloaded browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** The flags Chromium needs on a machine with no network beyond loopback (and as root). */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A headless Chromium with its profile in `profile`; throws, naming the package, when it is missing. */
export async function launchChromium(
  profile: string,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-test-deps.sh)`);
  }
  const options = { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport };
  return chromium.launchPersistentContext(profile, options);
}
