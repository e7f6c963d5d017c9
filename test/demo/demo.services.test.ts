/**
 * The main job end to end: `npm run demo` (smaller data) on the embedded stores, its skew report
 * on its own logged reads, its printed curl commands answered, the dashboard loaded against the running demo in headless Chromium
 * with live values on its views, and Ctrl-C (SIGINT) stopping everything cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchChromium } from '../support/chromium.ts';
import { afterAll, describe, expect, it } from 'vitest';

const PORT = 18566;
const base = `http://127.0.0.1:${PORT}`;
const dir = mkdtempSync(join(tmpdir(), 'larder-demo-'));
let demo: ChildProcess | null = null;
let output = '';

afterAll(() => {
  demo?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const post = async (
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> => {
  const r = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
};

describe('npm run demo', () => {
  it('runs the main job, serves it with live events and the dashboard, and stops on Ctrl-C', async () => {
    demo = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'examples/ecommerce/demo.ts',
        '--port',
        String(PORT),
        '--events',
        '40000',
        '--users',
        '200',
        '--products',
        '100',
      ],
      {
        env: { ...process.env, LARDER_HOME: join(dir, 'home'), LARDER_DATA_DIR: join(dir, 'data') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = performance.now() + 240_000;
    while (
      !output.includes('Larder is running') &&
      performance.now() < deadline &&
      demo.exitCode === null
    ) {
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(output, output.slice(-2000)).toContain('Larder is running');
    for (const step of [
      'larder gen-data',
      'larder apply',
      'larder materialize',
      'larder label',
      'larder export',
      'larder serve',
    ]) {
      expect(output).toContain(step);
    }
    expect(output).toContain(`Dashboard:      ${base}/ui`);
    // One deliberately strict expectation fails on the demo's own data: reported, not fatal.
    expect(output).toContain('larder validate --source user_events_batch');
    expect(output).toMatch(/FAILED\s+batch_source:user_events_batch\s+userId\s+null rate ≤ 0%/);
    expect(output).toContain('error [LARDER_EXPECTATION_FAILED]');
    expect(output).toContain('the gate failed (exit 1) as intended');
    expect(existsSync(join(dir, 'home', 'validation', 'validation.html'))).toBe(true);
    // One skew report on the demo's own data: 3 logged reads × 20 rows of
    // recommendation_v1_logged, each of its 26 features compared on every row.
    expect(output).toContain('larder skew --service recommendation_v1_logged');
    expect(output).toContain('(dashboard: Serving tab)');
    const skew = JSON.parse(
      readFileSync(join(dir, 'home', 'skew', 'recommendation_v1_logged.json'), 'utf8'),
    ) as { rows: number; features: { feature: string; compared: number; share: number }[] };
    expect(skew.rows).toBe(60);
    expect(skew.features).toHaveLength(26);
    for (const f of skew.features) {
      expect(f.compared, f.feature).toBe(60);
      expect(f.share, f.feature).toBeGreaterThanOrEqual(0);
      expect(f.share, f.feature).toBeLessThanOrEqual(1);
    }
    // The one page view each of u00001 and u00002 pushed to the online store only: their rows
    // (one each) differ in page_views_1h; no other user's row does.
    const views = skew.features.find((f) => f.feature === 'page_views_1h') as unknown as {
      differing: number;
      examples: { entities: { user_id: string } }[];
    };
    expect(views.differing).toBe(2);
    expect(['u00001', 'u00002']).toContain(views.examples[0]!.entities.user_id);
    expect(output).toMatch(/page_views_1h\s+60\s+2\s+3\.33%/);
    // Version 2 and the batch views: exported beside recommendation_v1, materialized and served.
    expect(existsSync(join(dir, 'data', 'training', 'recommendation_v2.parquet'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'training', 'batch_v1.parquet'))).toBe(true);
    const batch = await post('/get-online-features', {
      feature_service: 'batch_v1',
      entities: { user_id: ['u00001'], product_id: ['p00001'] },
    });
    expect(batch.status).toBe(200);
    expect((batch.json.metadata as { feature_names: string[] }).feature_names).toEqual([
      'user_id',
      'product_id',
      'recency_days',
      'frequency_30d',
      'monetary_30d',
      'segment',
      'popularity_score',
      'distinct_viewers_7d',
    ]);

    // The three printed curl commands.
    const features = await post('/get-online-features', {
      feature_service: 'recommendation_v1',
      entities: { user_id: ['u00001'], product_id: ['p00001'] },
    });
    expect(features.status).toBe(200);
    const results = features.json.results as { statuses: string[] }[];
    expect(results).toHaveLength(28);
    expect(results.filter((r) => r.statuses[0] === 'PRESENT').length).toBeGreaterThan(10);
    const rank = await post('/v1/models/ranker_v1/rank', {
      user_id: 'u00001',
      candidates: ['p00001', 'p00002', 'p00003', 'p00004'],
      top_k: 3,
    });
    expect(rank.status).toBe(200);
    expect((rank.json.items as unknown[]).length).toBe(3);
    const push = await post('/push', {
      push_source_name: 'user_events',
      to: 'online',
      df: {
        eventId: ['evt-demo-test'],
        userId: ['u00001'],
        sessionId: ['s-demo'],
        eventType: ['page_view'],
        timestamp: [Date.now()],
        properties: [{ productId: 'p00001', category: 'electronics', price: '19.99' }],
        context: [{ userAgent: 'curl', ip: '127.0.0.1', platform: 'desktop', referrer: null }],
      },
    });
    expect(push.status, JSON.stringify(push.json)).toBe(200);

    // Live events keep flowing: the dashboard's real-time view shows them.
    const profile = mkdtempSync(join(tmpdir(), 'larder-chromium-'));
    const browser = await launchChromium(profile);
    try {
      const page = await browser.newPage();
      /** Opens a tab and polls its panel's text until `ok` accepts it (20 s). */
      const tabText = async (
        name: string,
        id: string,
        ok: (t: string) => boolean,
      ): Promise<string> => {
        await page.getByRole('tab', { name }).click();
        let text = '';
        for (let i = 0; i < 80; i++) {
          text = await page.locator(`#panel-${id}`).innerText();
          if (ok(text)) return text;
          await new Promise((r) => setTimeout(r, 250));
        }
        await page.screenshot({ path: `.cache/demo-dashboard-${id}-failed.png`, fullPage: true });
        throw new Error(`dashboard tab ${name} never showed what was expected; it shows:\n${text}`);
      };
      await page.goto(`${base}/ui`);
      const registry = await tabText('Registry', 'registry', (t) => t.includes('page_views_1h'));
      expect(registry).toContain('recommendation_v1');
      // Live events keep arriving through /push: the real-time view counts them.
      const realtime = await tabText(
        'Real-time',
        'realtime',
        (t) => /EVENTS, LAST MINUTE\s+[1-9]/i.test(t) && /p\d{5}/.test(t),
      );
      expect(realtime).toMatch(/Top products by views/i);
      const serving = await tabText(
        'Serving',
        'serving',
        (t) => t.includes('/push') && t.includes('recommendation_v1_logged: 60 logged rows'),
      );
      expect(serving).toContain('/get-online-features');
      await page.screenshot({ path: '.cache/demo-dashboard.png', fullPage: true });
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }

    // Ctrl-C stops the demo and its server.
    const exited = new Promise<number | null>((r) => demo!.once('exit', (code) => r(code)));
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    const after = await fetch(`${base}/health`).then(
      () => 'up',
      () => 'down',
    );
    expect(after).toBe('down');
    demo = null;
  }, 300_000);
});
