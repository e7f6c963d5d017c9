import type * as grpc from '@grpc/grpc-js';
import type { Command } from 'commander';
import type { ServerContext } from '../../api/server-context.ts';
import { LarderError } from '../../core/errors.ts';
import { cliConfig, type GlobalOptions } from '../context.ts';
import { LOG_LEVEL_HELP, parseLogLevel } from '../log-level.ts';
import { info } from '../output.ts';
import { firstLine } from '../report-error.ts';
import { serveBanner } from '../serve-banner.ts';

interface ServeOptions {
  host?: string;
  port?: string;
  grpcPort?: string;
  grpc: boolean;
  log: boolean;
  logLevel: string;
  streamMetricsUrl?: string;
  workers?: string;
}

const portOf = (v: string | undefined, fallback: number, flag: string): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new LarderError('LARDER_BAD_REQUEST', `${flag} ${v}: not a port number`, {
      detail: { reason: 'invalid_option' },
    });
  return n;
};

const workersOf = (v: string | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > 256)
    throw new LarderError('LARDER_BAD_REQUEST', `--workers ${v}: not a number from 1 to 256`, {
      hint: 'e.g. --workers 2, or --workers 1 to serve from this process alone',
      detail: { reason: 'invalid_option' },
    });
  return n;
};

/** Binds the gRPC server; a port in use is one line (grpc-js would also log its own). */
async function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  const grpc = await import('@grpc/grpc-js');
  const { startGrpcServer } = await import('../../api/grpc/grpc-server.ts');
  grpc.setLogVerbosity(grpc.logVerbosity.NONE);
  try {
    return await startGrpcServer(server, host, port);
  } catch (e) {
    const message = (e as Error).message;
    throw new LarderError(
      'LARDER_PORT_IN_USE',
      `cannot listen for gRPC on ${host}:${port}: ${/EADDRINUSE/.test(message) ? 'another process is using it' : firstLine(message)}`,
      { hint: 'stop that process, pass another --grpc-port, or --no-grpc', cause: e },
    );
  } finally {
    grpc.setLogVerbosity(grpc.logVerbosity.ERROR);
  }
}

