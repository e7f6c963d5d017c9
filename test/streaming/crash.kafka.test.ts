/**
 * Exactly once in effect across crashes and rebalances: `larder stream` child processes are
 * killed with SIGKILL at random points while records are being produced and consumed, then
 * restarted; the final online values must equal the reference evaluator's exactly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  produceHistory,
  REDIS_URL,
  waitConsumed,
  type TestTopics,
  openTestStore,
} from './stream-fixture.ts';

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startWorker(namespace: string, topics: TestTopics): ChildProcess {
  const child = spawn(
    process.execPath,
    ['bin/larder.js', 'stream', '--max-batch', '150', '--session-timeout-ms', '6000'],
    {
      env: {
        ...process.env,
        ...topics.env,
        LARDER_NAMESPACE: namespace,
        LARDER_ONLINE_STORE: REDIS_URL,
        KAFKA_BROKERS: BROKERS.join(','),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.on('data', (d: Buffer) => {
    if (/error/i.test(d.toString())) process.stderr.write(`[worker ${child.pid}] ${d.toString()}`);
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const kill9 = async (child: ChildProcess): Promise<void> => {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

async function setup(partitions: number, events: number, seed: number) {
  const repo = await loadFeatures();
  const topics = await createTestTopics(partitions);
  cleanups.push(topics.cleanup);
  const namespace = `test-${randomUUID()}`;
  const { store, close } = await openTestStore(repo, namespace);
  cleanups.push(close);
  return { repo, topics, namespace, store, h: history({ events, seed }) };
}

describe('stream worker: crashes and rebalances', () => {
  it('kill -9 at random points, restart: values exact', async () => {
    const { repo, topics, namespace, store, h } = await setup(3, 12_000, 21);
    const producing = produceHistory(topics, h, 3000);
    let worker = startWorker(namespace, topics);
    for (let i = 0; i < 3; i++) {
      await sleep(1500 + Math.random() * 2000);
      await kill9(worker);
      worker = startWorker(namespace, topics);
    }
    await producing;
    await waitConsumed(store, `${namespace}-stream`, topics.all, 120_000);
    await expectReferenceValues(repo, store, h);
  }, 180_000);

  it('SIGTERM mid-stream: finishes the batch in hand, checkpoints, exits 0; a restart continues exactly', async () => {
    const { repo, topics, namespace, store, h } = await setup(2, 6_000, 34);
    const producing = produceHistory(topics, h, 3000);
    const worker = startWorker(namespace, topics);
    let stderr = '';
    worker.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    await sleep(2500);
    const exited = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    worker.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain('stopped');
    startWorker(namespace, topics);
    await producing;
    await waitConsumed(store, `${namespace}-stream`, topics.all, 120_000);
    await expectReferenceValues(repo, store, h);
  }, 180_000);

  it('two workers on 6 partitions, one killed midway: values exact, nothing repeated', async () => {
    const { repo, topics, namespace, store, h } = await setup(6, 10_000, 33);
    const producing = produceHistory(topics, h, 3000);
    const a = startWorker(namespace, topics);
    startWorker(namespace, topics);
    await sleep(2500 + Math.random() * 1000);
    await kill9(a);
    await producing;
    await waitConsumed(store, `${namespace}-stream`, topics.all, 120_000);
    const compared = await expectReferenceValues(repo, store, h);
    expect(compared).toBeGreaterThan(500);
  }, 180_000);
});
