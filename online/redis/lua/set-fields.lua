-- set-fields: overwrite fields of entity hashes, many keys per call (larderSetFields).
-- Includes: prune-and-extend.lua.
--
-- KEYS[1..n] the entity hashes (on Redis Cluster all in one slot); a key may appear more than
--            once (a hash with more fields than one segment holds), its segments in order
-- ARGV[1]    now (ms), the wall clock used to prune stale tiles
-- ARGV[2..]  per key, in KEYS order: expireAt (ms: the key's expiry is raised to at least
--            this), pruneSpec (`hopMs:retainMs;…` of the view, '' = no tiles, see
--            prune-and-extend.lua), m (1 to 1000), then m field, value pairs
-- Returns    the number of fields created (not updated), over all keys.
--
-- Atomic (its keys share one slot). Each key gets the steps a one-key call would give it (HSET,
-- prune when that created a field, extend: one PEXPIREAT for a hash the HSET created), so the hashes are those of one call per key, and
-- idempotent: running it twice leaves the same hashes.
local now = tonumber(ARGV[1])
local created = 0
local i = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  local last = i + 2 + 2 * tonumber(ARGV[i + 2])
  local c = redis.call('HSET', key, unpack(ARGV, i + 3, last))
  local held = nil
  if c > 0 then held = prune(key, now, ARGV[i + 1]) end
  extend_written(key, ARGV[i], c, held, extend)
  created = created + c
  i = last + 1
end
return created
