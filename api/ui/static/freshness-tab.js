/** The Freshness tab: per feature view, how old the newest value is, and the stream worker. */
import { remember, sparkline } from './charts.js';
import { h, put, table } from './dom.js';
import { age, int, num, span, time } from './format.js';

const history = new Map();
const lastPushed = new Map();

/** Renders `/ui/api/freshness` into `panel`, sampling the sparkline series. */
export function renderFreshness(panel, f, sampledAt) {
  const rows = f.views.map((v) => {
    const prev = lastPushed.get(v.view);
    lastPushed.set(v.view, { at: sampledAt, n: v.recordsPushed });
    const pushRate =
      prev && sampledAt > prev.at
        ? ((v.recordsPushed - prev.n) * 1000) / (sampledAt - prev.at)
        : null;
    const rate = v.stream ? v.stream.recordsPerSec : pushRate;
    return {
      ...v,
      rate,
      ageSeries: remember(
        history,
        `${v.view}:age`,
        v.freshnessMs === null ? null : v.freshnessMs / 1000,
      ),
      rateSeries: remember(history, `${v.view}:rate`, rate),
      lagSeries: remember(history, `${v.view}:lag`, v.stream ? v.stream.lag : null),
    };
  });
  const w = f.streamWorker;
  const banner =
    w.status === 'none'
      ? h(
          'div',
          { class: 'note' },
          h('strong', null, 'No stream worker.'),
          ' Start the server with ',
          h('code', null, '--stream-metrics-url http://127.0.0.1:9464/metrics.json'),
          ' to show throughput, lag and dead letters.',
        )
      : w.status === 'error'
        ? h(
            'div',
            { class: 'error', role: 'alert' },
            h('strong', null, 'Stream worker metrics unavailable: '),
            w.message,
          )
        : h('div', { class: 'ok-note' }, 'Stream worker metrics from ', h('code', null, w.url));
  put(
    panel,
    banner,
    h(
      'div',
      { class: 'table-wrap' },
      table(
        [
          { label: 'Feature view', cell: (v) => h('code', null, v.view) },
          {
            label: 'Source',
            cell: (v) => [
              v.source,
              v.topic ? h('div', { class: 'sub' }, `topic ${v.topic}`) : null,
            ],
          },
          {
            label: 'Freshness',
            num: true,
            cell: (v) =>
              h(
                'span',
                { class: 'with-spark' },
                sparkline(v.ageSeries, { label: `${v.view} freshness, seconds` }),
                h('span', { class: v.freshnessMs === null ? 'muted' : 'age' }, age(v.freshnessMs)),
              ),
          },
          {
            label: 'Last push write',
            num: true,
            cell: (v) => (v.writeAgeMs === null ? '—' : `${age(v.writeAgeMs)} ago`),
          },
          { label: 'Records pushed', num: true, cell: (v) => int(v.recordsPushed) },
          {
            label: 'Throughput /s',
            num: true,
            cell: (v) =>
              h(
                'span',
                { class: 'with-spark' },
                sparkline(v.rateSeries, { label: `${v.view} records per second` }),
                num(v.rate, 1),
              ),
          },
          {
            label: 'Materialized to',
            cell: (v) =>
              v.watermark === null
                ? h('span', { class: 'muted' }, 'never')
                : h('span', { title: `${age(v.watermarkAgeMs)} ago` }, time(v.watermark)),
          },
          {
            label: 'Consumer lag',
            num: true,
            cell: (v) =>
              v.stream
                ? h(
                    'span',
                    { class: 'with-spark' },
                    sparkline(v.lagSeries, { label: `${v.view} consumer lag` }),
                    int(v.stream.lag),
                  )
                : '—',
          },
          {
            label: 'DLQ',
            num: true,
            cell: (v) =>
              v.stream
                ? h('span', { class: v.stream.dlq > 0 ? 'bad' : null }, int(v.stream.dlq))
                : '—',
          },
          {
            label: 'Stream p99',
            num: true,
            cell: (v) => (v.stream ? age(v.stream.freshnessP99Ms) : '—'),
          },
        ],
        rows,
        {
          caption:
            'Freshness = now − event time of the newest value written (by push, stream or materialization). Sparklines: last 2 minutes.',
          empty: 'No feature views.',
        },
      ),
    ),
    scheduledTable(f),
  );
}

const OUTCOME_CLASS = { failed: 'bad', timeout: 'bad', killed: 'bad' };

/** Views with a `materialization` schedule: next slot and last run of `larder scheduler`. */
function scheduledTable(f) {
  const scheduled = f.scheduled ?? [];
  if (scheduled.length === 0) return null;
  return [
    h('h3', null, 'Scheduled materialization'),
    h(
      'div',
      { class: 'table-wrap' },
      table(
        [
          { label: 'View', cell: (v) => h('code', null, v.view) },
          {
            label: 'Schedule',
            cell: (v) =>
              v.cron
                ? h('code', null, v.cron)
                : `every ${span(v.everyMs)}${v.offsetMs ? ` + ${span(v.offsetMs)}` : ''}`,
          },
          {
            label: 'Next run',
            cell: (v) => h('span', { title: age(f.now - v.nextRun) }, time(v.nextRun)),
          },
          {
            label: 'Last run',
            cell: (v) =>
              v.lastRun
                ? [
                    h(
                      'span',
                      { class: OUTCOME_CLASS[v.lastRun.outcome] ?? null },
                      v.lastRun.outcome,
                    ),
                    h(
                      'div',
                      { class: 'sub' },
                      `slot ${time(v.lastRun.slot)} · attempt ${v.lastRun.attempt}/${v.lastRun.attempts}`,
                    ),
                  ]
                : h('span', { class: 'muted' }, 'never'),
          },
          {
            label: 'Last success',
            num: true,
            cell: (v) => (v.lastSuccessAt === null ? '—' : `${age(f.now - v.lastSuccessAt)} ago`),
          },
          { label: 'Rows', num: true, cell: (v) => int(v.lastRun?.rows ?? null) },
          { label: 'Error', cell: (v) => v.lastRun?.error ?? '' },
        ],
        scheduled,
        { caption: 'larder scheduler: slots in UTC; history in $LARDER_HOME/runs.jsonl.' },
      ),
    ),
  ];
}
