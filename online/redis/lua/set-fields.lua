-- set-fields: overwrite fields of one entity hash (larderSetFields).
-- Includes: prune-and-extend.lua.
--
-- KEYS[1]  the entity hash
-- ARGV[1]  now (ms), the wall clock used to prune stale tiles
-- ARGV[2]  expireAt (ms): the key's expiry is raised to at least this
-- ARGV[3]  pruneSpec, `hopMs:retainMs;…` of the view ('' = no tiles), see prune-and-extend.lua
-- ARGV[4..] field, value pairs (at least one pair)
-- Returns  the number of fields created (not updated).
--
-- Atomic on its one key. Idempotent: running it twice leaves the same hash.
local key = KEYS[1]
local created = redis.call('HSET', key, unpack(ARGV, 4))
if created > 0 then prune(key, tonumber(ARGV[1]), ARGV[3]) end
extend(key, ARGV[2])
return created
