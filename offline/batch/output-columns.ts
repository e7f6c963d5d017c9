/**
 * The check of a batch view query's output columns against its declaration, for every offline
 * store: exactly the entities' join keys and the declared features, each of a type that casts
 * to the declared one without changing its meaning.
 */
import { DefinitionError } from '../../core/errors.ts';
import type { ValueType } from '../../core/types.ts';
import type { BatchViewSpec } from '../../definitions/batch/batch-view-spec.ts';
import type { Repository } from '../../definitions/repository.ts';
import type { BatchViewDef } from '../../definitions/dsl/batch-view.ts';
import type { SnapshotColumns } from './snapshot-sql.ts';

/** A dialect's column type, by family: what a declared type accepts. */
export type ColumnFamily = 'integer' | 'float' | 'string' | 'bool' | 'null' | 'other';

const ACCEPTS: Record<ValueType, readonly ColumnFamily[]> = {
  int64: ['integer', 'null'],
  float64: ['integer', 'float', 'null'],
  string: ['string', 'null'],
  bool: ['bool', 'null'],
  // Batch views declare scalar features only: a list-typed declaration matches no column.
  string_list: [],
  int64_list: [],
  float64_list: [],
};

/** The output columns a view declares: its entities' join keys, then its features. */
export function snapshotColumns(repo: Repository, view: BatchViewSpec): SnapshotColumns {
  return {
    keys: view.entities.map((e) => {
      const spec = repo.entities.get(e)!.spec;
      return { name: spec.joinKey, type: spec.valueType };
    }),
    features: view.features.map((f) => ({ name: f.name, type: f.type })),
  };
}

/** Problems of the query's output `actual` (name, dialect type, family) against `cols`. */
export function outputProblems(
  cols: SnapshotColumns,
  actual: readonly { name: string; type: string; family: ColumnFamily }[],
): string[] {
  const out: string[] = [];
  const want = [...cols.keys, ...cols.features];
  for (const w of want) {
    const a = actual.find((c) => c.name === w.name);
    if (!a) out.push(`the query returns no column "${w.name}"`);
    else if (!ACCEPTS[w.type].includes(a.family))
      out.push(`column "${w.name}" is ${a.type}, which is not a ${w.type}`);
  }
  for (const a of actual)
    if (!want.some((w) => w.name === a.name))
      out.push(
        `the query returns column "${a.name}", which is neither a join key nor a declared feature`,
      );
  return out;
}

/**
 * Throws a DefinitionError (LARDER_DEFINITION_INVALID) naming the view's query when its output
 * has `problems` (found by running it on `where`: "an empty input on DuckDB", a snapshot).
 */
export function assertOutput(
  view: BatchViewDef,
  where: string,
  problems: string[],
  hint = 'select the join keys and the declared features, once per entity, with the declared types',
): void {
  if (problems.length === 0) return;
  throw new DefinitionError(
    problems.map((message) => ({
      at: view.definedAt,
      object: `batch view "${view.spec.name}"`,
      field: 'query',
      message: `${message} (${where})`,
      hint,
    })),
  );
}
