/**
 * The load generator of the HTTP benchmarks (`bench/serve.ts`, `bench/peers/run.ts`): CONCURRENCY
 * keep-alive connections on loopback, each sending its next POST as soon as the previous answer
 * ends, for a fixed duration. Reports client latency quantiles, the server's own time when it sends
 * `Server-Timing: …;dur=MS`, throughput and the number of non-200 answers; with `tagOf`, server-time
 * quantiles per tag too (`bench/serve.ts`: the hottest decile of products and the rest). Run it in
 * its own process (`bench/load-process.ts`) so it does not share the server's cores.
 */
import http from 'node:http';

export interface Stats {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Server-Timing quantiles; NaN when the server sends none. */
  sp50: number;
  sp99: number;
  rps: number;
  errors: number;
  requests: number;
}

/** {@link Stats} with Server-Timing quantiles per tag (`LoadOptions.tagOf`). */
export interface TaggedStats extends Stats {
  byTag: Record<string, { sp50: number; sp99: number; requests: number }>;
}

export interface LoadOptions {
  port: number;
  path: string;
  concurrency: number;
  seconds: number;
  /** Body of the i-th request (i counts across all connections). */
  bodyOf: (i: number) => string;
  /** Tag of the i-th request, to report server time per tag. */
  tagOf?: (i: number) => string;
  host?: string;
}

const q = (a: Float64Array, p: number): number =>
  a.length === 0 ? Number.NaN : a[Math.min(a.length - 1, Math.floor(p * a.length))]!;

export const median = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function drive(o: LoadOptions): Promise<TaggedStats> {
  const host = o.host ?? '127.0.0.1';
  const agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  const client: number[] = [];
  const server: number[] = [];
  const tagged = new Map<string, number[]>();
  let errors = 0;
  let i = 0;
  const end = performance.now() + o.seconds * 1000;
  const one = (body: string, tag: string | undefined): Promise<void> =>
    new Promise((res) => {
      const t = performance.now();
      const req = http.request(
        {
          host,
          port: o.port,
          path: o.path,
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (r) => {
          r.on('data', () => undefined);
          r.on('end', () => {
            client.push(performance.now() - t);
            const st = /dur=([\d.]+)/.exec(String(r.headers['server-timing'] ?? ''));
            if (st) {
              server.push(Number(st[1]));
              if (tag !== undefined) {
                let list = tagged.get(tag);
                if (!list) tagged.set(tag, (list = []));
                list.push(Number(st[1]));
              }
            }
            if (r.statusCode !== 200) errors++;
            res();
          });
        },
      );
      req.on('error', () => {
        errors++;
        res();
      });
      req.end(body);
    });
  const start = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (performance.now() < end) {
        const n = i++;
        await one(o.bodyOf(n), o.tagOf?.(n));
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  agent.destroy();
  const c = Float64Array.from(client).sort();
  const s = Float64Array.from(server).sort();
  const byTag: TaggedStats['byTag'] = {};
  for (const [tag, list] of tagged) {
    const t = Float64Array.from(list).sort();
    byTag[tag] = { sp50: q(t, 0.5), sp99: q(t, 0.99), requests: t.length };
  }
  return {
    p50: q(c, 0.5),
    p90: q(c, 0.9),
    p99: q(c, 0.99),
    max: c.length ? c[c.length - 1]! : Number.NaN,
    sp50: q(s, 0.5),
    sp99: q(s, 0.99),
    rps: client.length / secs,
    errors,
    requests: client.length,
    byTag,
  };
}
