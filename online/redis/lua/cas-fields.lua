-- cas-fields: compare-and-set, the write half of an optimistic merge, many entity hashes per
-- call (larderCasFields). Includes: prune-and-extend.lua.
--
-- KEYS[1..n] the entity hashes (on Redis Cluster all in one slot); a key may appear more than
--            once (a merge of more than 1000 fields of one hash, in segments), in order
-- ARGV[1]    now (ms), the wall clock used to prune stale tiles
-- ARGV[2..]  per key, in KEYS order: expireAt (ms), pruneSpec (as set-fields.lua), m (1 to
--            1000), then m field, expected, new triples (expected '' = field absent)
-- Returns    the positions in KEYS (1-based, ascending) of the keys that conflicted: a field
--            no longer held its expected value, so nothing was written to that key (the
--            client re-reads and retries those); empty when every key was written.
--
-- Atomic (its keys share one slot), and per key exactly a one-key call: every field of a key
-- is set, or none of them; a key that was written is pruned when that created a field and its
-- expiry raised, so the hashes are those of one call per key, whatever the grouping.
local now = tonumber(ARGV[1])
local conflicts = {}
local i = 2
for k = 1, #KEYS do
  local key = KEYS[k]
  local first = i + 3
  local last = first + 3 * tonumber(ARGV[i + 2]) - 1
  local same = true
  for j = first, last, 3 do
    local cur = redis.call('HGET', key, ARGV[j])
    if cur == false then cur = '' end
    if cur ~= ARGV[j + 1] then
      same = false
      break
    end
  end
  if same then
    local pairs = {}
    for j = first, last, 3 do
      pairs[#pairs + 1] = ARGV[j]
      pairs[#pairs + 1] = ARGV[j + 2]
    end
    local created = redis.call('HSET', key, unpack(pairs))
    local held = nil
    if created > 0 then held = prune(key, now, ARGV[i + 1]) end
    extend_written(key, ARGV[i], created, held, extend)
  else
    conflicts[#conflicts + 1] = k
  end
  i = last + 1
end
return conflicts
