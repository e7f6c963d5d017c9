import { resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveTopic } from '../../../definitions/dsl/sources.ts';
import { LarderError } from '../../../core/errors.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../../../cli/context.ts';
import { info, printJson } from '../../../cli/output.ts';
import { parseCount, parseTime } from '../../../cli/time.ts';

interface GenDataFlags {
  users: string;
  products: string;
  days: string;
  events: string;
  seed: string;
  end?: string;
  out?: string;
  format: string;
  kafka?: boolean;
  rate: string;
  json?: boolean;
}

export function registerGenDataCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('gen-data')
    .description('generate deterministic synthetic e-commerce data (files, or Kafka with --kafka)')
    .option('--users <n>', 'registered users', '1000')
    .option('--products <n>', 'catalogue size', '500')
    .option('--days <n>', 'days of history, ending at --end', '7')
    .option('--events <n>', 'user_events to generate (transactions follow purchases)', '300000')
    .option('--seed <n>', 'random seed: same options, same bytes', '42')
    .option(
      '--end <time>',
      'end of the history (epoch ms, ISO-8601 or now); default: now, to the minute',
    )
    .option(
      '--out <dir>',
      'output folder (default: $LARDER_DATA_DIR); writes raw/user_events and raw/transactions',
    )
    .option('--format <fmt>', 'jsonl or parquet', 'jsonl')
    .option('--kafka', 'produce to the stream sources’ topics instead of writing files')
    .option('--rate <events/s>', 'with --kafka: events per second (0 = as fast as possible)', '0')
    .option('--json', 'print a JSON summary')
    .action(async (o: GenDataFlags) => {
      const config = await cliConfig(globals());
      if (o.format !== 'jsonl' && o.format !== 'parquet') {
        throw new LarderError('LARDER_BAD_REQUEST', `--format "${o.format}" is not supported`, {
          hint: 'use jsonl or parquet',
          detail: { reason: 'unsupported_format' },
        });
      }
      const now = Math.floor(Date.now() / 60_000) * 60_000;
      const days = Number(o.days);
      if (!(days > 0))
        throw new LarderError(
          'LARDER_BAD_REQUEST',
          `--days "${o.days}" must be a positive number`,
          {
            detail: { reason: 'invalid_option' },
          },
        );
      const base = {
        users: parseCount(o.users, '--users'),
        products: parseCount(o.products, '--products', 1),
        days,
        events: parseCount(o.events, '--events'),
        seed: parseCount(o.seed, '--seed'),
        end: o.end ? parseTime(o.end, '--end', { now }) : now,
      };
      if (o.kafka) {
        const repo = await cliRepository(config);
        const topicOf = (source: string): string => {
          const s = repo.streamSources.get(source);
          if (!s)
            throw new LarderError(
              'LARDER_NOT_FOUND',
              `the repository has no stream source "${source}"`,
            );
          return resolveTopic(s.spec, config.stream.topics);
        };
        const topics = {
          user_events: topicOf('user_events'),
          transactions: topicOf('transactions'),
        };
        info(
          `producing ${base.events} events to ${topics.user_events} / ${topics.transactions} on ${config.kafka.brokers.join(',')}`,
        );
        const { generateRecords, produceToKafka } = await import('../datagen/index.ts');
        const r = await produceToKafka({
          brokers: [...config.kafka.brokers],
          topics,
          rate: Number(o.rate),
          records: generateRecords(base),
          onProgress: (p) =>
            process.stderr.write(`\r  ${p.events} events, ${p.transactions} transactions`),
        });
        process.stderr.write('\n');
        if (o.json) printJson(r);
        else console.log(`Produced ${r.events} events and ${r.transactions} transactions.`);
        return;
      }
      const outDir = o.out ? resolve(o.out) : config.dataDir;
      const started = Date.now();
      const { genData } = await import('../datagen/index.ts');
      const summary = await genData({
        ...base,
        outDir,
        format: o.format,
        onProgress: (p) => {
          const s = (Date.now() - started) / 1000;
          process.stderr.write(
            `\r  ${p.events.toLocaleString('en-US')} / ${base.events.toLocaleString('en-US')} events · ${Math.round(p.events / Math.max(s, 0.001)).toLocaleString('en-US')} ev/s`,
          );
        },
      });
      process.stderr.write('\n');
      if (o.json) printJson(summary);
      else {
        console.log(
          `Generated ${summary.events.toLocaleString('en-US')} events (${summary.anonymousEvents.toLocaleString('en-US')} anonymous) and ${summary.transactions.toLocaleString('en-US')} transactions in ${summary.seconds.toFixed(1)} s`,
        );
        console.log(
          `  span ${new Date(summary.start).toISOString()} → ${new Date(summary.end).toISOString()}`,
        );
        for (const f of summary.files) console.log(`  ${f}`);
      }
    });
}
