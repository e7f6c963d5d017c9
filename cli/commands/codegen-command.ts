import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generateClient } from '../../client/codegen.ts';
import { loadRepository } from '../../definitions/load.ts';
import { readRegistry } from '../../registry/registry-file.ts';
import { cliConfig, type GlobalOptions } from '../context.ts';

interface CodegenOptions {
  out: string;
  service?: string[];
  fullFeatureNames?: boolean;
  grpc?: boolean;
}

/**
 * `larder codegen --out DIR`: a typed TypeScript client (docs/client.md) for the repository the
 * server serves: the applied one (`registry.json`'s `repo`), or the configured one before any
 * apply — the same choice as `larder serve`.
 */
export function registerCodegenCommand(program: Command, globals: () => GlobalOptions): void {
  program
    .command('codegen')
    .description(
      'generate a typed TypeScript client (client.ts, runtime.ts; with --grpc also grpc-transport.ts, protos/) for the served feature services',
    )
    .requiredOption(
      '--out <dir>',
      'output folder (created if missing; the files it writes are replaced)',
    )
    .option('--service <name...>', 'only these feature services (default: all)')
    .option(
      '--full-feature-names',
      'name features view__feature (needed when a service has two features of one name)',
      false,
    )
    .option(
      '--grpc',
      "also write grpc-transport.ts and protos/ so createClient({ transport: 'grpc' }) reads over gRPC (needs @grpc/grpc-js and @grpc/proto-loader)",
      false,
    )
    .action(async (opts: CodegenOptions) => {
      const config = await cliConfig(globals());
      const applied = readRegistry(config.home);
      const repoDir = applied?.repo ?? config.repo;
      const repo = await loadRepository(repoDir);
      const files = generateClient(repo, {
        ...(opts.service ? { services: opts.service } : {}),
        fullFeatureNames: opts.fullFeatureNames ?? false,
        grpc: opts.grpc ?? false,
        source: applied
          ? `the applied registry (version ${applied.version})`
          : 'the feature repository (no registry applied yet)',
      });
      const out = resolve(opts.out);
      mkdirSync(out, { recursive: true });
      for (const f of files) {
        mkdirSync(dirname(join(out, f.path)), { recursive: true });
        writeFileSync(join(out, f.path), f.text);
      }
      const n = opts.service?.length ?? repo.services.size;
      console.log(
        `Wrote ${files.map((f) => join(out, f.path)).join(', ')} (${n} feature service${n === 1 ? '' : 's'}).`,
      );
    });
}
