import { formatDuration } from '../../core/duration.ts';
import { formatExpr } from '../../definitions/expr/expr.ts';
import type { BatchViewSpec } from '../../definitions/spec.ts';

/** The query's lines without their common indentation. */
function dedent(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const indents = lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length);
  const cut = Math.min(...indents.slice(1), Infinity);
  return lines.map((l, i) => (i === 0 ? l.trimStart() : l.slice(Number.isFinite(cut) ? cut : 0)));
}

/** `larder describe` of a batch view: its schedule, window, relation columns, query, features. */
export function describeBatchView(s: BatchViewSpec): string[] {
  const { everyMs, offsetMs } = s.schedule;
  return [
    `  entities: ${s.entities.join(', ')}   source: ${s.source}   ttl: ${formatDuration(s.ttlMs)}`,
    `  snapshots: ${s.schedule.cron ? `cron "${s.schedule.cron}" (UTC): ` : ''}every ${formatDuration(everyMs)}${offsetMs ? ` at +${formatDuration(offsetMs)}` : ''}, each over ${s.windowMs === null ? 'every record' : `[D − ${formatDuration(s.windowMs)}, D)`}`,
    `  columns: ${Object.entries(s.columns)
      .map(([k, e]) => `${k} = ${formatExpr(e)}`)
      .join(', ')}, ts`,
    ...(s.filter ? [`  filter: ${formatExpr(s.filter)}`] : []),
    `  features: ${s.features.map((f) => `${f.name} (${f.type})`).join(', ')}`,
    '  query:',
    ...dedent(s.query).map((l) => `    ${l}`),
  ];
}
