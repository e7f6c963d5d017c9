/** `larder stream` logs structured JSON on stdout by default, the Kafka client's logs included. */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTopics } from '../streaming/stream-fixture.ts';
import { tempDir } from '../support/temp-repo.ts';
import { until } from '../support/wait.ts';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Line {
  level: number;
  msg: string;
  logger?: string;
  topics?: string[];
  records?: number;
}

const linesOf = (out: string): Line[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

describe('larder stream logging', () => {
  it('logs start, the Kafka client and stop as JSON lines at level info by default', async () => {
    const topics = await createTestTopics(1);
    cleanups.push(topics.cleanup);
    const home = tempDir();
    cleanups.push(home.cleanup);
    const child = spawn('node', ['bin/larder.js', 'stream'], {
      env: {
        ...process.env,
        ...topics.env,
        LARDER_HOME: home.dir,
        LARDER_NAMESPACE: `t${randomUUID().slice(0, 8)}`,
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
      () => linesOf(stdout).find((l) => l.msg === 'stream worker started') ?? null,
      90_000,
    );
    expect(started.level).toBe(30);
    expect([...started.topics!].sort()).toEqual([topics.transactions, topics.user_events].sort());
    expect(linesOf(stdout).some((l) => l.logger === 'kafkajs' && l.level === 30)).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const stopped = linesOf(stdout).find((l) => l.msg === 'stream worker stopped');
    expect(stopped).toMatchObject({ level: 30, records: 0 });
  }, 150_000);
});
