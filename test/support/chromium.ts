/**
 * Debian's chromium for the browser tests (`npm run services:up` installs it), headless, in a
 * profile of the test's own, without background traffic (no component updates, sync or QUIC).
 *
 * @example
 * const browser = await launchChromium(mkdtempSync(join(tmpdir(), 'larder-chromium-')));
 */
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(
  profile: string,
  options: { viewport?: { width: number; height: number } } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    ...options,
  });
}
