/**
 * The dashboard's Freshness tab in Debian's headless Chromium: the scheduled views' next and last
 * runs (`larder scheduler`'s history), next to the feature views' freshness.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../core/duration.ts';
import { recordEnd, recordStart } from '../../scheduler/run-history.ts';
import { serveRepo, T0, type Served } from '../api/serve-fixture.ts';
import { launchChromium } from '../support/chromium.ts';
import { tempRepo } from '../support/temp-repo.ts';
import { SCHEDULED_REPO } from './scheduled-repo.ts';

const CACHE = join(import.meta.dirname, '../../.cache');
const repo = tempRepo({ 'repo.ts': SCHEDULED_REPO });
let s: Served;
let browser: BrowserContext;
let page: Page;
let profile: string;
const pageErrors: string[] = [];

beforeAll(async () => {
  s = await serveRepo(repo.dir);
  const base = { view: 'activity', attempts: 3, scheduler: 'h:1:a' };
  recordStart(s.home, { ...base, id: 'a', slot: T0 - HOUR_MS, attempt: 1, start: T0 - 3_000 });
  recordEnd(s.home, { id: 'a', end: T0 - 1_000, outcome: 'success', rows: 1234, error: null });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = s.app.server.address() as AddressInfo;
  mkdirSync(CACHE, { recursive: true });
  profile = mkdtempSync(join(CACHE, 'chromium-profile-'));
  browser = await launchChromium(profile, { viewport: { width: 1440, height: 900 } });
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(`http://127.0.0.1:${port}/ui`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await s?.close();
  repo.cleanup();
});

describe('dashboard: scheduled materialization', () => {
  it('shows each scheduled view with its schedule, next run and last run', async () => {
    await page.getByRole('tab', { name: 'Freshness' }).click();
    const panel = page.locator('#panel-freshness');
    await panel.getByText('Scheduled materialization').waitFor({ timeout: 15_000 });
    const activity = await panel.locator('tr', { hasText: 'every 1h' }).innerText();
    expect(activity).toContain('activity');
    expect(activity).toContain('success');
    expect(activity).toContain('attempt 1/3');
    expect(activity).toContain('1,234');
    const counts = await panel.locator('tr', { hasText: '0 2 * * *' }).innerText();
    expect(counts).toContain('counts');
    expect(counts).toContain('never');
    expect(await panel.locator('tr', { hasText: 'plain' }).count()).toBe(1); // freshness only
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
