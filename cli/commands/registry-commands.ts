import type { Command } from 'commander';
import type { Repository } from '../../definitions/repository.ts';
import { describeBatchView } from './describe-batch-view.ts';
import {
  sourceExpectationLines,
  viewExpectationLines,
} from '../../quality/describe-expectations.ts';
import { checkBatchViews } from './check-batch-views.ts';
import { formatDuration } from '../../core/duration.ts';
import { formatExpr } from '../../definitions/expr/expr.ts';
import { LarderError } from '../../core/errors.ts';
import { smokeTestOnDemand } from '../../definitions/on-demand-smoke.ts';
import { label } from '../../definitions/repository.ts';
import { applyRepository } from '../../registry/apply.ts';
import { plan, type Plan } from '../../registry/plan.ts';
import { readRegistry, type RegistryFile } from '../../registry/registry-file.ts';
import { OBJECT_KINDS, type ObjectKind, type ObjectSpec } from '../../definitions/spec.ts';
import { cliConfig, cliRepository, type GlobalOptions } from '../context.ts';
import { printJson, table } from '../output.ts';

/** Loads each model (the ONNX runtime loads only for the commands that check models). */
async function validateModels(repo: Repository): Promise<void> {
  await (await import('../../models/validate-models.ts')).validateModels(repo);
}

function formatPlan(p: Plan): string {
  if (p.changes.length === 0) return `No changes. ${p.unchanged} object(s) up to date.`;
  const sym = { add: '+', change: '~', remove: '-' } as const;
  const lines = p.changes.map((c) => {
    const head = `${sym[c.action]} ${label(c.kind)} ${c.name}${c.breaking.length ? '  [BREAKING]' : ''}`;
    const details = [
      ...c.details.map((d) => `    ${d}`),
      ...c.breaking.map((b) => `    breaking: ${b}`),
    ];
    return [head, ...details].join('\n');
  });
  const n = (a: string): number => p.changes.filter((c) => c.action === a).length;
  lines.push(
    '',
    `Plan: ${n('add')} to add, ${n('change')} to change, ${n('remove')} to remove, ${p.unchanged} unchanged.`,
  );
  if (p.hasBreaking)
    lines.push('Breaking changes are refused by `larder apply` unless --allow-breaking.');
  return lines.join('\n');
}

function requireRegistry(home: string): RegistryFile {
  const r = readRegistry(home);
  if (!r)
    throw new LarderError('LARDER_REGISTRY_NOT_APPLIED', `no registry under ${home}`, {
      hint: 'run `larder apply` first',
    });
  return r;
}

/** One line describing an object, for `list`. */
function summary(s: ObjectSpec): string {
  switch (s.kind) {
    case 'entity':
      return `join key ${s.joinKey} (${s.valueType})`;
    case 'batch_source':
      return `${s.path} · bigquery ${s.bigqueryTable}`;
    case 'stream_source':
      return `topic ${s.topic} (${s.encoding}) → ${s.batchSource}`;
    case 'push_source':
      return `→ ${s.batchSource}`;
    case 'feature_view':
      return `${s.entities.join(',')} ← ${s.source} · ${s.features.length} features · ttl ${formatDuration(s.ttlMs)}`;
    case 'on_demand_feature_view':
      return `${s.entities.join(',')} · ${s.features.length} features`;
    case 'batch_view':
      return `${s.entities.join(',')} ← ${s.source} · ${s.features.length} features · every ${formatDuration(s.schedule.everyMs)} · ttl ${formatDuration(s.ttlMs)}`;
    case 'feature_service':
      return `${s.projections.reduce((n, p) => n + p.features.length, 0)} features from ${s.projections.map((p) => p.view).join(', ')}`;
    case 'model':
      return `v${s.version} · ${s.path} · service ${s.service}`;
    case 'experiment':
      return s.arms.map((a) => `${a.name}=${a.model} ${a.percent}%`).join(' · ');
  }
}

