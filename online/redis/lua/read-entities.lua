#!lua flags=no-writes
-- read-entities: every entity hash a read needs, in one call (larderReadEntities): whole hashes
-- (HGETALL) and groups of keys read for the same fields (HMGET). No includes (the shebang above
-- must stay the script's first line). A single Redis at a plain redis:// URL reads the same
-- way with plain commands inside MULTI (plain-reads.ts, the same answers: Lua's conversion of
-- every field and value to a Lua string was most of redis-server's time per read); this script
-- serves Redis Cluster, and a single Redis while that connection is not ready.
--
-- KEYS[1..] the entity hashes: first the h whole-hash keys, then each field group's keys, in
--           ARGV's group order (on Redis Cluster one key per call: a call's keys share a slot)
-- ARGV[1]   h, the number of whole-hash keys (KEYS[1..h])
-- ARGV[2..] per field group: k, its number of keys (the next k of KEYS), n (at least 1), then
--           its n field names (ReadPlan.fieldNames: the tiles of the requested windows and the
--           requested lifetime fields)
-- Returns   one reply per key, in KEYS order. A whole-hash key: its `field, value, …` joined by
--           "\n" (empty for a missing key). A field group's key: the integer 0 when the key
--           does not exist, 1 when it exists but holds none of the fields, else the values of
--           its group's fields in order joined by "\n", an empty string where a field is absent.
--           Field names (`<hopMs>:<hop>`, `l:<feature>`) and values (JSON text: never empty)
--           never hold a newline.
--
-- Read-only (flags=no-writes). A whole `readMany` (every view of a feature service, every
-- entity) is one call per 512 keys on Redis, and a key's reply one bulk string instead of one
-- per field (decoding thousands of small strings dominated the client's CPU for a
-- 100-candidate rank). The reply's size follows the fields asked for, not the hash's, for a
-- field group (the server's cost is fields asked × hash size on a small, listpack-encoded hash,
-- which HMGET scans once per field); EXISTS is only asked when no field was found (an entity
-- with data but none of the needed fields reads as empty windows, not as NOT_FOUND).
local out = {}
local key = tonumber(ARGV[1])
for i = 1, key do out[i] = table.concat(redis.call('HGETALL', KEYS[i]), '\n') end
local a = 2
while a <= #ARGV do
  local k = tonumber(ARGV[a])
  local first = a + 2
  local last = a + 1 + tonumber(ARGV[a + 1])
  for _ = 1, k do
    key = key + 1
    local values = redis.call('HMGET', KEYS[key], unpack(ARGV, first, last))
    local found = false
    for j = 1, #values do
      if values[j] then
        found = true
      else
        values[j] = ''
      end
    end
    if found then
      out[key] = table.concat(values, '\n')
    else
      out[key] = redis.call('EXISTS', KEYS[key])
    end
  end
  a = last + 1
end
return out
