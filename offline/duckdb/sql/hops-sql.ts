/**
 * Hops in DuckDB SQL, as `aggregation/`'s `hopIndex` computes them: floor division, so times
 * before the epoch fall in the hop that contains them.
 */

/** The start (ms) of the `h`-ms hop holding the time `ts` (an SQL expression). */
export const hopStartSql = (ts: string, h: number): string =>
  `(${ts} - (((${ts} % ${h}) + ${h}) % ${h}))`;

/** The index of the `h`-ms hop holding the time `ts` (an SQL expression). */
export const hopIndexSql = (ts: string, h: number): string => `${hopStartSql(ts, h)} // ${h}`;
