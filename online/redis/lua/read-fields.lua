#!lua flags=no-writes
-- read-fields: the HMGET of the same fields of several keys in one call (larderReadFields).
-- No includes (the shebang above must stay the script's first line).
--
-- KEYS[1..] the entity hashes (on Redis Cluster one key per call: a call's keys share a slot)
-- ARGV[1..] the field names a read needs (ReadPlan.fieldNames: the tiles of the requested
--           windows and the requested lifetime fields), at least one
-- Returns   one reply per key, in KEYS order: the integer 0 when the key does not exist, 1
--           when it exists but holds none of the fields; else a string, the values of ARGV's
--           fields in order joined by "\n", an empty string where a field is absent (values
--           are JSON text: never empty, never holding a newline).
--
-- Read-only (flags=no-writes). The reply's size follows the fields asked for, not the hash's
-- (the server's cost is fields asked × hash size on a small, listpack-encoded hash, which HMGET
-- scans once per field); EXISTS is only asked when no field was found (an entity with data but none of the needed
-- fields reads as empty windows, not as NOT_FOUND).
local out = {}
for i = 1, #KEYS do
  local values = redis.call('HMGET', KEYS[i], unpack(ARGV))
  local found = false
  for j = 1, #values do
    if values[j] then
      found = true
    else
      values[j] = ''
    end
  end
  if found then
    out[i] = table.concat(values, '\n')
  else
    out[i] = redis.call('EXISTS', KEYS[i])
  end
end
return out
