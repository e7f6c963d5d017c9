/**
 * What `larder serve` prints once it listens: the exact URLs of the API, the dashboard and the
 * API docs, and a warning when browsers refuse the port.
 */

/**
 * The ports browsers refuse to load over HTTP: the "bad ports" of the Fetch standard
 * (https://fetch.spec.whatwg.org/#port-blocking), which Chromium (`kRestrictedPorts` in
 * net/base/port_util.cc), Firefox and Safari implement. Feast's default 6566 (sane-port) is one
 * of them, so is IRC's 6665–6669.
 */
export const BROWSER_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102,
  103, 104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465,
  512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993,
  995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668,
  6669, 6679, 6697, 10080,
]);

/** A port browsers open, suggested when the chosen one is blocked (`npm run demo` uses it too). */
export const BROWSER_SAFE_PORT = 8566;

/** The host to put in a URL: a wildcard address is reached on loopback; IPv6 in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** The lines `serve` prints after the REST server listens on `host:port`. */
export function serveBanner(host: string, port: number, registryVersion: number): string[] {
  const base = `http://${urlHost(host)}:${port}`;
  const lines = [
    `larder: REST on ${base}, registry version ${registryVersion}`,
    `larder: dashboard ${base}/ui · API docs ${base}/docs`,
  ];
  if (BROWSER_BLOCKED_PORTS.has(port))
    lines.push(
      `larder: browsers refuse port ${port} (a blocked port of the Fetch standard): the dashboard and API docs open only on another port, e.g. --port ${port === BROWSER_SAFE_PORT ? 8567 : BROWSER_SAFE_PORT}; API clients (curl, Feast's SDK) are not affected`,
    );
  return lines;
}
