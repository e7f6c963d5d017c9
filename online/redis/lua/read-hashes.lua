#!lua flags=no-writes
-- read-hashes: the HGETALL of several keys in one call (larderReadHashes). No includes (the
-- shebang above must stay the script's first line).
--
-- KEYS[1..] the entity hashes (single Redis only: on Redis Cluster the keys of one call may
--           span slots, so it sends one HGETALL per key instead)
-- ARGV      none
-- Returns   one flat `field, value, …` array per key, in KEYS order (empty for a missing key).
--
-- Read-only (flags=no-writes). A `readMany` is a few script calls instead of one command per
-- key (the per-command client overhead dominated reads).
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
