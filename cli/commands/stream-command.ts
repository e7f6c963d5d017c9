import type { Command } from 'commander';
import { LarderError } from '../../core/errors.ts';
import { armCrash } from '../../config/test-crash.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { LOG_LEVEL_HELP, jsonLogger, kafkaLogOf, parseLogLevel } from '../log-level.ts';
import { info, printJson, table } from '../output.ts';

interface StreamFlags {
  sources?: string;
  metricsPort?: string;
  metricsHost?: string;
  offlineSink?: boolean;
  maxBatch?: string;
  sessionTimeoutMs?: string;
  allowPartitionMismatch?: boolean;
  alerts?: boolean;
  logLevel: string;
}

const intFlag = (v: string | undefined, flag: string): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new LarderError('LARDER_BAD_REQUEST', `${flag} ${v}: not a non-negative integer`, {
      detail: { reason: 'invalid_option' },
    });
  return n;
};

/** `larder stream` (the Kafka → online store worker) and `larder dlq inspect|replay`. */
export function registerStreamCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('stream')
    .description(
      'consume every stream source from Kafka into the online store (exactly once in effect); stops on SIGTERM/SIGINT',
    )
    .option('--sources <a,b>', 'stream sources to consume (default: all)')
    .option(
      '--metrics-port <port>',
      'serve Prometheus /metrics, /metrics.json and /ready on this port',
    )
    .option(
      '--metrics-host <host>',
      'address the --metrics-port server listens on (default 127.0.0.1; 0.0.0.0 in a container, for probes from outside the pod)',
    )
    .option(
      '--offline-sink',
      'append valid records to the offline store, exactly once (DuckDB: $LARDER_DATA_DIR/<batch source path>/stream-<partition>-<date>.jsonl; BigQuery: the batch source table)',
    )
    .option('--max-batch <n>', 'records per store write (default 5000)')
    .option('--session-timeout-ms <ms>', 'consumer group session timeout (default 10000)')
    .option(
      '--allow-partition-mismatch',
      'consume a declared topic (topicSettings) whose partition count differs from the declaration',
    )
    .option(
      '--alerts',
      'also evaluate the alert rules of larder.config.ts every alerts.every (like larder monitor; metrics on --metrics-port); give it to one worker',
    )
    .option('--log-level <level>', LOG_LEVEL_HELP, 'info')
    .action(async (o: StreamFlags) => {
      const level = parseLogLevel(o.logLevel);
      const log = jsonLogger(level);
      const config = await cliConfig(globals());
      armCrash(config.testCrashAt);
      // The worker's modules (Kafka client, stores) load only when it starts.
      const [
        { createOnlineStore, initOrClose },
        { createOfflineStore },
        { serveStreamMetrics },
        { StreamWorker },
        { managesTopics, prepareStreamTopics, withTopicAdmin },
      ] = await Promise.all([
        import('../../online/create-online-store.ts'),
        import('../../offline/create-offline-store.ts'),
        import('../../streaming/stream-metrics.ts'),
        import('../../streaming/stream-worker.ts'),
        import('../../streaming/topics/topics-plan.ts'),
      ]);
      const repo = await cliRepository(config);
      const store = await initOrClose(
        createOnlineStore(config.onlineStore, {
          namespace: config.namespace,
          views: [...repo.featureViews.values()].map((v) => v.spec),
        }),
      );
      const maxBatch = intFlag(o.maxBatch, '--max-batch');
      const sessionTimeoutMs = intFlag(o.sessionTimeoutMs, '--session-timeout-ms');
      // Declared topics: missing ones are created from their declaration, and one with another
      // partition count is refused (docs/operations.md, Topics).
      const scope = {
        repo,
        overrides: config.stream.topics,
        ...(o.sources ? { sources: o.sources.split(',') } : {}),
      };
      if (managesTopics(scope)) {
        const warnings = await withTopicAdmin(config.kafka, (admin) =>
          prepareStreamTopics(admin, scope, o.allowPartitionMismatch === true),
        ).catch(async (e: unknown) => {
          await store.close();
          throw e;
        });
        for (const w of warnings) log.warn(w);
      }
      const worker = new StreamWorker({
        repo,
        store,
        brokers: config.kafka.brokers,
        namespace: config.namespace,
        clientId: config.kafka.clientId,
        ingest: config.ingest,
        topics: config.stream.topics,
        schemaRegistryUrl: config.stream.schemaRegistryUrl,
        topicPartitions: config.stream.topicPartitions,
        ...(o.sources ? { sources: o.sources.split(',') } : {}),
        // The append path needs no init(): the store only appends here.
        ...(o.offlineSink ? { offlineSink: createOfflineStore(config) } : {}),
        ...(maxBatch ? { maxBatchRecords: maxBatch } : {}),
        ...(sessionTimeoutMs ? { sessionTimeoutMs } : {}),
        kafkaRetry: { retries: config.kafka.retries ?? 5 },
        kafkaLog: kafkaLogOf(level, log),
        startRetry: {
          onRetry: (e, attempt) =>
            log.warn('Kafka not ready; retrying', {
              attempt,
              error: e instanceof Error ? e.message : String(e),
            }),
        },
      });
      const port = intFlag(o.metricsPort, '--metrics-port');
      const host = o.metricsHost ?? '127.0.0.1';
      const server =
        port === undefined ? null : await serveStreamMetrics(worker.metrics, port, host);
      // Rules naming unknown views or topics fail here, before the worker joins its group.
      const monitor = o.alerts
        ? (await import('../../alerts/alert-monitor.ts')).openAlertMonitor(config, repo, {
            registry: worker.metrics.registry,
            warn: (line) => log.warn(line),
            onResult: (r) => {
              for (const a of r.fired)
                log.warn('alert firing', { alert: a.fingerprint, summary: a.summary });
              for (const a of r.resolved) log.info('alert resolved', { alert: a.fingerprint });
            },
          })
        : null;
      await worker.start();
      monitor?.start();
      log.info('stream worker started', {
        group: worker.group,
        topics: worker.topics,
        ...(server
          ? { metrics: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics` }
          : {}),
      });
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          log.info('stream worker stopping (finishing the batch in hand)');
          resolve();
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      await monitor?.close();
      await worker.stop();
      server?.close();
      await store.close();
      log.info('stream worker stopped', { ...worker.stats });
    });

  const dlq = program
    .command('dlq')
    .description('dead-letter topics (<topic>.dlq) of the stream worker');
  dlq
    .command('inspect <topic>')
    .description('list the dead letters of a source topic')
    .option('--limit <n>', 'at most n records', '50')
    .option('--json', 'print JSON')
    .action(async (topic: string, o: { limit: string; json?: boolean }) => {
      const config = await cliConfig(globals());
      const { inspectDlq } = await import('../../streaming/dlq-tools.ts');
      const records = await inspectDlq({
        brokers: config.kafka.brokers,
        retries: config.kafka.retries ?? 5,
        topic,
        limit: intFlag(o.limit, '--limit') ?? 50,
      });
      if (o.json) return printJson(records);
      console.log(
        table(
          records.map((r) => [
            `${r.sourceTopic}[${r.sourcePartition}]@${r.sourceOffset}`,
            String(r.replayCount),
            r.reason,
            (r.value ?? '').slice(0, 60),
          ]),
          ['SOURCE', 'REPLAYS', 'REASON', 'VALUE'],
        ),
      );
    });
  dlq
    .command('replay <topic>')
    .description(
      're-feed dead letters to the source topic (each once; records still bad return with a replay count)',
    )
    .option('--max-replays <n>', 'give up on a record replayed this many times', '3')
    .action(async (topic: string, o: { maxReplays: string }) => {
      const config = await cliConfig(globals());
      const { replayDlq } = await import('../../streaming/dlq-tools.ts');
      const r = await replayDlq({
        brokers: config.kafka.brokers,
        retries: config.kafka.retries ?? 5,
        topic,
        namespace: config.namespace,
        maxReplays: intFlag(o.maxReplays, '--max-replays') ?? 3,
      });
      info(
        `replayed ${r.replayed} record(s) to ${topic}; ${r.gaveUp} given up after too many replays`,
      );
    });
}
