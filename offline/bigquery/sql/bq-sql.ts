/** BigQuery Standard SQL quoting. */

/** A quoted identifier: `` `name` ``. */
export const bqIdent = (s: string): string =>
  `\`${s.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;

/** A string literal: `'text'`, backslash-escaped. */
export const bqString = (s: string): string =>
  `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;

/** A fully qualified table: `` `project.dataset.table` ``. */
export const bqTable = (project: string, dataset: string, table: string): string =>
  bqIdent(`${project}.${dataset}.${table}`);
