/**
 * `larder serve` prints the exact URLs to open, on a port browsers accept by default, and warns
 * when the chosen port is one browsers refuse (Feast's 6566 among them).
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/config.ts';
import { BROWSER_BLOCKED_PORTS, serveBanner } from '../../cli/serve-banner.ts';

describe('serve banner', () => {
  it('the default port is one browsers open', () => {
    const config = resolveConfig({}, '/proj', {});
    expect(config.serve.port).toBe(8566);
    expect(BROWSER_BLOCKED_PORTS.has(config.serve.port)).toBe(false);
  });

  it('prints the dashboard and docs URLs, and no warning on a safe port', () => {
    expect(serveBanner('127.0.0.1', 8566, 3)).toEqual([
      'larder: REST on http://127.0.0.1:8566, registry version 3',
      'larder: dashboard http://127.0.0.1:8566/ui · API docs http://127.0.0.1:8566/docs',
    ]);
  });

  it('a wildcard or IPv6 host becomes an address a browser can open', () => {
    expect(serveBanner('0.0.0.0', 8080, 1)[1]).toBe(
      'larder: dashboard http://127.0.0.1:8080/ui · API docs http://127.0.0.1:8080/docs',
    );
    expect(serveBanner('::', 8080, 1)[1]).toContain('http://[::1]:8080/ui');
    expect(serveBanner('::1', 8080, 1)[1]).toContain('http://[::1]:8080/ui');
  });

  it.each([6566, 6665, 6669, 6697, 10080])('warns that browsers refuse port %i', (port) => {
    const lines = serveBanner('127.0.0.1', port, 1);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(
      `larder: browsers refuse port ${port} (a blocked port of the Fetch standard): the dashboard and API docs open only on another port, e.g. --port 8566; API clients (curl, Feast's SDK) are not affected`,
    );
  });
});
