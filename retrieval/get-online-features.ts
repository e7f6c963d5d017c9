/**
 * Online retrieval: Feast's `get_online_features` over Larder's online store. Validates the
 * column-wise entity rows, deduplicates entity keys per group of views sharing join keys, reads
 * every needed view in ONE `readMany`, runs the on-demand transforms column-wise, and returns
 * Feast's column-wise response (join keys and request fields first, then features).
 */
import { featurePlan, type FeaturePlan, type FeatureRef } from './feature-plan.ts';
import { badRequest, storeFailure } from '../core/errors.ts';
import { evaluateOnDemand } from '../definitions/on-demand-eval.ts';
import type { Repository } from '../definitions/repository.ts';
import { listElement, type ValueType } from '../core/types.ts';
import type {
  FeatureStatus,
  OnlineStore,
  ReadRequest,
  ReadResult,
} from '../online/online-store.ts';

/** A request as Feast's feature server takes it, already shape-checked. */
export interface OnlineFeaturesRequest {
  ref: FeatureRef;
  /** Column-wise entity rows: join keys and request-data fields, all of one length. */
  entities: Readonly<Record<string, readonly unknown[]>>;
  fullFeatureNames: boolean;
  /** Evaluation time, epoch ms (default: now). */
  t?: number;
}

/**
 * One output column: a value, a status and an event time (epoch ms, null = none) per row. The
 * status and event-time lists are read-only: a list of one status in every row, and one of no
 * event times, is shared between columns and responses (frozen).
 */
export interface OnlineColumn {
  name: string;
  /** Value type, null for a request-data column passed through. */
  type: ValueType | null;
  values: unknown[];
  statuses: readonly FeatureStatus[];
  eventTs: readonly (number | null)[];
}

/** A one-row column's status list, one frozen list per status, shared. */
const ONE_ROW_STATUS: Readonly<Record<FeatureStatus, readonly FeatureStatus[]>> = {
  PRESENT: Object.freeze(['PRESENT']),
  NOT_FOUND: Object.freeze(['NOT_FOUND']),
  NULL_VALUE: Object.freeze(['NULL_VALUE']),
  OUTSIDE_MAX_AGE: Object.freeze(['OUTSIDE_MAX_AGE']),
};
/** A one-row column's event times when it has none, shared. */
const ONE_ROW_NO_TS: readonly null[] = Object.freeze([null]);

/**
 * Frozen lists of `n` equal items (a status, or null for no event time) shared between columns
 * and responses, by item and `n`: a request of 1 user × N products has a status list of N
 * `PRESENT`s in nearly every column. Bounded: cleared when full.
 */
const sameLists = new Map<string, readonly (FeatureStatus | null)[]>();
const SAME_LISTS_MAX = 256;

function sameList<T extends FeatureStatus | null>(item: T, n: number): readonly T[] {
  const key = `${n}:${item}`;
  let list = sameLists.get(key);
  if (list === undefined) {
    if (sameLists.size >= SAME_LISTS_MAX) sameLists.clear();
    list = Object.freeze(new Array<T>(n).fill(item));
    sameLists.set(key, list);
  }
  return list as readonly T[];
}

/** `n` rows of one status: a shared frozen list. */
const sameStatus = (status: FeatureStatus, n: number): readonly FeatureStatus[] =>
  n === 1 ? ONE_ROW_STATUS[status] : sameList(status, n);
/** `n` rows without an event time: a shared frozen list. */
const noEventTs = (n: number): readonly null[] => (n === 1 ? ONE_ROW_NO_TS : sameList(null, n));

export interface OnlineFeaturesResponse {
  columns: OnlineColumn[];
}

/** What retrieval needs from its surroundings. */
export interface RetrievalContext {
  repo: Repository;
  store: Pick<OnlineStore, 'readMany'>;
  maxEntityRows: number;
  /** Called with the store's read time in ms (metrics). */
  onStoreRead?: (ms: number) => void;
}

function checkType(v: unknown, type: ValueType): boolean {
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'int64':
      return Number.isSafeInteger(v);
    case 'float64':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'string_list':
    case 'int64_list':
    case 'float64_list':
      return Array.isArray(v) && v.every((x) => x !== null && checkType(x, listElement(type)));
  }
}

