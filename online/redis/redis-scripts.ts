/**
 * Lua scripts of the Redis online store, one key (one entity of one view) each, so they run
 * atomically per key on Redis and on Redis Cluster. Arguments common to both:
 *   ARGV[1] now (ms)         wall clock used to prune stale tiles
 *   ARGV[2] expireAt (ms)    the key's expiry is raised to at least this (PEXPIREAT … GT)
 *   ARGV[3] pruneSpec        `hopMs:maxWindowMs;…` of the view: a tile `H:k` is stale once
 *                            `(k + W/H) * H + H <= now` (tileExpiresAt)
 * Stale tiles are pruned whenever a write creates a new field (a new hop began), so the hash
 * stays bounded without per-field TTLs (HPEXPIRE needs Redis 7.4).
 */
const COMMON = `
local function prune(key, now, spec)
  if spec == '' then return end
  local windows = {}
  for h, w in string.gmatch(spec, '(%d+):(%d+)') do windows[h] = tonumber(w) end
  local fields = redis.call('HKEYS', key)
  local dead = {}
  for _, f in ipairs(fields) do
    local h, k = string.match(f, '^(%d+):(%-?%d+)$')
    if h and windows[h] then
      local hm = tonumber(h)
      if (tonumber(k) + windows[h] / hm) * hm + hm <= now then dead[#dead + 1] = f end
    end
  end
  for i = 1, #dead, 1000 do
    redis.call('HDEL', key, unpack(dead, i, math.min(i + 999, #dead)))
  end
end

local function extend(key, at)
  if redis.call('PTTL', key) == -1 then
    redis.call('PEXPIREAT', key, at)
  else
    redis.call('PEXPIREAT', key, at, 'GT')
  end
end
`;

/**
 * The guarded half of an optimistic merge over several entity keys, shared by the stream-batch
 * and idempotent-push scripts: KEYS[2..] are the entity keys and, from ARGV[5] on, each has
 * expireAt, pruneSpec, n and n (field, expected, new) triples (expected '' = field absent).
 * `merged_fields_unchanged()` is true when every field still holds its expected value;
 * `write_merged_fields(now)` then writes the new values (HSET in chunks of 1000 fields),
 * prunes keys that got new fields and extends their expiry.
 */
const MERGED_FIELDS = `
local function merged_fields_unchanged()
  local i = 5
  for k = 2, #KEYS do
    local n = tonumber(ARGV[i + 2])
    local j = i + 3
    for _ = 1, n do
      local cur = redis.call('HGET', KEYS[k], ARGV[j])
      if cur == false then cur = '' end
      if cur ~= ARGV[j + 1] then return false end
      j = j + 3
    end
    i = j
  end
  return true
end

local function write_merged_fields(now)
  local i = 5
  for k = 2, #KEYS do
    local key = KEYS[k]
    local n = tonumber(ARGV[i + 2])
    local j = i + 3
    local created = 0
    local kv = {}
    for t = 1, n do
      kv[#kv + 1] = ARGV[j]
      kv[#kv + 1] = ARGV[j + 2]
      j = j + 3
      if #kv >= 2000 or t == n then
        created = created + redis.call('HSET', key, unpack(kv))
        kv = {}
      end
    end
    if created > 0 then prune(key, now, ARGV[i + 1]) end
    extend(key, ARGV[i])
    i = j
  end
end
`;

/** Overwrite: ARGV[4..] = field, value pairs. Returns the number of new fields. */
export const SET_FIELDS_LUA = `${COMMON}
local key = KEYS[1]
local created = redis.call('HSET', key, unpack(ARGV, 4))
if created > 0 then prune(key, tonumber(ARGV[1]), ARGV[3]) end
extend(key, ARGV[2])
return created
`;

/**
 * Compare-and-set, the write half of an optimistic merge: ARGV[4..] = field, expected, new
 * triples (expected '' = field absent). Sets every field only if every field still holds its
 * expected value; returns 1 when written, 0 on conflict (the client re-reads and retries).
 */
