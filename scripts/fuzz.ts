/**
 * `npm run fuzz -- --minutes N [--seed S] [--path P] [--http] [--services]` (`--help`: the
 * usage; a bad argument is one line and exit 2, `test/fuzz/fuzz-args.ts`): the differential
 * fuzzer (test/fuzz/) for N minutes (default 5) with a random seed. Each round runs the
 * in-process paths (export with both engines, materialized in one run and incrementally, pushed
 * SQLite, and Avro stream records decoded and folded as the worker does) against the reference;
 * with `--http` also the HTTP and gRPC paths (`test/fuzz/http-paths.ts`: pushed through
 * `POST /push`, read on the fast path, fastify's path and gRPC); with `--services` each round
 * also runs a service test with the round's seed, in turn the Redis one
 * (`fuzz-stream.kafka.test.ts`), the Redis Cluster one (`fuzz-cluster.kafka.test.ts`), the
 * Avro one (`fuzz-avro.kafka.test.ts`) and the HTTP and gRPC paths on Redis
 * (`fuzz-http.redis.test.ts`). A failure prints its seed, the shrunk case and the
 * command that replays it.
 */
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describeMismatches } from '../test/fuzz/differential.ts';
import { FUZZ_USAGE, parseFuzzArgs } from '../test/fuzz/fuzz-args.ts';
import { atAnchor, caseArb } from '../test/fuzz/fuzz-case.ts';
import { openHttpEnv } from '../test/fuzz/http-paths.ts';
import { ANCHOR, openInProcessEnv } from '../test/fuzz/in-process.ts';
import { knownDefectShapes } from '../test/fuzz/known-defects.ts';

const args = parseFuzzArgs(process.argv.slice(2));
if (args.kind === 'help') {
  console.log(FUZZ_USAGE);
  process.exit(0);
}
if (args.kind === 'error') {
  console.error(`error: ${args.message} (npm run fuzz -- --help)`);
  process.exit(2);
}
const values = args;
/** The service tests, one per round in turn: Redis, Redis Cluster, Avro through the worker, HTTP on Redis. */
const SERVICE_TESTS = [
  'test/fuzz/fuzz-stream.kafka.test.ts',
  'test/fuzz/fuzz-cluster.kafka.test.ts',
  'test/fuzz/fuzz-avro.kafka.test.ts',
  'test/fuzz/fuzz-http.redis.test.ts',
];
const { minutes } = values;
const deadline = Date.now() + minutes * 60_000;
const shapes = knownDefectShapes();
const env = await openInProcessEnv();
const http = values.http ? await openHttpEnv() : null;
let failed = false;
let rounds = 0;
try {
  do {
    const seed = values.seed ?? (Math.random() * 2 ** 31) | 0;
    rounds++;
    const result = await fc.check(
      fc.asyncProperty(caseArb({ shapes }), async (c) => {
        const at = atAnchor(c, ANCHOR);
        const m = [...(await env.check(at)), ...(http ? await http.check(at) : [])];
        if (m.length > 0) throw new Error(describeMismatches(m));
      }),
      {
        seed,
        numRuns: values.path !== undefined ? 1 : 50,
        // Shrinking a case re-runs every path; keep a failure's report within a few minutes.
        interruptAfterTimeLimit: Math.max(deadline - Date.now(), 60_000) + 180_000,
        ...(values.path !== undefined ? { path: values.path } : {}),
      },
    );
    if (result.failed || (result.interrupted && result.counterexample !== null)) {
      failed = true;
      console.log(
        `FAILED (in-process${http ? ', HTTP and gRPC' : ''} paths), seed ${seed}, path ${result.counterexamplePath}`,
      );
      console.log(`shrunk case: ${JSON.stringify(result.counterexample?.[0])}`);
      console.log(String((result.errorInstance as Error | undefined)?.message ?? ''));
      console.log(
        `replay: npm run fuzz -- --seed ${seed} --path ${result.counterexamplePath}${http ? ' --http' : ''}` +
          `${process.env.LARDER_FUZZ_SHAPES ? ` (with LARDER_FUZZ_SHAPES=${process.env.LARDER_FUZZ_SHAPES})` : ''}`,
      );
      break;
    }
    if (values.services) {
      const file = SERVICE_TESTS[(rounds - 1) % SERVICE_TESTS.length]!;
      const run = spawnSync('npx', ['vitest', 'run', file], {
        stdio: 'inherit',
        env: { ...process.env, LARDER_FUZZ_SEED: String(seed) },
      });
      if (run.status !== 0) {
        failed = true;
        console.log(`FAILED (service paths), seed ${seed}`);
        console.log(`replay: LARDER_FUZZ_SEED=${seed} npx vitest run ${file}`);
        break;
      }
    }
    console.log(`round ${rounds}: seed ${seed} passed`);
  } while (values.seed === undefined && Date.now() < deadline);
} finally {
  await env.close();
  await http?.close();
}
process.exit(failed ? 1 : 0);
