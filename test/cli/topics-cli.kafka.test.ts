/**
 * `larder topics plan|apply` and `larder stream`'s partition check as a user runs them: JSON
 * output, exit codes, and one-line errors (LARDER_TOPIC_MISMATCH with its hint, an unknown
 * `--sources`). The repository declares its own `test-<uuid>` topic; it is deleted afterwards.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_REPO, tempDir, tempRepo } from '../support/temp-repo.ts';
import { BROKERS, kafka } from '../streaming/stream-fixture.ts';
import { createTopicsReady } from '../../core/create-topics.ts';

const exec = promisify(execFile);
const topic = `test-${randomUUID()}-cli`;
const repo = tempRepo({
  'repo.ts': BASE_REPO,
  'stream.ts': `import { streamSource } from 'larder';
import { events } from './repo.ts';
export const evStream = streamSource({
  name: 'ev_stream',
  topic: '${topic}',
  batchSource: events,
  topicSettings: { partitions: 2, retention: '2d' }, // the local broker's default is 1d
});
`,
});
const home = tempDir();
let admin: Admin;

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});
afterAll(async () => {
  if ((await admin.listTopics()).includes(topic))
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  await admin.disconnect();
  repo.cleanup();
  home.cleanup();
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function larder(...args: string[]): Promise<Result> {
  try {
    const r = await exec('node', ['bin/larder.js', '--repo', repo.dir, ...args], {
      env: {
        ...process.env,
        KAFKA_BROKERS: BROKERS.join(','),
        LARDER_HOME: home.dir,
        LARDER_DATA_DIR: home.dir,
        LARDER_ONLINE_STORE: `sqlite://${home.dir}/online.db`,
        LARDER_DEBUG: '',
      },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** The non-empty stderr lines. */
const lines = (r: Result): string[] => r.stderr.split('\n').filter((l) => l.trim() !== '');

describe('larder topics and stream on a declared topic', () => {
  it('plan --fail-on-drift on a missing topic: the plan as JSON, then exit 1 with one error line', async () => {
    const r = await larder('topics', 'plan', '--fail-on-drift', '--json');
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      brokers: 1,
      topics: [{ source: 'ev_stream', topic, status: 'missing' }],
    });
    expect(lines(r)).toEqual([
      `error [LARDER_TOPIC_MISMATCH]: 1 declared topic(s) missing or drifted: ${topic}`,
      '  hint: run `larder topics apply`, or change the declaration',
    ]);
  }, 60_000);

  it('an unknown --sources is one line naming the stream sources', async () => {
    const r = await larder('topics', 'apply', '--sources', 'nope');
    expect(r.code).toBe(1);
    expect(lines(r)).toEqual([
      'error [LARDER_BAD_REQUEST]: --sources: no stream source "nope"',
      '  hint: stream sources: ev_stream',
    ]);
    expect((await admin.listTopics()).includes(topic)).toBe(false);
  }, 60_000);

  it('stream and apply refuse a topic holding data with fewer partitions; apply fixes it with both flags', async () => {
    // Another process made the topic with 1 partition and wrote to it.
    await createTopicsReady(admin, [{ topic, numPartitions: 1 }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'u1', value: '{}' }] });
    await producer.disconnect();

    const stream = await larder('stream');
    expect(stream.code).toBe(1);
    expect(lines(stream)).toEqual([
      `error [LARDER_TOPIC_MISMATCH]: topic "${topic}" has 1 partitions, but stream source "ev_stream" declares 2`,
      '  hint: see `larder topics plan`; fix the topic or the declaration, or pass --allow-partition-mismatch',
    ]);

    const apply = await larder('topics', 'apply', '--json');
    expect(apply.code).toBe(1);
    expect(JSON.parse(apply.stdout)).toMatchObject({
      applied: [],
      refused: [{ topic }, { topic }],
    });
    expect(lines(apply)[0]).toMatch(
      /^error \[LARDER_TOPIC_MISMATCH\]: 2 drift\(s\) left: .*pass --allow-repartition; .*pass --alter-config$/,
    );

    const fixed = await larder('topics', 'apply', '--allow-repartition', '--alter-config');
    expect(fixed.code).toBe(0);
    expect(fixed.stderr).toContain('applied 2 change(s)');
    const plan = await larder('topics', 'plan', '--fail-on-drift');
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain(`${topic} (ev_stream): matches the declaration`);
  }, 120_000);
});