/** `larder serve`: the feature server (REST + gRPC), hot-reloading the registry. */
export function registerServeCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('serve')
    .description('serve online features: Feast-compatible REST (and gRPC), OpenAPI at /docs')
    .option('--host <host>', 'interface to listen on (default: serve.host, 127.0.0.1)')
    .option('--port <port>', 'HTTP port (default: serve.port, 8566)')
    .option('--grpc-port <port>', 'gRPC port (default: serve.grpcPort, 6570)')
    .option('--no-grpc', 'do not start the gRPC server')
    .option(
      '--workers <n>',
      'processes sharing the ports (default: serve.workers, the number of cores; 1 = this process alone)',
    )
    .option('--log-level <level>', LOG_LEVEL_HELP, 'info')
    .option('--log', 'log every request too (same as --log-level debug)', false)
    .option(
      '--stream-metrics-url <url>',
      "the stream worker's JSON metrics, shown by the dashboard at /ui (docs/dashboard.md)",
    )
    .action(async (opts: ServeOptions) => {
      const logLevel = opts.log ? 'debug' : parseLogLevel(opts.logLevel);
      const config = await cliConfig(globals());
      if (opts.streamMetricsUrl !== undefined && !URL.canParse(opts.streamMetricsUrl))
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `--stream-metrics-url ${opts.streamMetricsUrl}: not a URL`,
          {
            hint: 'e.g. --stream-metrics-url http://127.0.0.1:9464/metrics.json',
            detail: { reason: 'invalid_option' },
          },
        );
      const host = opts.host ?? config.serve.host;
      const port = portOf(opts.port, config.serve.port, '--port');
      const grpcPort = portOf(opts.grpcPort, config.serve.grpcPort, '--grpc-port');
      const workers = workersOf(opts.workers, config.serve.workers);
      // Loaded here, not with the command tree: prom-client's cluster support is heavy.
      const { announceReady, clusterMetricsSource, freePortOn, isServeWorker, superviseWorkers } =
        await import('../serve-cluster.ts');
      if (workers > 1 && !isServeWorker()) {
        // grpc-js cannot bind port 0 in a cluster worker: the primary picks one for all.
        const args =
          opts.grpc && grpcPort === 0
            ? [
                ...process.argv
                  .slice(2)
                  .filter(
                    (a, i, all) =>
                      a !== '--grpc-port' &&
                      all[i - 1] !== '--grpc-port' &&
                      !a.startsWith('--grpc-port='),
                  ),
                '--grpc-port',
                String(await freePortOn(host)),
              ]
            : undefined;
        process.exitCode = await superviseWorkers({
          workers,
          ...(args ? { args } : {}),
          onReady: (ready, pids) => {
            for (const line of serveBanner(host, ready.rest, ready.version)) info(line);
            if (ready.grpc !== null)
              info(`larder: gRPC feast.serving.ServingService on ${host}:${ready.grpc}`);
            info(`larder: ${workers} worker processes (${pids.join(', ')}) share the ports`);
          },
        });
        return;
      }
      // The server's modules load only when it starts (`--help` and bad options stay fast).
      const [
        { KeyStore },
        { RateLimiter },
        { buildServer },
        { createGrpcServer },
        { openServing, reloadServing },
        { DefaultPushHandler },
        { createOfflineStore },
        { RegistryWatcher },
        { ServerMetrics },
        { ServingState },
        { openFeatureLog },
      ] = await Promise.all([
        import('../../api/auth/key-store.ts'),
        import('../../api/auth/rate-limiter.ts'),
        import('../../api/build-server.ts'),
        import('../../api/grpc/grpc-server.ts'),
        import('../../api/open-serving.ts'),
        import('../../api/push/default-push-handler.ts'),
        import('../../offline/create-offline-store.ts'),
        import('../../api/registry-watcher.ts'),
        import('../../api/server-metrics.ts'),
        import('../../api/serving-state.ts'),
        import('../../monitoring/open-feature-log.ts'),
      ]);
      const worker = isServeWorker();
      const state = new ServingState(await openServing(config));
      const metrics = new ServerMetrics({ defaultMetrics: true });
      const featureLog = openFeatureLog(config, metrics, (e, d) =>
        info(`larder: feature logging to ${d} failed: ${(e as Error).message}`),
      );
      const ctx: ServerContext = {
        state,
        maxEntityRows: config.serve.maxEntityRows,
        keys: new KeyStore(config.home),
        limiter: new RateLimiter(),
        // Pushes `to: offline` append through the configured offline store (no init() needed).
        pushHandler: new DefaultPushHandler(createOfflineStore(config), Date.now, {
          ...config.ingest,
          maxPushRows: config.serve.maxPushRows,
        }),
        metrics,
        home: config.home,
        clock: Date.now,
        topics: config.stream.topics,
        featureLog,
        ...(opts.streamMetricsUrl ? { streamMetricsUrl: opts.streamMetricsUrl } : {}),
        ...(worker ? { metricsText: clusterMetricsSource(metrics.registry) } : {}),
      };
      const app = await buildServer(ctx, { logLevel });
      await app.listen({ host, port });
      const restPort = (app.server.address() as { port: number }).port;
      if (!worker)
        for (const line of serveBanner(host, restPort, state.current.version)) info(line);
      const grpcServer = opts.grpc
        ? createGrpcServer(ctx, {
            onServerError: (err, msg, code) => app.log.error({ err, code, grpc: true }, msg),
          })
        : null;
      let grpcBound: number | null = null;
      if (grpcServer) {
        let bound: number;
        try {
          bound = await bindGrpc(grpcServer, host, grpcPort);
        } catch (e) {
          await app.close(); // or the REST server keeps the failed command running
          await state.current.store.close();
          throw e;
        }
        if (!worker) info(`larder: gRPC feast.serving.ServingService on ${host}:${bound}`);
        grpcBound = bound;
      }
      if (worker)
        announceReady({ rest: restPort, grpc: grpcBound, version: state.current.version });
      const watcher = new RegistryWatcher(config.home, async () => {
        try {
          const s = await reloadServing(config, state);
          ctx.metrics.reloads.inc({ result: 'ok' });
          info(`larder: reloaded registry version ${s.version}`);
        } catch (e) {
          ctx.metrics.reloads.inc({ result: 'error' });
          info(
            `larder: registry reload failed, still serving the previous version: ${(e as Error).message}`,
          );
        }
      });
      watcher.start();
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          if (!worker) info('larder: shutting down (draining requests)');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        // A worker whose primary is gone (kill -9) drains and exits too.
        if (worker) process.once('disconnect', stop);
      });
      watcher.stop();
      await Promise.all([
        app.close(),
        grpcServer ? new Promise<void>((r) => grpcServer.tryShutdown(() => r())) : undefined,
      ]);
      // What was served before the shutdown is on disk (and on Kafka) before the process ends.
      await featureLog.drain();
      await state.current.store.close();
      // A worker's IPC channel would keep it alive: leaving it lets the process end.
      if (worker && process.connected) process.disconnect();
    });
}
