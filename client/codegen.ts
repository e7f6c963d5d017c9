/**
 * `generateClient`: a typed TypeScript client for a feature repository's services. For each
 * feature service it writes the entity row type (join keys, typed by their entity's key type,
 * plus the request fields its on-demand views read) and the column type of its answer (those
 * pass-through columns, then every feature by the name the REST response gives it), and a
 * `createClient` bound to them, and `FIELD_TYPES`, each service's join key and request field
 * types. The output is `client.ts` (the types) and `runtime.ts`, a verbatim copy of
 * `client/runtime.ts`, so it needs no Larder package. With `grpc`, also `grpc-transport.ts`
 * (`client/grpc-transport.ts`, its `./runtime.ts` import made `./runtime.js`) and Feast's protos
 * under `protos/`; `createClient({ transport: 'grpc' })` then reads over gRPC.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ValueType } from '../core/types.ts';
import { LarderError } from '../core/errors.ts';
import type { Repository } from '../definitions/repository.ts';
import { featurePlan, type FeaturePlan } from '../retrieval/index.ts';

export interface GenerateClientOptions {
  /** Feature services to include (default: every service of the repository). */
  services?: readonly string[];
  /**
   * Name features `view__feature` (the client then sends `"full_feature_names": true`); needed
   * when a service has two features of one name. Default false.
   */
  fullFeatureNames?: boolean;
  /** A line for the header comment, e.g. where the repository came from. */
  source?: string;
  /** Also emit the gRPC transport (`grpc-transport.ts`, `protos/`). Default false. */
  grpc?: boolean;
}

export interface GeneratedFile {
  /** Relative to the output folder. */
  path: string;
  text: string;
}

/** Feast's protos the gRPC transport loads (the server's copies). */
const PROTO_DIR = fileURLToPath(new URL('../api/grpc/protos/', import.meta.url));
const PROTOS = ['feast/serving/ServingService.proto', 'feast/types/Value.proto'];

const TS_TYPE: Record<ValueType, string> = {
  int64: 'number',
  float64: 'number',
  string: 'string',
  bool: 'boolean',
  string_list: 'string[]',
  int64_list: 'number[]',
  float64_list: 'number[]',
};

const key = (name: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name);

const fields = (
  entries: Iterable<[string, ValueType]>,
  indent: string,
  nullable: ReadonlySet<string> = new Set(),
): string =>
  [...entries]
    .map(([n, t]) => `${indent}${key(n)}: ${TS_TYPE[t]}${nullable.has(n) ? ' | null' : ''};\n`)
    .join('');

/** The service's read plan; a name clash says how codegen avoids it. */
function planOf(repo: Repository, service: string, fullNames: boolean): FeaturePlan {
  try {
    return featurePlan(repo, { service }, fullNames);
  } catch (e) {
    if (fullNames || !(e instanceof LarderError) || !e.is('LARDER_BAD_REQUEST')) throw e;
    throw new LarderError('LARDER_BAD_REQUEST', `feature service "${service}": ${e.message}`, {
      hint: 'two of its views have a feature of this name: generate with --full-feature-names (fullFeatureNames: true) to name columns view__feature',
      detail: { reason: 'duplicate' },
    });
  }
}

/**
 * The client's files for `repo`. Throws LARDER_NOT_FOUND for an unknown service and
 * LARDER_BAD_REQUEST when a service has two features of one name without `fullFeatureNames`.
 *
 * @example
 * for (const f of generateClient(repo, { services: ['recommendation_v1'] }))
 *   writeFileSync(join(out, f.path), f.text);
 */
