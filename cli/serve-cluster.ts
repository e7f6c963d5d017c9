/**
 * `larder serve --workers N`: N processes (node:cluster) share the REST and gRPC ports. The
 * primary only supervises: it starts one worker, and once that one listens (so a bad port or
 * store fails once, with one error line) starts the others; prints the banner when all are
 * ready; replaces a worker that dies (at most {@link MAX_RESTARTS} a minute); on SIGINT/SIGTERM
 * asks every worker to drain and waits for them; and answers `/metrics` of any worker with the
 * sum over all workers (prom-client's AggregatorRegistry). Each worker is a whole `serve`: it
 * opens its own store connection, watches and hot-reloads the registry, and drains its own
 * requests on shutdown.
 *
 * @example
 * if (workers > 1 && cluster.isPrimary) return superviseWorkers({ workers, onReady: printBanner });
 * if (cluster.isWorker) announceReady({ rest, grpc, version }); // after listening
 */
import cluster, { type Worker } from 'node:cluster';
import { createServer, type AddressInfo } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { info } from './output.ts';

/** A worker's listening ports and registry version, sent to the primary once it listens. */
export interface WorkerReady {
  rest: number;
  grpc: number | null;
  version: number;
}

type ToPrimary =
  ({ type: 'larder:serve-ready' } & WorkerReady) | { type: 'larder:metrics-request'; id: number };
type ToWorker = { type: 'larder:metrics'; id: number; text: string; error?: string };

/** Replacements of dead workers allowed in a minute before the primary gives up. */
export const MAX_RESTARTS = 5;

const isMessage = (m: unknown): m is ToPrimary =>
  typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';

/**
 * Runs the primary until every worker has exited after a shutdown signal. Returns the exit
 * code: 0 after a clean shutdown (also one a signal asks for while the workers start), 1 when
 * the first worker could not start (it printed why) or workers kept dying.
 */
export async function superviseWorkers(opts: {
  workers: number;
  /** Workers' command-line arguments (default: this process's). */
  args?: string[];
  onReady: (ready: WorkerReady, pids: number[]) => void;
}): Promise<number> {
  if (opts.args) cluster.setupPrimary({ args: opts.args });
  const aggregator = new AggregatorRegistry();
  const live = new Set<Worker>();
  const restarts: number[] = [];
  let stopping = false;
  let started = false;
  let exitCode = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));

  const stopAll = (code: number): void => {
    if (!stopping) {
      stopping = true;
      exitCode = code;
      for (const w of live) w.process.kill('SIGTERM');
    }
    if (live.size === 0) done();
  };

  const fork = (): Promise<WorkerReady> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork();
      live.add(worker);
      let ready = false;
      worker.on('message', (m: unknown) => {
        if (!isMessage(m)) return;
        if (m.type === 'larder:serve-ready') {
          ready = true;
          resolve(m);
        } else if (m.type === 'larder:metrics-request') {
          aggregator.clusterMetrics().then(
            (text) => worker.send({ type: 'larder:metrics', id: m.id, text } satisfies ToWorker),
            (e: Error) =>
              worker.send({
                type: 'larder:metrics',
                id: m.id,
                text: '',
                error: e.message,
              } satisfies ToWorker),
          );
        }
      });
      worker.on('exit', (code, signal) => {
        live.delete(worker);
        if (!ready) reject(new Error(`worker exited with ${signal ?? `code ${code}`}`));
        if (stopping) {
          if (live.size === 0) done();
          return;
        }
        if (!started) return;
        const now = Date.now();
        restarts.push(now);
        while (restarts[0]! < now - 60_000) restarts.shift();
        if (restarts.length > MAX_RESTARTS) {
          info(
            `larder: serve workers died ${restarts.length} times in a minute; stopping (see the errors above)`,
          );
          stopAll(1);
          return;
        }
        info(
          `larder: serve worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting another`,
        );
        fork().catch(() => undefined);
      });
    });

  const onSignal = (): void => {
    info('larder: shutting down (draining requests in every worker)');
    stopAll(0);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The first worker alone: a port in use or an unreachable store is reported once.
    let first: WorkerReady;
    try {
      first = await fork();
    } catch {
      // A worker failed to start, or a SIGINT/SIGTERM stopped the start-up (its exit code, 0).
      stopAll(1);
      await finished;
      return exitCode;
    }
    try {
      await Promise.all(Array.from({ length: opts.workers - 1 }, fork));
    } catch {
      // A worker failed to start, or a SIGINT/SIGTERM stopped the start-up (its exit code, 0).
      stopAll(1);
      await finished;
      return exitCode;
    }
    started = true;
    if (!stopping)
      opts.onReady(
        first,
        [...live].map((w) => w.process.pid ?? 0),
      );
    await finished;
    return exitCode;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * A port free on `host` now, for the gRPC server of `serve --workers` with `--grpc-port 0`:
 * grpc-js never finishes binding port 0 in a cluster worker, so the primary picks the port.
 */
export async function freePortOn(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** In a worker: tells the primary this worker listens. */
export function announceReady(ready: WorkerReady): void {
  process.send?.({ type: 'larder:serve-ready', ...ready } satisfies ToPrimary);
}

/**
 * In a worker: lets the primary collect `registry` for the cluster-wide sum, and returns the
 * function `/metrics` answers with (the sum over every worker, asked of the primary).
 */
export function clusterMetricsSource(registry: Registry): () => Promise<string> {
  new AggregatorRegistry(); // installs the worker's answer to the primary's collection requests
  AggregatorRegistry.setRegistries([registry]);
  const pending = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>();
  let next = 0;
  process.on('message', (m: unknown) => {
    const msg = m as ToWorker;
    if (typeof msg !== 'object' || msg === null || msg.type !== 'larder:metrics') return;
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(`cluster metrics: ${msg.error}`));
    else p.resolve(msg.text);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      process.send?.({ type: 'larder:metrics-request', id } satisfies ToPrimary);
      setTimeout(() => {
        if (pending.delete(id)) reject(new Error('cluster metrics: the primary did not answer'));
      }, 5_000).unref();
    });
}

/** True in a process started by {@link superviseWorkers}. */
export const isServeWorker = (): boolean => cluster.isWorker;
