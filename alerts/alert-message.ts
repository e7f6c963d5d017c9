/**
 * The message of a firing or resolved alert, as every destination sends it: JSON (Kafka, a
 * `json` webhook) or Slack's `{ text, blocks }` (a `slack` webhook).
 */
import type { AlertLabels, AlertRecord } from './alert-types.ts';

export interface AlertMessage {
  event: 'larder.alert';
  status: 'firing' | 'resolved';
  fingerprint: string;
  rule: string;
  signal: string;
  severity: string;
  labels: AlertLabels;
  value: number;
  threshold: number;
  summary: string;
  description: string | null;
  /** When the condition started to hold (ISO-8601). */
  startsAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

export function alertMessage(a: AlertRecord, status: 'firing' | 'resolved'): AlertMessage {
  return {
    event: 'larder.alert',
    status,
    fingerprint: a.fingerprint,
    rule: a.rule,
    signal: a.signal,
    severity: a.severity,
    labels: a.labels,
    value: a.value,
    threshold: a.threshold,
    summary: a.summary,
    description: a.description,
    startsAt: new Date(a.since).toISOString(),
    firedAt: iso(a.firedAt),
    resolvedAt: status === 'resolved' ? iso(a.resolvedAt) : null,
  };
}

export interface SlackMessage {
  text: string;
  blocks: (
    | { type: 'section'; text: { type: 'mrkdwn'; text: string } }
    | { type: 'context'; elements: { type: 'mrkdwn'; text: string }[] }
  )[];
}

/** Slack's incoming-webhook shape: `text` for notifications, `blocks` for the message. */
export function slackMessage(m: AlertMessage): SlackMessage {
  const head =
    m.status === 'firing'
      ? `:rotating_light: [FIRING] ${m.rule} (${m.severity})`
      : `:white_check_mark: [RESOLVED] ${m.rule} (${m.severity})`;
  const labels = Object.entries(m.labels).map(([k, v]) => `${k}=${v}`);
  const context = [
    `signal: ${m.signal}`,
    ...labels,
    `since ${m.startsAt}`,
    ...(m.resolvedAt ? [`resolved ${m.resolvedAt}`] : []),
  ].join(' · ');
  const body = m.description ? `${m.summary}\n${m.description}` : m.summary;
  return {
    text: `${head}: ${m.summary}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${head}*\n${body}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: context }] },
    ],
  };
}
