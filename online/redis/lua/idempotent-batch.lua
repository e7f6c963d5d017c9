-- idempotent-batch: a push applied at most once per idempotency key (larderIdempotent).
-- Includes: prune-and-extend.lua, merged-fields.lua.
--
-- KEYS[1]   the idempotency key's hash (fields `fp` fingerprint, `resp` answer), or on Redis
--           Cluster the per-slot marker of the key
-- KEYS[2..] the entity hashes (on Redis Cluster all in KEYS[1]'s slot)
-- ARGV[1]   fingerprint of the push body
-- ARGV[2]   answer, the push's response to replay
-- ARGV[3]   ttl (ms) of KEYS[1]
-- ARGV[4]   now (ms)
-- ARGV[5..] per entity key: expireAt, pruneSpec, n, and n (field, expected, new) triples
--           (expected '' = field absent), see merged-fields.lua
-- Returns  {1} applied; {0} a field changed since it was read (re-read, retry; nothing
--          written); {-1, fp, resp} KEYS[1] exists already (nothing written).
--
-- Atomic: the fields and KEYS[1] are written together, or nothing is. Idempotent per key:
-- while KEYS[1] lives, a second call writes nothing and returns the stored answer.
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