function describe(s: ObjectSpec, version: number, hash: string): string {
  const lines = [`${label(s.kind)} ${s.name}  (version ${version}, hash ${hash})`];
  if ('description' in s && s.description) lines.push(`  ${s.description}`);
  if (s.kind === 'feature_view') {
    lines.push(
      `  entities: ${s.entities.join(', ')}   source: ${s.source}   ttl: ${formatDuration(s.ttlMs)}`,
    );
    lines.push(
      `  keys: ${Object.entries(s.keys)
        .map(([k, e]) => `${k} = ${formatExpr(e)}`)
        .join(', ')}`,
    );
    if (s.filter) lines.push(`  filter: ${formatExpr(s.filter)}`);
    lines.push(
      table(
        s.features.map((f) => [
          f.name,
          f.type,
          f.aggregation +
            (f.input
              ? `(${formatExpr(f.input)}${f.weight ? ` × ${formatExpr(f.weight)}` : ''}${
                  f.aggregation === 'last_n' ? `, n ${f.n}${f.distinct ? ', distinct' : ''}` : ''
                })`
              : ''),
          f.windowMs === null
            ? 'lifetime'
            : `${formatDuration(f.windowMs)} / hop ${formatDuration(f.hopMs ?? 0)}`,
          f.where ? formatExpr(f.where) : '',
        ]),
        ['feature', 'type', 'aggregation', 'window', 'where'],
      ).replace(/^/gm, '  '),
    );
    lines.push(...expectLines(viewExpectationLines(s.expect)));
  } else if (s.kind === 'on_demand_feature_view') {
    lines.push(`  entities: ${s.entities.join(', ')}`);
    lines.push(
      `  inputs: ${Object.entries(s.inputs)
        .map(
          ([k, i]) =>
            `${k} = ${i.from === 'feature' ? `${i.view}:${i.feature}` : `request.${i.field}`} (${i.type})`,
        )
        .join(', ')}`,
    );
    lines.push(`  features: ${s.features.map((f) => `${f.name} (${f.type})`).join(', ')}`);
  } else if (s.kind === 'batch_view') {
    lines.push(...describeBatchView(s));
  } else if (s.kind === 'feature_service') {
    for (const p of s.projections) lines.push(`  ${p.view}: ${p.features.join(', ')}`);
  } else {
    for (const [k, v] of Object.entries(s))
      if (!['kind', 'name', 'description', 'schema', 'expect'].includes(k))
        lines.push(`  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    if (s.kind === 'batch_source') lines.push(...expectLines(sourceExpectationLines(s.expect)));
  }
  return lines.join('\n');
}

/** `  expect:` and the expectations indented below it (docs/monitoring.md), or nothing. */
const expectLines = (items: string[]): string[] =>
  items.length ? ['  expect:', ...items.map((l) => `    ${l}`)] : [];

const KIND_ALIASES: Record<string, ObjectKind> = {
  entities: 'entity',
  entity: 'entity',
  sources: 'batch_source',
  'batch-sources': 'batch_source',
  batch_source: 'batch_source',
  'stream-sources': 'stream_source',
  stream_source: 'stream_source',
  'push-sources': 'push_source',
  push_source: 'push_source',
  views: 'feature_view',
  'feature-views': 'feature_view',
  feature_view: 'feature_view',
  'on-demand': 'on_demand_feature_view',
  on_demand_feature_view: 'on_demand_feature_view',
  'batch-views': 'batch_view',
  batch_view: 'batch_view',
  services: 'feature_service',
  'feature-services': 'feature_service',
  feature_service: 'feature_service',
  models: 'model',
  model: 'model',
  experiments: 'experiment',
  experiment: 'experiment',
};

export function registerRegistryCommands(program: Command, globals: () => GlobalOptions): void {
  program
    .command('plan')
    .description('show what `apply` would change, and which changes are breaking')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }) => {
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      await validateModels(repo);
      smokeTestOnDemand(repo);
      await checkBatchViews(config, repo);
      const p = plan(readRegistry(config.home), repo.specs());
      if (o.json) printJson(p);
      else console.log(formatPlan(p));
    });

  program
    .command('apply')
    .description(
      'validate the feature repository and save it to the registry ($LARDER_HOME/registry.json)',
    )
    .option(
      '--allow-breaking',
      'apply breaking changes (type, aggregation, window or entity of existing features; removed features or objects)',
    )
    .option('--json', 'machine-readable output')
    .action(async (o: { allowBreaking?: boolean; json?: boolean }) => {
      const config = await cliConfig(globals());
      const repo = await cliRepository(config);
      await validateModels(repo);
      await checkBatchViews(config, repo);
      const r = await applyRepository(repo, config.home, {
        allowBreaking: o.allowBreaking ?? false,
      });
      if (o.json) printJson({ written: r.written, version: r.registry.version, plan: r.plan });
      else {
        console.log(formatPlan(r.plan));
        console.log(
          r.written
            ? `Applied registry version ${r.registry.version} to ${config.home}/registry.json.`
            : 'Registry already up to date; nothing written.',
        );
      }
    });

  program
    .command('list')
    .argument(
      '[kind]',
      `one of: ${Object.keys(KIND_ALIASES)
        .filter((k) => k.endsWith('s'))
        .join(', ')}`,
    )
    .description('list the applied registry objects')
    .option('--json', 'machine-readable output')
    .action(async (kindArg: string | undefined, o: { json?: boolean }) => {
      const config = await cliConfig(globals());
      const reg = requireRegistry(config.home);
      let kinds: readonly ObjectKind[] = OBJECT_KINDS;
      if (kindArg) {
        const k = KIND_ALIASES[kindArg];
        if (!k)
          throw new LarderError('LARDER_BAD_REQUEST', `unknown kind "${kindArg}"`, {
            hint: `use one of: ${Object.keys(KIND_ALIASES).join(', ')}`,
            detail: { reason: 'invalid_option' },
          });
        kinds = kindArg === 'sources' ? ['batch_source', 'stream_source', 'push_source'] : [k];
      }
      const objs = Object.values(reg.objects).filter((x) => kinds.includes(x.spec.kind));
      if (o.json)
        printJson(
          objs.map((x) => ({
            kind: x.spec.kind,
            name: x.spec.name,
            version: x.version,
            hash: x.hash,
            summary: summary(x.spec),
          })),
        );
      else
        console.log(
          table(
            objs.map((x) => [label(x.spec.kind), x.spec.name, `v${x.version}`, summary(x.spec)]),
            ['KIND', 'NAME', 'VERSION', 'SUMMARY'],
          ),
        );
    });

  program
    .command('describe')
    .argument('<name>', 'object name (any kind)')
    .description('show one applied object in full')
    .option('--json', 'machine-readable output')
    .action(async (name: string, o: { json?: boolean }) => {
      const config = await cliConfig(globals());
      const reg = requireRegistry(config.home);
      const found = Object.values(reg.objects).filter((x) => x.spec.name === name);
      if (found.length === 0) {
        throw new LarderError('LARDER_NOT_FOUND', `no object named "${name}" in the registry`, {
          hint: 'see `larder list`',
        });
      }
      if (o.json) printJson(found.length === 1 ? found[0] : found);
      else console.log(found.map((x) => describe(x.spec, x.version, x.hash)).join('\n\n'));
    });
}
