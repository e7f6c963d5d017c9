-- Prelude of the writing scripts (prepended by redis-scripts.ts): three local helpers, no
-- KEYS/ARGV of its own.
--
-- prune(key, now, spec): deletes the stale tiles of one entity hash. `spec` is the view's
--   `hopMs:retainMs;…` (empty: nothing to prune); a tile field `H:k` is stale once
--   `k * H + retainMs <= now` (retainMs = tileExpiry of hop 0 = W + H, view-catalog.ts: the
--   one retention rule). Called whenever a write created a new field (a new hop began), so the
--   hash stays bounded without per-field TTLs (HPEXPIRE needs Redis 7.4). HDEL in chunks of
--   1000 fields, below Lua's `unpack` limit. A spec is parsed once per script call (`retains`);
--   lifetime fields (`l:…`) are told apart by their first byte, without a pattern match.
--   Returns the number of fields the hash held before pruning (nil when `spec` is empty:
--   nothing was read).
-- extend(key, at): raises the key's expiry to at least `at` (ms since the epoch): PEXPIRETIME,
--   then PEXPIREAT only when the key has no expiry yet (-1) or an earlier one. Never lowers it.
--   One command when the expiry already reaches `at` (a write to a hop's tile again), two when
--   it moves. For the overwrites of a materialization, which mostly rewrite the same tiles.
-- raise(key, at): the same expiry as extend(), the other way round: PEXPIREAT with GT, then,
--   only when that set nothing (the expiry already reaches `at`, or the key has none: GT treats
--   a key without expiry as never expiring), PEXPIREAT with NX. One command when the expiry
--   moves, two when it stays. For the merges of the stream and of pushes, whose expiries mostly
--   move (a lifetime state's expiry follows its newest event).
-- extend_written(key, at, created, held, ext): `ext` (extend or raise) after a write that
--   created `created` fields of a hash that then held `held` (prune's answer, or nil): when they
--   are equal the hash did not exist before the write, so it has no expiry yet and gets `at`
--   with one PEXPIREAT (`ext` would take two commands to find that out); else `ext`(key, at).
local retains = {}
local function prune(key, now, spec)
  if spec == '' then return nil end
  local retain = retains[spec]
  if retain == nil then
    retain = {}
    for h, r in string.gmatch(spec, '(%d+):(%d+)') do retain[h] = tonumber(r) end
    retains[spec] = retain
  end
  local fields = redis.call('HKEYS', key)
  local dead = {}
  for _, f in ipairs(fields) do
    -- A lifetime field (`l:…`, byte 108) is never a tile: no pattern match for it.
    if string.byte(f, 1) ~= 108 then
      local h, k = string.match(f, '^(%d+):(%-?%d+)$')
      if h and retain[h] then
        if tonumber(k) * tonumber(h) + retain[h] <= now then dead[#dead + 1] = f end
      end
    end
  end
  for i = 1, #dead, 1000 do
    redis.call('HDEL', key, unpack(dead, i, math.min(i + 999, #dead)))
  end
  return #fields
end

local function extend(key, at)
  local cur = redis.call('PEXPIRETIME', key)
  if cur == -1 or cur < tonumber(at) then redis.call('PEXPIREAT', key, at) end
end

local function raise(key, at)
  if redis.call('PEXPIREAT', key, at, 'GT') == 0 then redis.call('PEXPIREAT', key, at, 'NX') end
end

local function extend_written(key, at, created, held, ext)
  if held ~= nil and held == created then
    redis.call('PEXPIREAT', key, at)
  else
    ext(key, at)
  end
end
