/**
 * Per-field null counts (`streaming/field-quality.ts`): schema leaves, record members, declared
 * map keys, absent values counted as null.
 */
import { describe, expect, it } from 'vitest';
import type { RecordType } from '../../definitions/record-schema.ts';
import { fieldQuality } from '../../streaming/field-quality.ts';

const schema: RecordType = {
  kind: 'record',
  nullable: false,
  fields: {
    id: { kind: 'string', nullable: false },
    userId: { kind: 'string', nullable: true },
    properties: {
      kind: 'map',
      nullable: false,
      values: { kind: 'string', nullable: true },
      keys: ['productId', 'price'],
    },
    tags: { kind: 'map', nullable: true, values: { kind: 'string', nullable: false } },
    context: {
      kind: 'record',
      nullable: true,
      fields: { ip: { kind: 'string', nullable: true }, n: { kind: 'int64', nullable: false } },
    },
    items: { kind: 'array', nullable: true, items: { kind: 'int64', nullable: false } },
  },
};

describe('fieldQuality', () => {
  it('lists the schema leaves: members of records and the declared keys of maps', () => {
    expect(fieldQuality(schema).fields).toEqual([
      'id',
      'userId',
      'properties.productId',
      'properties.price',
      'tags',
      'context.ip',
      'context.n',
      'items',
    ]);
  });

  it('counts null and absent values per field, through null parents', () => {
    const q = fieldQuality(schema);
    const nulls = q.countNulls([
      { id: 'a', userId: null, properties: { productId: 'p1' }, context: { ip: '1.2.3.4', n: 1 } },
      { id: 'b', userId: 'u', properties: {}, tags: {}, context: null, items: [] },
      { id: 'c', properties: { productId: null, price: '9.5' }, context: { n: 2 }, items: null },
    ]);
    expect(Object.fromEntries(q.fields.map((f, i) => [f, nulls[i]]))).toEqual({
      id: 0,
      userId: 2,
      'properties.productId': 2,
      'properties.price': 2,
      tags: 2,
      'context.ip': 2,
      'context.n': 1,
      items: 2,
    });
    expect(q.countNulls([])).toEqual(new Array(8).fill(0));
  });

  it('is built once per schema object', () => {
    expect(fieldQuality(schema)).toBe(fieldQuality(schema));
  });
});
