/**
 * Dead-letter records: a bad record goes to `<topic>.dlq` with its original key and value and
 * headers saying why and where it came from. Replays (`larder dlq replay`) carry a replay
 * count so a record that stays bad stops after a few rounds.
 */
import type { IHeaders, Message } from 'kafkajs';

export const DLQ_HEADERS = {
  error: 'larder-error',
  topic: 'larder-source-topic',
  partition: 'larder-source-partition',
  offset: 'larder-source-offset',
  replayCount: 'larder-replay-count',
} as const;

/** The dead-letter topic of `topic`. */
export const dlqTopic = (topic: string): string => `${topic}.dlq`;

/** A header's value as a string (kafkajs gives Buffers, arrays or undefined). */
export function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const v = headers?.[name];
  const one = Array.isArray(v) ? v[0] : v;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** The DLQ message of a bad record (original key, value and replay count kept). */
export function deadLetter(
  m: { key: Buffer | null; value: Buffer | null; headers?: IHeaders },
  source: { topic: string; partition: number; offset: string },
  reason: string,
): Message {
  const replays = headerText(m.headers, DLQ_HEADERS.replayCount);
  return {
    key: m.key,
    value: m.value,
    headers: {
      [DLQ_HEADERS.error]: reason,
      [DLQ_HEADERS.topic]: source.topic,
      [DLQ_HEADERS.partition]: String(source.partition),
      [DLQ_HEADERS.offset]: source.offset,
      ...(replays === undefined ? {} : { [DLQ_HEADERS.replayCount]: replays }),
    },
  };
}
