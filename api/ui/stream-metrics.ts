/**
 * Client of the stream worker's JSON metrics (the contract is in `docs/dashboard.md`):
 * `{topics: {[topic]: {recordsPerSec, lag: {[partition]: n}, dlq, freshnessP99Ms}}}`.
 * Never throws: an unreachable or malformed endpoint is reported as a status for the page.
 */
import { z } from 'zod';

export const StreamMetricsSchema = z.object({
  topics: z.record(
    z.string(),
    z.object({
      /** Records applied per second (the worker's own recent window). */
      recordsPerSec: z.number().nonnegative(),
      /** Consumer lag (records) per partition. */
      lag: z.record(z.string(), z.number().int().nonnegative()),
      /** Records sent to `<topic>.dlq` since the worker started. */
      dlq: z.number().int().nonnegative(),
      /** p99 of (apply time − event time), ms; null before the first record. */
      freshnessP99Ms: z.number().nonnegative().nullable(),
    }),
  ),
});

export type StreamMetrics = z.infer<typeof StreamMetricsSchema>;

export type StreamStatus =
  | { status: 'none' }
  | { status: 'ok'; url: string; metrics: StreamMetrics }
  | { status: 'error'; url: string; message: string };

/**
 * @example
 * const s = await fetchStreamMetrics(ctx.streamMetricsUrl);
 * if (s.status === 'ok') s.metrics.topics['user-events']?.recordsPerSec;
 */
export async function fetchStreamMetrics(
  url: string | undefined,
  timeoutMs = 1000,
): Promise<StreamStatus> {
  if (!url) return { status: 'none' };
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return { status: 'error', url, message: `HTTP ${res.status} from ${url}` };
    const parsed = StreamMetricsSchema.safeParse(await res.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      return {
        status: 'error',
        url,
        message: `bad metrics JSON at ${issue.path.join('.') || '(root)'}: ${issue.message}`,
      };
    }
    return { status: 'ok', url, metrics: parsed.data };
  } catch (e) {
    return { status: 'error', url, message: `${url}: ${(e as Error).message}` };
  }
}
