/**
 * The stream worker's JSON for the dashboard (`GET /metrics.json`, the contract of
 * docs/dashboard.md): `{topics: {[topic]: {recordsPerSec, lag: {[partition]: n}, dlq,
 * freshnessP99Ms}}}`, derived from the worker's Prometheus metrics. `recordsPerSec` is the
 * rate over the last ~10 s (sampled once a second); `freshnessP99Ms` is the upper bound of the
 * histogram bucket holding the 99th percentile (null before any record).
 */
/** The slice of prom-client metrics this reads (the stream worker's own registry's). */
interface MetricValues {
  get(): Promise<{
    values: {
      value: number;
      labels: Record<string, string | number | undefined>;
      metricName?: string;
    }[];
  }>;
}
interface StreamMetricsSlice {
  records: MetricValues;
  lag: MetricValues;
  dlq: MetricValues;
  freshness: MetricValues;
}

interface TopicJson {
  recordsPerSec: number;
  lag: Record<string, number>;
  dlq: number;
  freshnessP99Ms: number | null;
}

type Sample = { at: number; counts: Map<string, number> };

export class StreamDashboardJson {
  readonly #metrics: StreamMetricsSlice;
  readonly #samples: Sample[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(metrics: StreamMetricsSlice) {
    this.#metrics = metrics;
    this.#timer = setInterval(() => void this.#sample(), 1000);
    this.#timer.unref();
  }

  async #counts(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const v of (await this.#metrics.records.get()).values) {
      const topic = String(v.labels.topic);
      out.set(topic, (out.get(topic) ?? 0) + v.value);
    }
    return out;
  }

  async #sample(): Promise<void> {
    this.#samples.push({ at: Date.now(), counts: await this.#counts() });
    while (this.#samples.length > 11) this.#samples.shift();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async json(): Promise<{ topics: Record<string, TopicJson> }> {
    const now = { at: Date.now(), counts: await this.#counts() };
    const first = this.#samples[0] ?? now;
    const seconds = Math.max((now.at - first.at) / 1000, 1e-3);
    const topics: Record<string, TopicJson> = {};
    const topic = (name: string): TopicJson =>
      (topics[name] ??= { recordsPerSec: 0, lag: {}, dlq: 0, freshnessP99Ms: null });
    for (const [name, count] of now.counts) {
      topic(name).recordsPerSec =
        first === now ? 0 : (count - (first.counts.get(name) ?? 0)) / seconds;
    }
    for (const v of (await this.#metrics.lag.get()).values)
      topic(String(v.labels.topic)).lag[String(v.labels.partition)] = v.value;
    for (const v of (await this.#metrics.dlq.get()).values)
      topic(String(v.labels.topic)).dlq += v.value;
    const buckets = new Map<string, { le: number; count: number }[]>();
    const totals = new Map<string, number>();
    for (const v of (await this.#metrics.freshness.get()).values) {
      const name = String(v.labels.topic);
      if (v.metricName?.endsWith('_bucket')) {
        const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
        (buckets.get(name) ?? buckets.set(name, []).get(name)!).push({ le, count: v.value });
      } else if (v.metricName?.endsWith('_count')) totals.set(name, v.value);
    }
    for (const [name, list] of buckets) {
      const total = totals.get(name) ?? 0;
      if (total === 0) continue;
      const hit = list.sort((a, b) => a.le - b.le).find((b) => b.count >= 0.99 * total);
      // Histogram buckets are in seconds.
      topic(name).freshnessP99Ms = hit && Number.isFinite(hit.le) ? hit.le * 1000 : null;
    }
    return { topics };
  }
}
