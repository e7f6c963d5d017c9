/**
 * A stream worker started before Kafka answers (a broker still starting, a pod scheduled first):
 * `start()` retries the transient failure with backoff instead of exiting, then consumes every
 * record exactly. kafkajs's own retries are off here so that each attempt fails at once. The "broker" is a TCP forwarder to the real one that opens its port 1.5 s
 * after the worker starts; kafkajs reaches the real broker at its advertised address after
 * bootstrapping through it.
 */
import { createServer, connect, type Socket } from 'node:net';
import { logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamWorker } from '../../streaming/stream-worker.ts';
import {
  BROKERS,
  createTestTopics,
  expectReferenceValues,
  history,
  loadFeatures,
  openTestStore,
  produceHistory,
  waitConsumed,
} from './stream-fixture.ts';

/** kafkajs's connection-refused lines are what the test provokes: not printed. */
const QUIET = { level: logLevel.NOTHING, logCreator: () => () => undefined };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A free port, closed again. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Forwards `port` to the test broker; `close` drops its connections too. */
async function forwarder(port: number): Promise<{ close: () => Promise<void> }> {
  const [host, target] = BROKERS[0]!.split(':');
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('stream worker: started before Kafka answers', () => {
  it('retries start-up until the broker is reachable, then applies every record exactly', async () => {
    const repo = await loadFeatures();
    const topics = await createTestTopics(2);
    cleanups.push(topics.cleanup);
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const port = await freePort();
    const retries: string[] = [];
    const worker = new StreamWorker({
      repo,
      store,
      brokers: [`127.0.0.1:${port}`],
      namespace: store.namespace,
      topics: topics.env,
      sessionTimeoutMs: 6000,
      // Each attempt fails at once (no kafkajs retries of its own): the worker's loop retries.
      kafkaRetry: { retries: 0 },
      kafkaLog: QUIET,
      startRetry: {
        forMs: 60_000,
        onRetry: (e) => retries.push(e instanceof Error ? e.name : String(e)),
      },
    });
    cleanups.push(() => worker.stop());
    const started = worker.start();
    await new Promise((r) => setTimeout(r, 1500));
    const server = await forwarder(port);
    cleanups.push(server.close);
    await started;
    // At least one attempt failed on the closed port, as a transient Kafka failure.
    expect(retries.length).toBeGreaterThan(0);
    expect(retries.every((n) => n.startsWith('KafkaJS'))).toBe(true);

    const h = history({ events: 800, seed: 23 });
    await produceHistory(topics, h);
    await waitConsumed(store, worker.group, topics.all, 60_000);
    expect(await expectReferenceValues(repo, store, h)).toBeGreaterThan(0);
  }, 120_000);

  it('gives up after startRetry.forMs with the transient error', async () => {
    const repo = await loadFeatures();
    const { store, close } = await openTestStore(repo);
    cleanups.push(close);
    const port = await freePort();
    let retried = 0;
    const worker = new StreamWorker({
      repo,
      store,
      brokers: [`127.0.0.1:${port}`],
      namespace: store.namespace,
      topics: {},
      kafkaRetry: { retries: 0 },
      kafkaLog: QUIET,
      startRetry: { forMs: 2000, onRetry: () => retried++ },
    });
    cleanups.push(() => worker.stop());
    const e = (await worker.start().catch((x: unknown) => x)) as Error;
    expect(e.name).toMatch(/^KafkaJS/);
    expect(retried).toBeGreaterThan(0);
  }, 60_000);
});
