-- stream-batch: one stream batch, merged and checkpointed atomically (larderStreamBatch).
-- Includes: prune-and-extend.lua, merged-fields.lua.
--
-- KEYS[1]   the checkpoint hash (field = partition, value = last applied offset)
-- KEYS[2..] the entity hashes (on Redis Cluster all in the checkpoint's slot)
-- ARGV[1]   partition
-- ARGV[2]   from, the batch's first offset
-- ARGV[3]   offset, the batch's last offset
-- ARGV[4]   now (ms)
-- ARGV[5..] per entity key: expireAt, pruneSpec, n, and n (field, expected, new) triples
--           (expected '' = field absent), see merged-fields.lua
-- Returns  {status, stored}: 1 applied (stored = offset); 0 a field changed since it was read
--          (re-read, retry); -1 duplicate (stored >= offset); -2 overlap
--          (from <= stored < offset).
--
-- Atomic: nothing is written unless the status is 1, and then the fields and the checkpoint
-- together. Idempotent per offset: a batch the checkpoint covers is a no-op (-1).
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
