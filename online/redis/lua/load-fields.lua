-- load-fields: overwrite some fields and compare-and-set others of entity hashes, many keys per
-- call (larderLoadFields): a materialization's tiles and lifetime merge in one visit per key.
-- Includes: prune-and-extend.lua.
--
-- KEYS[1..n] the entity hashes (on Redis Cluster all in one slot); a key may appear more than
--            once (more than 1000 fields of one hash, in segments), in order
-- ARGV[1]    now (ms), the wall clock used to prune stale tiles
-- ARGV[2..]  per key, in KEYS order: expireAt (ms), pruneSpec (as set-fields.lua), m, c (m + c
--            from 1 to 1000), then m field, value pairs (overwritten), then c field, expected,
--            new triples (expected '' = field absent)
-- Returns    the positions in KEYS (1-based, ascending) of the keys that conflicted: one of
--            their c fields no longer held its expected value, so nothing was written to that
--            key (the client re-reads and retries those); empty when every key was written.
--
-- Atomic (its keys share one slot), and per key exactly a one-key call: the key's m pairs and
-- c new values are set together, or nothing is; a key that was written is pruned when that
-- created a field and its expiry raised. A key with c = 0 is set-fields.lua's step for it, one
-- with m = 0 cas-fields.lua's: the hashes are those of one call per key, whatever the grouping.
-- A key that did not exist (EXISTS) is neither read (its fields are absent) nor pruned (the
-- caller writes only tiles that serve at `now`, so none is stale): set, then one PEXPIREAT.
local now = tonumber(ARGV[1])
local conflicts = {}
local i = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  local m = tonumber(ARGV[i + 2])
  local first = i + 4 -- the first field, value pair
  local cas = first + 2 * m -- the first field, expected, new triple
  local last = cas + 3 * tonumber(ARGV[i + 3]) - 1
  -- A key this call creates: every field is absent (no HGET), and nothing in it is stale.
  local fresh = redis.call('EXISTS', key) == 0
  local same = true
  for j = cas, last, 3 do
    local cur = ''
    if not fresh then
      cur = redis.call('HGET', key, ARGV[j])
      if cur == false then cur = '' end
    end
    if cur ~= ARGV[j + 1] then
      same = false
      break
    end
  end
  if same then
    local created
    if cas > last then
      created = redis.call('HSET', key, unpack(ARGV, first, cas - 1))
    else
      local pairs = { unpack(ARGV, first, cas - 1) }
      for j = cas, last, 3 do
        pairs[#pairs + 1] = ARGV[j]
        pairs[#pairs + 1] = ARGV[j + 2]
      end
      created = redis.call('HSET', key, unpack(pairs))
    end
    if fresh then
      redis.call('PEXPIREAT', key, ARGV[i])
    else
      local held = nil
      if created > 0 then held = prune(key, now, ARGV[i + 1]) end
      extend_written(key, ARGV[i], created, held, extend)
    end
  else
    conflicts[#conflicts + 1] = k
  end
  i = last + 1
end
return conflicts
