/**
 * Per-field null counts of ingested records, the data-quality signal the stream worker and the
 * push path export continuously (`larder_stream_field_nulls_total`,
 * `larder_push_field_nulls_total`): a field's null rate is its nulls over the records counted
 * beside them. The fields are the schema's leaves: scalars, record members (`context.ip`), and
 * the declared keys of maps (`properties.productId`; a map without declared keys counts as one
 * field, null when absent). Arrays count as one field (null when absent or null).
 *
 * @example
 * const q = fieldQuality(batchSpec.schema);
 * const nulls = q.countNulls(records); // nulls[i] for q.fields[i]
 */
import type { FieldType, RecordType } from '../definitions/record-schema.ts';

export interface FieldQuality {
  /** Field paths, in schema order. */
  readonly fields: readonly string[];
  /** Nulls (or absent values) per field of {@link fields} among `records`. */
  countNulls(records: readonly unknown[]): number[];
}

type Getter = (rec: unknown) => unknown;

function leaves(type: FieldType, path: string, get: Getter, out: [string, Getter][]): void {
  if (type.kind === 'record') {
    for (const [k, f] of Object.entries(type.fields)) {
      const child: Getter = (r) => {
        const v = get(r);
        return v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
      };
      leaves(f, path ? `${path}.${k}` : k, child, out);
    }
    return;
  }
  if (type.kind === 'map' && type.keys) {
    for (const k of type.keys) {
      const child: Getter = (r) => {
        const v = get(r);
        return v !== null && typeof v === 'object' && Object.hasOwn(v, k)
          ? (v as Record<string, unknown>)[k]
          : undefined;
      };
      out.push([`${path}.${k}`, child]);
    }
    return;
  }
  out.push([path, get]);
}

const cache = new WeakMap<RecordType, FieldQuality>();

/** The quality counter of a record schema (built once per schema object). */
export function fieldQuality(schema: RecordType): FieldQuality {
  let q = cache.get(schema);
  if (q) return q;
  const list: [string, Getter][] = [];
  leaves(schema, '', (r) => r, list);
  const getters = list.map(([, g]) => g);
  q = {
    fields: list.map(([p]) => p),
    countNulls(records) {
      const nulls = new Array<number>(getters.length).fill(0);
      for (const r of records)
        for (let i = 0; i < getters.length; i++) {
          const v = getters[i]!(r);
          if (v === null || v === undefined) nulls[i]!++;
        }
      return nulls;
    },
  };
  cache.set(schema, q);
  return q;
}