function checkColumns(plan: FeaturePlan, req: OnlineFeaturesRequest, max: number): number {
  let n = -1;
  let first = '';
  for (const name in req.entities) {
    const col = req.entities[name]!;
    const keyType = plan.joinKeyTypes.get(name);
    const fieldType = plan.requestFields.get(name);
    if (keyType === undefined && fieldType === undefined) {
      throw badRequest(
        `entities.${name}`,
        `"${name}" is neither a join key nor a request field of the requested features`,
        `expected: ${[...plan.joinKeyTypes.keys(), ...plan.requestFields.keys()].join(', ')}`,
        'unknown_field',
      );
    }
    if (n < 0) {
      n = col.length;
      first = name;
    } else if (col.length !== n) {
      throw badRequest(
        `entities.${name}`,
        `ragged entity columns: "${name}" has ${col.length} values but "${first}" has ${n}`,
        'every column of "entities" holds one value per entity row',
        'ragged_columns',
      );
    }
    const type = (keyType ?? fieldType)!;
    for (let i = 0; i < col.length; i++) {
      const v = col[i];
      if (v === null && keyType === undefined) continue;
      if (!checkType(v, type)) {
        throw badRequest(
          `entities.${name}[${i}]`,
          `${JSON.stringify(v) ?? 'undefined'} is not a valid ${type} for "${name}"`,
          keyType
            ? `join key "${name}" takes ${type} values`
            : `request field "${name}" is ${type}`,
          'wrong_type',
        );
      }
    }
  }
  for (const k of plan.joinKeyTypes.keys())
    if (!(k in req.entities))
      throw badRequest(
        `entities.${k}`,
        `missing join key "${k}"`,
        `add "${k}": [...] to "entities"`,
        'missing_field',
      );
  for (const k of plan.requestFields.keys())
    if (!(k in req.entities))
      throw badRequest(
        `entities.${k}`,
        `missing request field "${k}"`,
        `add "${k}": [...] to "entities"`,
        'missing_field',
      );
  if (n < 0) n = 0;
  if (n > max)
    throw badRequest(
      'entities',
      `too many entity rows: ${n} (at most ${max})`,
      'split the request',
      'too_many_rows',
    );
  return n;
}

/** Row `i`'s join key values, the array an entity key is the JSON of. */
function rowKey(cols: readonly (readonly unknown[])[], i: number): unknown[] {
  const key: unknown[] = [];
  for (const c of cols) key.push(c[i]);
  return key;
}

/**
 * Reads features for column-wise entity rows.
 *
 * @example
 * const res = await getOnlineFeatures(
 *   { repo, store, maxEntityRows: 1000 },
 *   { ref: { service: 'recommendation_v1' }, entities: { user_id: ['u1'], product_id: ['p1'] }, fullFeatureNames: false },
 * );
 * res.columns.map((c) => c.name); // ['user_id', 'product_id', 'page_views_1h', ...]
 */
