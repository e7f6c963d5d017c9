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
