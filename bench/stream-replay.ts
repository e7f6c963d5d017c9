/**
 * The stream worker's apply path without Kafka, shared by `bench/stream-cpu.ts`,
 * `bench/stream-ab.ts` and `bench/stream-decode-ab.ts`: generated `user_events` and `transactions` encoded as the producer
 * sends them (JSON), spread over 3 partitions by key, and replayed in batches of 5,000 per
 * partition (the worker's `maxBatchRecords`), partitions interleaved batch by batch, through the
 * same steps as `StreamWorker#apply` — the record decoder, a fold (`foldRecords`) and
 * `OnlineStore.applyStreamBatch` with the partition's checkpoint — timing each step's CPU.
 *
 * @example
 * const { parts, events } = partitionedMessages(50_000, Date.now());
 * const spent = await replayBatches({ parts, sources: byName, fold, store, group: 'bench' });
 */
import { join } from 'node:path';
import { generateRecords } from '../examples/ecommerce/datagen/index.ts';
import type { LifetimeWrite, TileWrite } from '../aggregation/tiles.ts';
import type { OnlineStore } from '../online/online-store.ts';
import type * as Load from '../definitions/load.ts';
import type * as AvroSchemas from '../streaming/avro-schemas.ts';
import type * as StreamSource from '../streaming/stream-source.ts';
import type * as Restrict from './restrict-to-service.ts';

const PARTITIONS = 3;
const BATCH = 5000;

/** A stream source as the replay uses it (`streaming/stream-source.ts`). */
export interface ReplaySource {
  name: string;
  topic: string;
  fields: { timestampField: string; idField: string };
  decode(m: Buffer): Promise<{ ok: true; record: Record<string, unknown> } | { ok: false }>;
}

/**
 * One source tree's e-commerce repository, restricted to `service` ('' = every view), and its
 * stream sources by name, with the tree's own modules imported from `root` (two trees A/B'd in
 * one process each decode with their own code); the ingest clock pinned to `now`.
 */
export async function treeStreamSources(
  root: string,
  service: string,
  now: number,
): Promise<{
  repo: Awaited<ReturnType<typeof Load.loadRepository>>;
  byName: Map<string, ReplaySource>;
}> {
  const imp = async <T>(p: string) => (await import(join(root, p))) as T;
  const load = await imp<typeof Load>('definitions/load.ts');
  const avro = await imp<typeof AvroSchemas>('streaming/avro-schemas.ts');
  const source = await imp<typeof StreamSource>('streaming/stream-source.ts');
  const restrict = await imp<typeof Restrict>('bench/restrict-to-service.ts');
  const repo = restrict.restrictToService(
    await load.loadRepository(join(root, 'examples/ecommerce/features')),
    service,
  );
  const sources = source.streamSources(repo, {
    avro: avro.createAvroSchemas({ root: repo.root, avscFiles: {} }),
    ingest: { clock: () => now, maxFutureSkewMs: 5 * 60_000, maxKeyBytes: 1024 },
  });
  return { repo, byName: new Map([...sources.values()].map((s) => [s.name, s])) };
}

/** CPU milliseconds of this process so far (user + system). */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Messages per `topic\u0000partition`, in production order, and the number of user events. */
export function partitionedMessages(
  events: number,
  end: number,
): { parts: Map<string, Buffer[]>; events: number } {
  const parts = new Map<string, Buffer[]>();
  let userEvents = 0;
  for (const { topic, record } of generateRecords({
    users: 20_000,
    products: 5_000,
    days: 1,
    events,
    seed: 1,
    end,
  })) {
    if (topic === 'user_events') userEvents++;
    const r = record as Record<string, unknown>;
    const key = String(r.userId ?? r.sessionId);
    let h = 0;
    for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
    const id = `${topic}\u0000${Math.abs(h) % PARTITIONS}`;
    let list = parts.get(id);
    if (!list) parts.set(id, (list = []));
    list.push(Buffer.from(JSON.stringify(r)));
  }
  return { parts, events: userEvents };
}

/**
 * Replays every batch of `parts` into `store`; returns the CPU ms spent decoding, folding and
 * storing. `onFolded` sees each batch's writes (to count them).
 */
export async function replayBatches(opts: {
  parts: Map<string, Buffer[]>;
  sources: Map<string, ReplaySource>;
  fold: (
    source: string,
    records: Record<string, unknown>[],
    fields: ReplaySource['fields'],
  ) => { tiles: TileWrite[]; lifetime: LifetimeWrite[] };
  store: Pick<OnlineStore, 'applyStreamBatch'>;
  group: string;
  onFolded?: (folded: { tiles: TileWrite[]; lifetime: LifetimeWrite[] }) => void;
}): Promise<{ decode: number; fold: number; store: number }> {
  const spent = { decode: 0, fold: 0, store: 0 };
  const cursors = [...opts.parts].map(([id, msgs]) => ({ id, msgs, at: 0 }));
  for (let more = true; more;) {
    more = false;
    for (const c of cursors) {
      if (c.at >= c.msgs.length) continue;
      more = true;
      const [topic, partition] = c.id.split('\u0000') as [string, string];
      const src = opts.sources.get(topic)!;
      const chunk = c.msgs.slice(c.at, c.at + BATCH);
      const from = c.at;
      c.at += chunk.length;
      let t = cpuMs();
      const good: Record<string, unknown>[] = [];
      for (const m of chunk) {
        const d = await src.decode(m);
        if (d.ok) good.push(d.record);
      }
      let t2 = cpuMs();
      spent.decode += t2 - t;
      t = t2;
      const folded = opts.fold(src.name, good, src.fields);
      t2 = cpuMs();
      spent.fold += t2 - t;
      t = t2;
      opts.onFolded?.(folded);
      const outcome = await opts.store.applyStreamBatch({
        tiles: folded.tiles,
        lifetime: folded.lifetime,
        checkpoint: {
          group: opts.group,
          topic: src.topic,
          partition: Number(partition),
          from,
          offset: c.at - 1,
        },
      });
      if (outcome !== 'applied') throw new Error(`batch ${c.id}@${from}: ${outcome}`);
      spent.store += cpuMs() - t;
    }
  }
  return spent;
}
