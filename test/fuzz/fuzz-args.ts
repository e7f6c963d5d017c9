/**
 * The arguments of `npm run fuzz` (scripts/fuzz.ts), parsed without exiting so a test can
 * check them: the options, `--help`, or a one-line error.
 */
import { parseArgs } from 'node:util';

export const FUZZ_USAGE = `usage: npm run fuzz -- [--minutes N] [--seed S] [--path P] [--http] [--services]
  --minutes N   run for N minutes (default 5), a round of 50 cases at a time
  --seed S      one round with this seed (replays a failure, with --path)
  --path P      the fast-check path of a failure to replay (one case)
  --http        also the HTTP and gRPC paths (POST /push, the fast path, fastify, gRPC)
  --services    also a service test per round (Redis, Redis Cluster, Avro through Kafka, HTTP on Redis)
  --help, -h    this text`;

export type FuzzArgs =
  | {
      kind: 'run';
      minutes: number;
      seed: number | undefined;
      path: string | undefined;
      http: boolean;
      services: boolean;
    }
  | { kind: 'help' }
  | { kind: 'error'; message: string };

/**
 * @example
 * parseFuzzArgs(['--minutes', '2', '--http']); // { kind: 'run', minutes: 2, http: true, … }
 */
export function parseFuzzArgs(argv: string[]): FuzzArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        minutes: { type: 'string', default: '5' },
        seed: { type: 'string' },
        path: { type: 'string' },
        http: { type: 'boolean', default: false },
        services: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (e) {
    // node's first sentence ("Unknown option '--bogus'"), without the hints after it.
    const first = (e as Error).message.split(/\. |\n/)[0]!;
    return { kind: 'error', message: first.charAt(0).toLowerCase() + first.slice(1) };
  }
  if (values.help) return { kind: 'help' };
  const minutes = Number(values.minutes);
  if (!Number.isFinite(minutes) || minutes <= 0)
    return { kind: 'error', message: `--minutes ${values.minutes} is not a positive number` };
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isSafeInteger(seed))
    return { kind: 'error', message: `--seed ${values.seed} is not an integer` };
  return {
    kind: 'run',
    minutes,
    seed,
    path: values.path,
    http: values.http,
    services: values.services,
  };
}
