import type { Command } from 'commander';
import { LarderError, badRequest } from '../../core/errors.ts';
import type { Repository } from '../../definitions/repository.ts';
import {
  applyTopics,
  describeAction,
  formatTopicPlan,
  planTopics,
  withTopicAdmin,
  type TopicsReport,
} from '../../streaming/topics/topics-plan.ts';
import type { ApplyFlags } from '../../streaming/topics/topic-drift.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { info, printJson } from '../output.ts';

interface PlanFlags {
  sources?: string;
  failOnDrift?: boolean;
  json?: boolean;
}

interface ApplyCliFlags {
  sources?: string;
  allowRepartition?: boolean;
  alterConfig?: boolean;
  json?: boolean;
}

/** `--sources a,b`: stream sources of the repository, or all when absent. */
function sourcesOf(repo: Repository, flag: string | undefined): string[] | undefined {
  if (flag === undefined) return undefined;
  const names = flag
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !repo.streamSources.has(n));
  if (names.length === 0 || unknown.length > 0)
    throw badRequest(
      '--sources',
      names.length === 0
        ? '--sources names no stream source'
        : `--sources: no stream source ${unknown.map((n) => `"${n}"`).join(', ')}`,
      `stream sources: ${[...repo.streamSources.keys()].join(', ') || '(none)'}`,
      'invalid_option',
    );
  return names;
}

function formatReport(r: TopicsReport, flags: ApplyFlags | null): string {
  const lines = r.topics.flatMap((t) => formatTopicPlan(t, flags));
  for (const u of r.unmanaged) lines.push(`  ${u.topic} (${u.source}): not managed: ${u.reason}`);
  const n = (s: string): number => r.topics.filter((t) => t.status === s).length;
  lines.push(
    '',
    `Topics: ${n('missing')} to create, ${n('drift')} drifted, ${n('in_sync')} in sync, ${r.unmanaged.length} not managed (${r.brokers} broker(s)).`,
  );
  return lines.join('\n');
}

/** `larder topics plan|apply`: the stream sources' declared topics against the cluster. */
export function registerTopicsCommand(program: Command, globals: () => GlobalOptions): void {
  const topics = program
    .command('topics')
    .description("the stream sources' declared Kafka topics (topicSettings): plan and apply");
  topics
    .command('plan')
    .description(
      'compare the declared topics with the cluster: topics to create, drift in partitions, replication factor, retention, cleanup policy',
    )
    .option('--sources <a,b>', 'stream sources to cover (default: all)')
    .option(
      '--fail-on-drift',
      'exit 1 (LARDER_TOPIC_MISMATCH) when a declared topic is missing or drifted',
    )
    .option('--json', 'print JSON')
    .action(async (o: PlanFlags) => {
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      const sources = sourcesOf(repo, o.sources);
      const report = await withTopicAdmin(config.kafka, (admin) =>
        planTopics(admin, {
          repo,
          overrides: config.stream.topics,
          ...(sources ? { sources } : {}),
        }),
      );
      if (o.json) printJson(report);
      else console.log(formatReport(report, null));
      const off = report.topics.filter((t) => t.status !== 'in_sync');
      if (o.failOnDrift && off.length > 0)
        throw new LarderError(
          'LARDER_TOPIC_MISMATCH',
          `${off.length} declared topic(s) missing or drifted: ${off.map((t) => t.topic).join(', ')}`,
          { hint: 'run `larder topics apply`, or change the declaration' },
        );
    });
  topics
    .command('apply')
    .description(
      'create the missing declared topics; add partitions or change retention / cleanup policy only when a flag allows it; never removes partitions',
    )
    .option('--sources <a,b>', 'stream sources to cover (default: all)')
    .option(
      '--allow-repartition',
      'add partitions to a topic that holds data (changes which partition a key goes to)',
    )
    .option('--alter-config', 'change retention.ms / cleanup.policy of existing topics')
    .option('--json', 'print JSON')
    .action(async (o: ApplyCliFlags) => {
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      const sources = sourcesOf(repo, o.sources);
      const flags: ApplyFlags = {
        allowRepartition: o.allowRepartition === true,
        alterConfig: o.alterConfig === true,
      };
      const { report, result } = await withTopicAdmin(config.kafka, async (admin) => {
        const report = await planTopics(admin, {
          repo,
          overrides: config.stream.topics,
          ...(sources ? { sources } : {}),
        });
        return { report, result: await applyTopics(admin, report, flags) };
      });
      if (o.json) printJson({ ...report, ...result });
      else {
        for (const t of report.topics)
          for (const w of t.warnings) info(`warning: ${t.topic}: ${w}`);
        for (const a of result.applied) info(`${a.topic}: ${describeAction(a.action)}`);
        info(`applied ${result.applied.length} change(s)`);
      }
      const left = [...result.refused, ...result.unfixable];
      if (left.length > 0)
        throw new LarderError(
          'LARDER_TOPIC_MISMATCH',
          `${left.length} drift(s) left: ${left.map((l) => `${l.topic}: ${l.reason}`).join('; ')}`,
          { hint: 'see `larder topics plan`; fix the topic or the declaration' },
        );
    });
}
