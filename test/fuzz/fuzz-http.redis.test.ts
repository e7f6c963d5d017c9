/**
 * Bounded differential fuzzing through the HTTP and gRPC layers on Redis (fixed seed;
 * `LARDER_FUZZ_SEED` overrides it): as `fuzz-http.test.ts` on SQLite, each case's records pushed
 * through `POST /push` as JSON and every feature read through `POST /get-online-features` on
 * the fast path and on fastify's path and through gRPC `GetOnlineFeatures`, against the
 * reference (`http-paths.ts`), here on the shared Redis at a plain `redis://` URL: the reads
 * take the plain-command read connection and its memos (`online/redis/plain-reads.ts`). Each
 * case has a namespace of its own, torn down after it; its "now" lies within a day after the
 * wall clock, as Redis expires keys on its own clock.
 */
import { REDIS_URL } from '../streaming/stream-fixture.ts';
import { nearWallClock } from './fuzz-case.ts';
import { describeHttpFuzz } from './http-fuzz-cases.ts';

describeHttpFuzz({
  title:
    'differential fuzzing: pushed over HTTP into Redis, read over HTTP (fast path, fastify) and gRPC = reference',
  file: 'test/fuzz/fuzz-http.redis.test.ts',
  seed: 1919,
  store: { type: 'redis', url: REDIS_URL },
  place: nearWallClock,
});
