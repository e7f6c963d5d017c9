-- idempotent-claim: on Redis Cluster, before the per-slot idempotent-batch.lua calls of one
-- push, claims the idempotency key's hash (larderIdemClaim). No includes.
--
-- KEYS[1]  the idempotency key's hash (fields `fp` fingerprint, `resp` answer)
-- ARGV[1]  fingerprint of the push body
-- ARGV[2]  ttl (ms) of KEYS[1]
-- Returns  {1} claimed, or claimed already with this fingerprint (a retry completes it);
--          {-1, fp, resp} answered already, or claimed by a different fingerprint (resp '').
--
-- Atomic on its one key; idempotent for one fingerprint.
local h = redis.call('HMGET', KEYS[1], 'fp', 'resp')
if h[2] then return {-1, h[1] or '', h[2]} end
if h[1] and h[1] ~= ARGV[1] then return {-1, h[1], ''} end
redis.call('HSET', KEYS[1], 'fp', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1}
