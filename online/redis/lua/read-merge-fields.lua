#!lua flags=no-writes
-- read-merge-fields: the read half of an optimistic merge, each key's own fields in one call
-- (larderReadMergeFields). No includes (the shebang above must stay the script's first line).
--
-- KEYS[1..] the entity hashes (single Redis only: on Redis Cluster the keys of one call may
--           span slots, so it sends one HMGET per key instead)
-- ARGV      per key, in KEYS order: n (at least 1), then its n field names
-- Returns   one array per key, in KEYS order: the values of its fields in order (nil where
--           absent), as HMGET answers them.
--
-- Read-only (flags=no-writes). A merge reads its keys in a few calls instead of one command per
-- key (the per-command client overhead dominated the stream worker's writes). HMGET in chunks
-- of 1000 fields, below Lua's `unpack` limit.
local out = {}
local i = 1
for k = 1, #KEYS do
  local n = tonumber(ARGV[i])
  local last = i + n
  if n <= 1000 then
    out[k] = redis.call('HMGET', KEYS[k], unpack(ARGV, i + 1, last))
  else
    local values = {}
    for j = i + 1, last, 1000 do
      local part = redis.call('HMGET', KEYS[k], unpack(ARGV, j, math.min(j + 999, last)))
      for p = 1, #part do values[#values + 1] = part[p] end
    end
    out[k] = values
  end
  i = last + 1
end
return out
