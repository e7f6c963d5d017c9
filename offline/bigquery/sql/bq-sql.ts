/** BigQuery Standard SQL quoting. */

/** A quoted identifier: `` `name` ``. */
export const bqIdent = (s: string): string =>
  `\`${s.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;

/**
 * A string literal: `'text'`, backslash-escaped; other control characters (NUL, tab, …) as
 * `\uhhhh` escapes, so the query text holds none of them.
 */
export const bqString = (s: string): string =>
  `'${s
    .replaceAll('\\', '\\\\')
    .replaceAll("'", "\\'")
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replace(
      // eslint-disable-next-line no-control-regex
      /[\u0000-\u001f\u007f]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )}'`;

/** A fully qualified table: `` `project.dataset.table` ``. */
export const bqTable = (project: string, dataset: string, table: string): string =>
  bqIdent(`${project}.${dataset}.${table}`);
