/**
 * The Lua scripts of the Redis online store, kept as files in `lua/` (one script per file, its
 * KEYS/ARGV contract and guarantees in a header comment, as bullmq's `src/commands/*.lua`) and
 * read once when this module loads. Each script touches one key, or keys of one slot, so it is
 * atomic on Redis and on Redis Cluster. The shared helpers live in `lua/includes/` and are
 * prepended to the scripts that use them: `prune-and-extend.lua` (tile pruning and expiry) to
 * every writing script, `merged-fields.lua` (the guarded multi-key merge) to the stream-batch
 * and idempotent-push scripts. The store registers each with ioredis's `defineCommand`
 * (EVALSHA, with an EVAL fallback when the server does not have the script yet).
 */
import { readFileSync } from 'node:fs';

function lua(name: string): string {
  return readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
}

const PRUNE_AND_EXTEND = lua('includes/prune-and-extend');
const MERGED_FIELDS = lua('includes/merged-fields');

/** Overwrite fields of many hashes; returns the number of new fields (`lua/set-fields.lua`). */
export const SET_FIELDS_LUA = PRUNE_AND_EXTEND + lua('set-fields');

/** Compare-and-set of many hashes; returns the positions that conflicted (`lua/cas-fields.lua`). */
export const CAS_FIELDS_LUA = PRUNE_AND_EXTEND + lua('cas-fields');

/**
 * Overwrites and compare-and-sets of many hashes, both for a key in one visit; returns the
 * positions that conflicted (`lua/load-fields.lua`).
 */
export const LOAD_FIELDS_LUA = PRUNE_AND_EXTEND + lua('load-fields');

/** A stream batch merged and checkpointed atomically (`lua/stream-batch.lua`). */
export const STREAM_BATCH_LUA = PRUNE_AND_EXTEND + MERGED_FIELDS + lua('stream-batch');

/**
 * Whole hashes (HGETALL) and groups of keys read for the same fields (HMGET) in one call,
 * read-only (`lua/read-entities.lua`, starts with its shebang).
 */
export const READ_ENTITIES_LUA = lua('read-entities');

/** Each key's own fields, read-only: the read half of a merge (`lua/read-merge-fields.lua`, shebang first). */
export const READ_MERGE_FIELDS_LUA = lua('read-merge-fields');

/** A push applied at most once per idempotency key (`lua/idempotent-batch.lua`). */
export const IDEMPOTENT_BATCH_LUA = PRUNE_AND_EXTEND + MERGED_FIELDS + lua('idempotent-batch');

/** Redis Cluster: claims an idempotency key before the per-slot pushes (`lua/idempotent-claim.lua`). */
export const IDEMPOTENT_CLAIM_LUA = lua('idempotent-claim');
