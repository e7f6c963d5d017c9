/**
 * Avro schemas for the Confluent wire format. The writer schema of a record is the one its
 * schema id names in a Schema Registry (`GET <url>/schemas/ids/<id>`, fetched with global
 * fetch and cached per id) when a URL is given, else the repository's `.avsc` file of the
 * source whatever the id. Records are read by Avro schema resolution, writer → reader (the
 * repository's `.avsc`): fields the writer added are skipped, fields it dropped take the
 * reader's defaults. Without an `.avsc`, or when the two cannot be resolved, the writer's own
 * view is returned (unknown fields are then ignored by the record decoder).
 *
 * A registry that cannot be reached, or answers 5xx / 429, is LARDER_SCHEMA_REGISTRY_UNAVAILABLE
 * (transient: the stream worker retries); an id it does not know (4xx) is a bad record.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import avro from 'avsc';
import { LarderError } from '../core/errors.ts';

/** The slice of an avsc Type the decoder uses. */
export interface AvroType {
  fromBuffer(buffer: Buffer, resolver?: unknown): unknown;
  toBuffer(value: unknown): Buffer;
  createResolver(writer: AvroType): unknown;
}

export interface AvroSchemas {
  /** The writer type of schema `id` for `source` (rejects when the registry has no such id). */
  typeFor(source: string, id: number): Promise<AvroType>;
  /** Decodes an Avro body written with schema `id`, resolved to the source's reader schema. */
  decode(source: string, id: number, body: Buffer): Promise<unknown>;
}

/**
 * @param avscFiles source name → `.avsc` path (absolute, or relative to `root`), the fallback
 *   writer schema and the reader schema.
 * @example
 * const schemas = createAvroSchemas({ registryUrl: config.stream.schemaRegistryUrl ?? undefined, root: repo.root, avscFiles: { transactions: 'avro/transactions.avsc' } });
 */
export function createAvroSchemas(opts: {
  registryUrl?: string | undefined;
  root: string;
  avscFiles: Record<string, string | null>;
}): AvroSchemas {
  const byId = new Map<number, Promise<AvroType>>();
  const local = new Map<string, AvroType | null>();
  const resolvers = new Map<string, { writer: AvroType; resolver: unknown }>();
  const readerOf = (source: string): AvroType | null => {
    if (!local.has(source)) {
      const file = opts.avscFiles[source];
      local.set(
        source,
        file
          ? (avro.Type.forSchema(
              JSON.parse(readFileSync(resolve(opts.root, file), 'utf8')) as avro.Schema,
            ) as unknown as AvroType)
          : null,
      );
    }
    return local.get(source)!;
  };
  const fromFile = (source: string): AvroType => {
    const t = readerOf(source);
    if (!t)
      throw new Error(
        `no Avro schema for source "${source}" (set avroSchema, or LARDER_SCHEMA_REGISTRY_URL)`,
      );
    return t;
  };
  const unavailable = (url: string, why: string, cause?: unknown): LarderError =>
    new LarderError('LARDER_SCHEMA_REGISTRY_UNAVAILABLE', `schema registry at ${url}: ${why}`, {
      cause,
      hint: 'is the schema registry up? (LARDER_SCHEMA_REGISTRY_URL); records wait until it answers',
    });
  const fetchId = async (id: number): Promise<AvroType> => {
    const url = `${opts.registryUrl!.replace(/\/$/, '')}/schemas/ids/${id}`;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      const cause = (e as Error).cause as Error | undefined;
      throw unavailable(url, cause?.message ?? (e as Error).message, e);
    }
    if (res.status >= 500 || res.status === 429)
      throw unavailable(url, `${res.status} for schema id ${id}`);
    if (!res.ok) throw new Error(`schema registry: ${res.status} for schema id ${id}`);
    const body = (await res.json()) as { schema?: string };
    if (typeof body.schema !== 'string')
      throw new Error(`schema registry: no schema in the answer for id ${id}`);
    return avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema) as unknown as AvroType;
  };
  const typeFor = (source: string, id: number): Promise<AvroType> => {
    if (!opts.registryUrl) return Promise.resolve().then(() => fromFile(source));
    let p = byId.get(id);
    if (!p) {
      p = fetchId(id);
      byId.set(id, p);
      // Failures are not cached: the next record asks again.
      p.catch(() => byId.delete(id));
    }
    return p;
  };
  return {
    typeFor,
    async decode(source, id, body) {
      const writer = await typeFor(source, id);
      const reader = readerOf(source);
      if (!reader || reader === writer) return writer.fromBuffer(body);
      const key = `${source}\u0000${id}`;
      let r = resolvers.get(key);
      if (!r || r.writer !== writer) {
        let resolver: unknown = null;
        try {
          resolver = reader.createResolver(writer);
        } catch {
          // Not resolvable (e.g. a new required field without default): the writer's view.
        }
        resolvers.set(key, (r = { writer, resolver }));
      }
      return r.resolver === null ? writer.fromBuffer(body) : reader.fromBuffer(body, r.resolver);
    },
  };
}
