/**
 * A JSON POST retried after a network error, a timeout or a non-2xx answer (`baseDelayMs`,
 * then twice that, four times … apart): the scheduler's failure webhook and the alert
 * webhooks (docs/operations.md "Scheduler", docs/monitoring.md "Alerts").
 */
export interface PostJsonOptions {
  /** Further POSTs after a failed one. */
  retries: number;
  /** Delay before the first retry (default 1000 ms). */
  baseDelayMs?: number;
  /** Per attempt (default 10 s). */
  timeoutMs?: number;
  headers?: Readonly<Record<string, string>>;
}

/** True once an attempt got a 2xx, false after `retries` more failed. */
export async function postJson(
  url: string,
  body: unknown,
  opts: PostJsonOptions,
): Promise<boolean> {
  const text = JSON.stringify(body);
  for (let i = 0; i <= opts.retries; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, (opts.baseDelayMs ?? 1000) * 2 ** (i - 1)));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { ...opts.headers, 'content-type': 'application/json' },
        body: text,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
      });
      await res.arrayBuffer();
      if (res.ok) return true;
    } catch {
      // a network error or a timeout: retry
    }
  }
  return false;
}