export async function getOnlineFeatures(
  ctx: RetrievalContext,
  req: OnlineFeaturesRequest,
): Promise<OnlineFeaturesResponse> {
  const plan = featurePlan(ctx.repo, req.ref, req.fullFeatureNames);
  const n = checkColumns(plan, req, ctx.maxEntityRows);
  const t = req.t ?? Date.now();

  // Dedupe entity keys per key group: rowIndex[g][i] = position of row i's key in keys[g].
  const groupKeys: string[][] = [];
  const rowIndex: Int32Array[] = [];
  for (const g of plan.groups) {
    const keys: string[] = [];
    const idx = new Int32Array(n);
    // One row has nothing to deduplicate: no map.
    const seen = n > 1 ? new Map<string, number>() : null;
    const cols: (readonly unknown[])[] = [];
    for (const k of g.joinKeys) cols.push(req.entities[k]!);
    const single = cols.length === 1 && typeof cols[0]![0] === 'string' ? cols[0]! : null;
    for (let i = 0; i < n; i++) {
      const key = single ? (single[i] as string) : JSON.stringify(rowKey(cols, i));
      if (seen === null) {
        idx[i] = keys.push(key) - 1;
        continue;
      }
      let p = seen.get(key);
      if (p === undefined) {
        p = keys.push(key) - 1;
        seen.set(key, p);
      }
      idx[i] = p;
    }
    groupKeys.push(keys);
    rowIndex.push(idx);
  }

  const requests: ReadRequest[] = [];
  for (const r of plan.reads)
    requests.push({ view: r.spec, features: r.features, entityKeys: groupKeys[r.group]!, t });
  let results: ReadResult[] = [];
  if (requests.length > 0 && n > 0) {
    const start = ctx.onStoreRead ? performance.now() : 0;
    try {
      results = await ctx.store.readMany(requests);
    } catch (e) {
      throw storeFailure(
        e,
        'online store read failed',
        'check that the online store is up (GET /ready)',
      );
    }
    if (ctx.onStoreRead) ctx.onStoreRead(performance.now() - start);
  }

  const columns: OnlineColumn[] = [];
  // Join keys first, then request fields, each in the request's order (as Feast does).
  const passThrough: string[] = [];
  for (const name in req.entities) if (plan.joinKeyTypes.has(name)) passThrough.push(name);
  for (const name in req.entities) if (!plan.joinKeyTypes.has(name)) passThrough.push(name);
  for (const name of passThrough) {
    const values = req.entities[name] as unknown[];
    columns.push({
      name,
      type: plan.joinKeyTypes.get(name) ?? null,
      values,
      statuses: sameStatus('PRESENT', n),
      eventTs: noEventTs(n),
    });
  }

  let stepOutputs: Record<string, unknown[]>[] | null = null;
  if (plan.steps.length > 0) {
    const timestamps = new Array<number>(n).fill(t);
    stepOutputs = [];
    for (const s of plan.steps) {
      const inputs: Record<string, unknown[]> = {};
      for (const input of s.inputs) {
        if (input.from === 'request') {
          inputs[input.name] = req.entities[input.field] as unknown[];
        } else {
          // The feature's value as served, whatever its status: an entity the store has never
          // seen reads its empty-window values (a count's 0), as in exports (docs/concepts.md).
          const rows = results[input.read]?.rows;
          const idx = rowIndex[plan.reads[input.read]!.group]!;
          if (rows?.length === 1) {
            // One entity for every row (the user of 1 user × N products).
            inputs[input.name] = new Array<unknown>(n).fill(rows[0]![input.feature]!.value);
            continue;
          }
          const values = new Array<unknown>(n);
          for (let i = 0; i < n; i++) values[i] = rows![idx[i]!]![input.feature]!.value;
          inputs[input.name] = values;
        }
      }
      stepOutputs.push(evaluateOnDemand(s.def, inputs, { size: n, timestamps }));
    }
  }

  for (const out of plan.outputs) {
    if (out.from === 'view') {
      const rows = results[out.read]?.rows;
      const idx = rowIndex[plan.reads[out.read]!.group]!;
      if (n === 1) {
        const fv = rows![idx[0]!]![out.feature]!;
        columns.push({
          name: out.name,
          type: out.type,
          values: [fv.value],
          statuses: ONE_ROW_STATUS[fv.status],
          eventTs: fv.eventTs === null ? ONE_ROW_NO_TS : [fv.eventTs],
        });
        continue;
      }
      if (rows?.length === 1) {
        // One entity for every row (the user of 1 user × N products): its value n times.
        const fv = rows![0]![out.feature]!;
        columns.push({
          name: out.name,
          type: out.type,
          values: new Array<unknown>(n).fill(fv.value),
          statuses: sameStatus(fv.status, n),
          eventTs: fv.eventTs === null ? noEventTs(n) : new Array<number>(n).fill(fv.eventTs),
        });
        continue;
      }
      const values = new Array<unknown>(n);
      const eventTs = new Array<number | null>(n);
      // Statuses as a shared list while every row's is the first's (the common case).
      const first = n === 0 ? 'PRESENT' : rows![idx[0]!]![out.feature]!.status;
      let statuses: FeatureStatus[] | null = null;
      for (let i = 0; i < n; i++) {
        const fv = rows![idx[i]!]![out.feature]!;
        values[i] = fv.value;
        eventTs[i] = fv.eventTs;
        if (statuses !== null) statuses[i] = fv.status;
        else if (fv.status !== first) {
          statuses = new Array<FeatureStatus>(n).fill(first, 0, i);
          statuses[i] = fv.status;
        }
      }
      columns.push({
        name: out.name,
        type: out.type,
        values,
        statuses: statuses ?? sameStatus(first, n),
        eventTs,
      });
      continue;
    }
    const raw = stepOutputs![out.step]![out.output];
    if (n === 1) {
      const v = raw![0];
      columns.push({
        name: out.name,
        type: out.type,
        values: [v],
        statuses: ONE_ROW_STATUS[v === null ? 'NULL_VALUE' : 'PRESENT'],
        eventTs: ONE_ROW_NO_TS,
      });
      continue;
    }
    const values = new Array<unknown>(n);
    let nulls = 0;
    for (let i = 0; i < n; i++) {
      const v = raw![i];
      values[i] = v;
      if (v === null) nulls++;
    }
    let statuses: readonly FeatureStatus[];
    if (nulls === 0 || nulls === n)
      statuses = sameStatus(nulls === 0 ? 'PRESENT' : 'NULL_VALUE', n);
    else {
      const own = new Array<FeatureStatus>(n);
      for (let i = 0; i < n; i++) own[i] = values[i] === null ? 'NULL_VALUE' : 'PRESENT';
      statuses = own;
    }
    columns.push({ name: out.name, type: out.type, values, statuses, eventTs: noEventTs(n) });
  }
  return { columns };
}
