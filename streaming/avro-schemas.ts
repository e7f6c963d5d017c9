/**
 * Avro writer schemas for the Confluent wire format: from a Schema Registry
 * (`GET <url>/schemas/ids/<id>`, fetched with global fetch and cached per id) when a URL is
 * given, else the repository's `.avsc` file of the source whatever the id.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import avro from 'avsc';

/** The slice of an avsc Type the decoder uses. */
export interface AvroType {
  fromBuffer(buffer: Buffer): unknown;
  toBuffer(value: unknown): Buffer;
}

export interface AvroSchemas {
  /** The writer type of schema `id` for `source` (rejects when the registry has no such id). */
  typeFor(source: string, id: number): Promise<AvroType>;
}

/**
 * @param avscFiles source name → `.avsc` path (absolute, or relative to `root`), the fallback.
 * @example
 * const schemas = createAvroSchemas({ registryUrl: process.env.LARDER_SCHEMA_REGISTRY_URL, root: repo.root, avscFiles: { transactions: 'avro/transactions.avsc' } });
 */
export function createAvroSchemas(opts: {
  registryUrl?: string | undefined;
  root: string;
  avscFiles: Record<string, string | null>;
}): AvroSchemas {
  const byId = new Map<number, Promise<AvroType>>();
  const local = new Map<string, AvroType>();
  const fromFile = (source: string): AvroType => {
    let t = local.get(source);
    if (!t) {
      const file = opts.avscFiles[source];
      if (!file)
        throw new Error(
          `no Avro schema for source "${source}" (set avroSchema, or LARDER_SCHEMA_REGISTRY_URL)`,
        );
      t = avro.Type.forSchema(
        JSON.parse(readFileSync(resolve(opts.root, file), 'utf8')) as avro.Schema,
      ) as AvroType;
      local.set(source, t);
    }
    return t;
  };
  const fetchId = async (id: number): Promise<AvroType> => {
    const url = `${opts.registryUrl!.replace(/\/$/, '')}/schemas/ids/${id}`;
    const res = await fetch(url);
    if (!res.ok) throw new Error(`schema registry: ${res.status} for schema id ${id}`);
    const body = (await res.json()) as { schema?: string };
    if (typeof body.schema !== 'string')
      throw new Error(`schema registry: no schema in the answer for id ${id}`);
    return avro.Type.forSchema(JSON.parse(body.schema) as avro.Schema) as AvroType;
  };
  return {
    async typeFor(source, id) {
      if (!opts.registryUrl) return fromFile(source);
      let p = byId.get(id);
      if (!p) {
        p = fetchId(id);
        byId.set(id, p);
        // Failures are not cached: the next record asks again.
        p.catch(() => byId.delete(id));
      }
      return p;
    },
  };
}