export function generateClient(
  repo: Repository,
  opts: GenerateClientOptions = {},
): GeneratedFile[] {
  const fullNames = opts.fullFeatureNames ?? false;
  const names = opts.services ?? [...repo.services.keys()].sort();
  if (names.length === 0)
    throw new LarderError('LARDER_NOT_FOUND', 'the repository defines no feature service', {
      hint: 'a client is generated for feature services: define one with featureService()',
    });
  let body = '';
  let fieldTypes = '';
  for (const service of names) {
    if (!repo.services.has(service))
      throw new LarderError('LARDER_NOT_FOUND', `unknown feature service "${service}"`, {
        field: '--service',
        hint: `known services: ${[...repo.services.keys()].sort().join(', ')}`,
      });
    const plan = planOf(repo, service, fullNames);
    const passThrough = [...plan.joinKeyTypes, ...plan.requestFields];
    const typeMap = (m: ReadonlyMap<string, ValueType>): string =>
      m.size ? `{ ${[...m].map(([n, t]) => `${key(n)}: '${t}'`).join(', ')} }` : '{}';
    fieldTypes += `  ${key(service)}: { joinKeys: ${typeMap(plan.joinKeyTypes)}, requestFields: ${typeMap(plan.requestFields)} },\n`;
    const outputs = plan.outputs.map((o): [string, ValueType] => [o.name, o.type]);
    body +=
      `  /** Feature service "${service}". */\n` +
      `  ${key(service)}: {\n` +
      `    /** One entity row: join keys, then request fields of on-demand views (nullable). */\n` +
      `    entities: {\n${fields(passThrough, '      ', new Set(plan.requestFields.keys()))}    };\n` +
      `    /** The answer's columns: the entity row's, then the features (values are nullable). */\n` +
      `    columns: {\n${fields([...passThrough, ...outputs], '      ')}    };\n` +
      `  };\n`;
  }
  const pushable = [...repo.pushSources.keys(), ...repo.streamSources.keys()].sort();
  const grpc = opts.grpc ?? false;
  const settings = `fullFeatureNames: ${fullNames}`;
  const client =
    `// Generated by \`larder codegen\`${opts.source ? ` from ${opts.source}` : ''}. Do not edit: regenerate.\n` +
    `import { LarderClient, type ClientOptions } from './runtime.js';\n` +
    (grpc ? `import { GrpcTransport } from './grpc-transport.js';\n` : '') +
    `\n` +
    `export * from './runtime.js';\n\n` +
    `/** Each feature service's entity row and answer columns. */\n` +
    `export type Services = {\n${body}};\n\n` +
    `export type ServiceName = keyof Services;\n\n` +
    `/** Each feature service's join key and request field types (how gRPC encodes entity values). */\n` +
    `export const FIELD_TYPES = {\n${fieldTypes}} as const;\n\n` +
    `/** The sources \`push\` accepts: push sources and stream sources. */\n` +
    `export type PushSource = ${pushable.length ? pushable.map((n) => JSON.stringify(n)).join(' | ') : 'never'};\n\n` +
    `/** A client of \`larder serve\` typed by \`Services\`${fullNames ? ' (full feature names)' : ''}${grpc ? "; `transport: 'grpc'` reads over gRPC" : ''}. */\n` +
    `export function createClient(opts: ClientOptions): LarderClient<Services, PushSource> {\n` +
    (grpc
      ? `  return new LarderClient<Services, PushSource>(opts, {\n` +
        `    ${settings},\n` +
        `    ...(opts.transport === 'grpc' ? { reader: new GrpcTransport(opts, FIELD_TYPES) } : {}),\n` +
        `  });\n`
      : `  return new LarderClient<Services, PushSource>(opts, { ${settings} });\n`) +
    `}\n`;
  const runtime = readFileSync(new URL('./runtime.ts', import.meta.url), 'utf8');
  const files = [
    { path: 'client.ts', text: client },
    { path: 'runtime.ts', text: runtime },
  ];
  if (!grpc) return files;
  const transport = readFileSync(new URL('./grpc-transport.ts', import.meta.url), 'utf8');
  files.push({
    path: 'grpc-transport.ts',
    text: transport.replace("from './runtime.ts';", "from './runtime.js';"),
  });
  for (const proto of PROTOS)
    files.push({ path: `protos/${proto}`, text: readFileSync(join(PROTO_DIR, proto), 'utf8') });
  return files;
}
