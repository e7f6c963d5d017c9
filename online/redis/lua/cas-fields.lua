-- cas-fields: compare-and-set, the write half of an optimistic merge on one entity hash
-- (larderCasFields). Includes: prune-and-extend.lua.
--
-- KEYS[1]  the entity hash
-- ARGV[1]  now (ms), ARGV[2] expireAt (ms), ARGV[3] pruneSpec, as set-fields.lua
-- ARGV[4..] field, expected, new triples (expected '' = field absent)
-- Returns  1 written; 0 conflict: a field no longer holds its expected value, nothing written
--          (the client re-reads and retries).
--
-- Atomic on its one key: every field is set, or none.
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
