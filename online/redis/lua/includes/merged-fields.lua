-- Prelude of stream-batch.lua and idempotent-batch.lua (prepended by redis-scripts.ts after
-- prune-and-extend.lua, whose helpers it uses): the guarded half of an optimistic merge over
-- several entity keys.
--
-- KEYS[2..] are the entity keys; from ARGV[5] on, each has, in KEYS order:
--   expireAt (ms), pruneSpec, n, then n (field, expected, new) triples (expected '' = absent).
-- merged_fields_unchanged(): true when every field still holds its expected value.
-- write_merged_fields(now): writes the new values (HSET in chunks of 1000 fields), prunes the
--   keys that got new fields and raises their expiry (extend_written with raise: a key the
--   write created gets its expiry with one command; else PEXPIREAT GT first, as a merge's
--   expiry mostly moves). Call it only after
--   merged_fields_unchanged() returned true, in the same script (so the check and the write are
--   one atomic step).
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
    local held = nil
    if created > 0 then held = prune(key, now, ARGV[i + 1]) end
    extend_written(key, ARGV[i], created, held, raise)
    i = j
  end
end