export const CAS_FIELDS_LUA = `${COMMON}
local key = KEYS[1]
for i = 4, #ARGV, 3 do
  local cur = redis.call('HGET', key, ARGV[i])
  if cur == false then cur = '' end
  if cur ~= ARGV[i + 1] then return 0 end
end
local pairs = {}
for i = 4, #ARGV, 3 do
  pairs[#pairs + 1] = ARGV[i]
  pairs[#pairs + 1] = ARGV[i + 2]
end
local created = redis.call('HSET', key, unpack(pairs))
if created > 0 then prune(key, tonumber(ARGV[1]), ARGV[3]) end
extend(key, ARGV[2])
return 1
`;

/**
 * A stream batch, merged and checkpointed atomically (one slot on Redis Cluster).
 *   KEYS[1]  checkpoint hash (field = partition, value = last applied offset)
 *   KEYS[2..] entity keys
 *   ARGV[1] partition, ARGV[2] from (first offset), ARGV[3] offset (last), ARGV[4] now
 *   then per entity key: expireAt, pruneSpec, n, and n (field, expected, new) triples
 *   (expected '' = field absent).
 * Returns {status, stored}: 1 applied; 0 a field changed since it was read (re-read, retry);
 * -1 duplicate (stored >= offset); -2 overlap (from <= stored < offset). Nothing is written
 * unless the status is 1.
 */
export const STREAM_BATCH_LUA = `${COMMON}${MERGED_FIELDS}
local ck = KEYS[1]
local from = tonumber(ARGV[2])
local last = tonumber(ARGV[3])
local stored = tonumber(redis.call('HGET', ck, ARGV[1]) or '-1')
if stored >= last then return {-1, stored} end
if stored >= from then return {-2, stored} end
if not merged_fields_unchanged() then return {0, stored} end
write_merged_fields(tonumber(ARGV[4]))
redis.call('HSET', ck, ARGV[1], ARGV[3])
return {1, last}
`;

/**
 * Read: the HGETALL of every key (KEYS), as one array of flat `field, value, …` arrays, so a
 * `readMany` on a single Redis is a few script calls instead of one command per key (the
 * per-command client overhead dominated reads). Keys of one call may span slots, so Redis
 * Cluster keeps one HGETALL per key.
 */
export const READ_HASHES_LUA = `#!lua flags=no-writes
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
`;

/**
 * A push applied at most once per idempotency key (one slot on Redis Cluster).
 *   KEYS[1]  the key's hash (fields `fp` fingerprint, `resp` answer), or on Redis Cluster the
 *            per-slot marker of the key
 *   KEYS[2..] entity keys
 *   ARGV[1] fingerprint, ARGV[2] answer, ARGV[3] ttl (ms), ARGV[4] now
 *   then per entity key: expireAt, pruneSpec, n, and n (field, expected, new) triples
 *   (expected '' = field absent), as STREAM_BATCH_LUA.
 * Returns {1} applied; {0} a field changed since it was read (re-read, retry); {-1, fp, resp}
 * the key is stored already (nothing written).
 */
export const IDEMPOTENT_BATCH_LUA = `${COMMON}${MERGED_FIELDS}
local idem = KEYS[1]
if redis.call('EXISTS', idem) == 1 then
  local h = redis.call('HMGET', idem, 'fp', 'resp')
  return {-1, h[1] or '', h[2] or ''}
end
if not merged_fields_unchanged() then return {0} end
write_merged_fields(tonumber(ARGV[4]))
redis.call('HSET', idem, 'fp', ARGV[1], 'resp', ARGV[2])
redis.call('PEXPIRE', idem, ARGV[3])
return {1}
`;

/**
 * Redis Cluster, before the per-slot scripts of an idempotent push: claims the key's hash.
 *   KEYS[1] the key's hash; ARGV[1] fingerprint, ARGV[2] ttl (ms).
 * Returns {1} claimed (or claimed already with this fingerprint: a retry completes it);
 * {-1, fp, resp} answered already, or claimed by a different fingerprint (resp '').
 */
export const IDEMPOTENT_CLAIM_LUA = `
local h = redis.call('HMGET', KEYS[1], 'fp', 'resp')
if h[2] then return {-1, h[1] or '', h[2]} end
if h[1] and h[1] ~= ARGV[1] then return {-1, h[1], ''} end
redis.call('HSET', KEYS[1], 'fp', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1}
`;
