/**
 * The Avro stream path of the differential fuzzer, in process: each record as a producer with
 * the source's Avro schema would send it — Confluent wire format (magic byte 0, a 4-byte schema
 * id, the Avro body) — decoded by the stream worker's own decoders (`streamSources`: schema
 * resolution writer → the repository's `.avsc`, the zod schema, the ingest rules), then folded
 * into a fresh store in arrival order as the worker folds (records older than its cutoff
 * skipped), and read against the reference.
 *
 * The writer schema of a record with extra top-level fields whose names Avro allows is the
 * `.avsc` plus those fields (served by an in-process schema registry, one id per field set);
 * other records are written with the `.avsc` itself (id 1), which carries no other field. A
 * record the `.avsc` cannot carry (an `int` beyond 32 bits: the zod schema allows int64) is sent
 * as JSON, which JSON-encoded sources take on the same topic.
 *
 * Every record's decoding must equal the decoding of its JSON (the Kafka fuzz test's encoding):
 * the same record, or the same dead-letter reason; and a record is dead-lettered exactly when
 * push refuses it (`onlineRefusals`).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import avro from 'avsc';
import { DEFAULT_PUSH_LIMITS } from '../../api/push/default-push-handler.ts';
import type { Repository } from '../../definitions/repository.ts';
import { applyRecords } from '../../streaming/apply-records.ts';
import { createAvroSchemas } from '../../streaming/avro-schemas.ts';
import { streamSources, type StreamSourceRuntime } from '../../streaming/stream-source.ts';
import {
  checkOnline,
  onlineAcceptedCase,
  onlineRefusals,
  type Mismatch,
  type StoreFactory,
} from './differential.ts';
import type { FuzzCase } from './fuzz-case.ts';

type Rec = Record<string, unknown>;

/** An Avro name: the only extra fields a writer schema can declare. */
const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** The type of an extra field (the generator's extras: strings, integers, null, integer arrays). */
const EXTRA_TYPE = ['null', 'string', 'double', { type: 'array', items: 'double' }];

/** A schema registry in process (`GET /schemas/ids/<id>`), ids from 1. */
export interface AvroProducer {
  /** The wire-format bytes of `record`, or null when its Avro schema cannot carry it. */
  encode(source: string, record: Rec): Buffer | null;
  registryUrl: string;
  close(): Promise<void>;
}

export async function openAvroProducer(repo: Repository): Promise<AvroProducer> {
  const schemas: string[] = [];
  const ids = new Map<string, number>();
  const types = new Map<number, avro.Type>();
  const register = (schema: object): number => {
    const text = JSON.stringify(schema);
    let id = ids.get(text);
    if (id === undefined) {
      schemas.push(text);
      id = schemas.length;
      ids.set(text, id);
      types.set(id, avro.Type.forSchema(schema as avro.Schema));
    }
    return id;
  };
  const avsc = new Map<string, { schema: { fields: object[] }; names: Set<string> }>();
  for (const s of repo.streamSources.values()) {
    const schema = JSON.parse(readFileSync(resolve(repo.root, s.spec.avroSchema!), 'utf8')) as {
      fields: { name: string }[];
    };
    avsc.set(s.spec.name, { schema, names: new Set(schema.fields.map((f) => f.name)) });
    register(schema);
  }
  const server = http.createServer((req, res) => {
    const id = Number(/^\/schemas\/ids\/(\d+)$/.exec(req.url ?? '')?.[1]);
    const schema = schemas[id - 1];
    res.writeHead(schema ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(schema ? { schema } : { error_code: 40403 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    registryUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    encode(source, record) {
      const { schema, names } = avsc.get(source)!;
      const extras = Object.keys(record).filter((k) => !names.has(k) && AVRO_NAME.test(k));
      const id = register(
        extras.length === 0
          ? schema
          : {
              ...schema,
              fields: [
                ...schema.fields,
                ...extras.map((name) => ({ name, type: EXTRA_TYPE, default: null })),
              ],
            },
      );
      const type = types.get(id)!;
      if (!type.isValid(record)) return null;
      const head = Buffer.alloc(5);
      head.writeUInt32BE(id, 1);
      return Buffer.concat([head, type.toBuffer(record)]);
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** JSON text of a decoded record or reason, -0 as 0 (JSON has no -0), keys sorted. */
const canonical = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x as Rec).sort(([a], [b]) => (a < b ? -1 : 1)))
      : x,
  );

/**
 * Decodes the case's records as the worker does, Avro where the schema can carry them, and
 * folds them into a fresh store (batches of `chunk` records of one source, arrival order); then
 * compares online reads with the reference. `stats.avro` counts the records sent as Avro.
 */
export async function checkAvroStreamed(
  path: string,
  producer: AvroProducer,
  factory: StoreFactory,
  repo: Repository,
  c: FuzzCase,
  stats: { avro: number; json: number } = { avro: 0, json: 0 },
  chunk = 7,
): Promise<Mismatch[]> {
  const ingest = {
    clock: () => c.now,
    maxFutureSkewMs: DEFAULT_PUSH_LIMITS.maxFutureSkewMs,
    maxKeyBytes: DEFAULT_PUSH_LIMITS.maxKeyBytes,
  };
  const avscFiles = Object.fromEntries(
    [...repo.streamSources.values()].map((s) => [s.spec.name, s.spec.avroSchema]),
  );
  const runtimes = new Map<string, StreamSourceRuntime>(
    [
      ...streamSources(repo, {
        avro: createAvroSchemas({ registryUrl: producer.registryUrl, root: repo.root, avscFiles }),
        ingest,
      }).values(),
    ].map((r) => [r.name, r]),
  );
  const store = factory({
    namespace: `fuzz-${randomUUID()}`,
    views: [...repo.featureViews.values()].map((v) => v.spec),
    clock: () => c.now,
  });
  await store.init();
  try {
    const out: Mismatch[] = [];
    const problem = (r: FuzzCase['records'][number], got: unknown, want: unknown): void => {
      out.push({
        path,
        feature: `(decoding of ${r.source} record)`,
        key: String(r.record.eventId ?? r.record.transactionId),
        t: r.record.timestamp as number,
        got,
        want,
      });
    };
    for (let i = 0; i < c.records.length;) {
      const source = c.records[i]!.source;
      const src = runtimes.get(source)!;
      const fresh: Rec[] = [];
      const cutoff = src.maxAgeMs > 0 ? c.now - src.maxAgeMs : -Infinity;
      for (let n = 0; n < chunk && i < c.records.length && c.records[i]!.source === source; n++) {
        const r = c.records[i++]!;
        const json = await src.decode(Buffer.from(JSON.stringify(r.record)));
        const wire = producer.encode(source, r.record);
        const got = wire ? await src.decode(wire) : json;
        stats[wire ? 'avro' : 'json']++;
        if (canonical(got) !== canonical(json)) problem(r, canonical(got), canonical(json));
        const refused = onlineRefusals(c, r).length > 0;
        if (got.ok === refused)
          problem(r, got.ok ? 'decoded' : got.reason, refused ? 'a dead letter' : 'decoded');
        if (got.ok && (got.record[src.fields.timestampField] as number) >= cutoff)
          fresh.push(got.record);
      }
      await applyRecords(repo, store, source, fresh, src.fields);
    }
    return [...out, ...(await checkOnline(path, store, repo, onlineAcceptedCase(c)))];
  } finally {
    await store.teardown();
    await store.close();
  }
}
