/**
 * `larder stream` configured by the environment, end to end (env → config loader → command →
 * worker): `LARDER_TOPIC_<NAME>` names the topics consumed, and source topics that do not exist
 * yet are created with `LARDER_TOPIC_PARTITIONS` partitions (their DLQs with one).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { kafka } from '../streaming/stream-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';
import { until } from '../support/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('larder stream configured by the environment', () => {
  it('creates missing topics named by LARDER_TOPIC_* with LARDER_TOPIC_PARTITIONS partitions', async () => {
    const id = randomUUID();
    const topics = { ev: `test-${id}-ev`, tx: `test-${id}-tx` };
    const all = [topics.ev, topics.tx, `${topics.ev}.dlq`, `${topics.tx}.dlq`];
    const admin = kafka.admin();
    await admin.connect();
    cleanups.push(async () => {
      const existing = new Set(await admin.listTopics());
      const mine = all.filter((t) => existing.has(t));
      if (mine.length > 0)
        await admin.deleteTopics({ topics: mine, timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    });
    const home = tempDir();
    cleanups.push(home.cleanup);
    const child = spawn('node', ['bin/larder.js', 'stream'], {
      env: {
        ...process.env,
        LARDER_TOPIC_USER_EVENTS: topics.ev,
        LARDER_TOPIC_TRANSACTIONS: topics.tx,
        LARDER_TOPIC_PARTITIONS: '2',
        LARDER_HOME: home.dir,
        LARDER_NAMESPACE: `t${id.slice(0, 8)}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const started = await until(
      'the start line',
      () => {
        const line = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as { msg: string; topics?: string[] })
          .find((l) => l.msg === 'stream worker started');
        return line ?? null;
      },
      90_000,
    );
    expect([...started.topics!].sort()).toEqual([topics.ev, topics.tx].sort());
    const meta = await admin.fetchTopicMetadata({ topics: all });
    const partitions = Object.fromEntries(meta.topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({
      [topics.ev]: 2,
      [topics.tx]: 2,
      [`${topics.ev}.dlq`]: 1,
      [`${topics.tx}.dlq`]: 1,
    });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 150_000);
});
