#!lua flags=no-writes
-- read-hashes: the HGETALL of several keys in one call (larderReadHashes). No includes (the
-- shebang above must stay the script's first line).
--
-- KEYS[1..] the entity hashes (on Redis Cluster one key per call: a call's keys share a slot)
-- ARGV      none
-- Returns   one string per key, in KEYS order: the key's `field, value, …` joined by "\n"
--           (empty for a missing key). Field names and values never hold a newline (names are
--           `<hopMs>:<hop>` and `l:<feature>`, values are JSON text).
--
-- Read-only (flags=no-writes). A `readMany` is a few script calls instead of one command per
-- key, and a key's reply is one bulk string instead of two per field: decoding a reply of
-- thousands of small strings dominated the client's CPU for a 100-candidate rank.
local out = {}
for i = 1, #KEYS do out[i] = table.concat(redis.call('HGETALL', KEYS[i]), '\n') end
return out
