/**
 * The Lua scripts of the Redis IncidentStore (registered with ioredis `defineCommand`, so they run
 * by EVALSHA and fall back to EVAL after a server restart flushed the script cache).
 *
 * Every multi-key change is one script: Redis runs a script without interleaving other commands,
 * and these scripts check everything before their first write, so a failed check changes nothing.
 * Index keys are derived inside the scripts from the prefix (standalone Redis or Sentinel, not
 * Cluster: see docs/fleet.md).
 */

/**
 * The fencing check shared by the write scripts. `fenceKey`/`fenceToken` empty = no fencing.
 * A token lower than the lease's current one is a stale leader's write: refused.
 */
const FENCE = `
local function fence(fenceKey, fenceToken)
  if fenceKey == '' then return nil end
  local current = tonumber(redis.call('GET', fenceKey) or '0')
  local mine = tonumber(fenceToken)
  if mine == nil or mine < current then
    return redis.error_reply('FENCED write refused: fencing token ' .. fenceToken .. ' is older than ' .. current)
  end
  return nil
end
`;

/**
 * saveIncident. KEYS: doc hash, timeline list, fence key ('' for none: passed as a key so the
 * call declares everything it reads).
 * ARGV: prefix, id, expected revision ('' = must not exist), expected entry count, doc JSON (no
 * timeline), status, review, score (opened_at in ms), fence token, then the JSON of each entry to
 * append, oldest first (ARGV[10] onwards).
 * Returns the new revision, or 0 when the revision or the entry count moved on (a conflict).
 */
export const SAVE_INCIDENT = `${FENCE}
local docKey, timelineKey = KEYS[1], KEYS[2]
local prefix, id, expected, entries = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local doc, status, review, score = ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local fenceToken = ARGV[9]

local fenced = fence(KEYS[3], fenceToken)
if fenced then return fenced end

local stored = redis.call('HMGET', docKey, 'rev', 'status', 'review')
local rev = stored[1]
if expected == '' then
  if rev then return 0 end
elseif rev ~= expected then
  return 0
end
-- Same revision but other entries would be a writer's bug: refused rather than appended after
-- entries the writer never saw.
if redis.call('LLEN', timelineKey) ~= entries then return 0 end

local newRev = (tonumber(rev) or 0) + 1
redis.call('HSET', docKey, 'doc', doc, 'rev', newRev, 'status', status, 'review', review, 'score', score)
for i = 10, #ARGV do
  redis.call('RPUSH', timelineKey, ARGV[i])
end

local idx = prefix .. 'idx:'
if stored[2] then
  redis.call('ZREM', idx .. 'status:' .. stored[2], id)
  redis.call('ZREM', idx .. 'review:' .. stored[3], id)
  redis.call('ZREM', idx .. 'status:' .. stored[2] .. ':review:' .. stored[3], id)
end
redis.call('ZADD', idx .. 'all', score, id)
redis.call('ZADD', idx .. 'status:' .. status, score, id)
redis.call('ZADD', idx .. 'review:' .. review, score, id)
redis.call('ZADD', idx .. 'status:' .. status .. ':review:' .. review, score, id)
return newRev
`;

/**
 * listIncidents, in one atomic read (a reader sees each document with its whole timeline).
 * KEYS: the index to walk (a sorted set: score = opened_at ms, members = ids), the `all` index
 * (where the cursor's score is looked up). ARGV: prefix, limit (0 = all), before ('' = none).
 * Order: score descending, then id descending (bytewise, as SQLite's BINARY collation).
 * Returns a flat array: id, doc JSON, revision, timeline (array of JSON), repeated.
 */
export const LIST_INCIDENTS = `
local index, all = KEYS[1], KEYS[2]
local prefix, limit, before = ARGV[1], tonumber(ARGV[2]), ARGV[3]

-- Lua's string < follows the server's locale; ids are compared bytewise instead.
local function bytesLess(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end

local ids = {}
if before == '' then
  if limit > 0 then
    ids = redis.call('ZREVRANGEBYSCORE', index, '+inf', '-inf', 'LIMIT', 0, limit)
  else
    ids = redis.call('ZREVRANGEBYSCORE', index, '+inf', '-inf')
  end
else
  local score = redis.call('ZSCORE', all, before)
  -- An unknown cursor matches nothing (as the SQL subquery that finds no row).
  if not score then return {} end
  -- Same opened_at: the members sort by id; keep those before the cursor's id.
  local same = redis.call('ZREVRANGEBYSCORE', index, score, score)
  for _, m in ipairs(same) do
    if bytesLess(m, before) and (limit == 0 or #ids < limit) then ids[#ids + 1] = m end
  end
  if limit == 0 or #ids < limit then
    local rest
    if limit > 0 then
      rest = redis.call('ZREVRANGEBYSCORE', index, '(' .. score, '-inf', 'LIMIT', 0, limit - #ids)
    else
      rest = redis.call('ZREVRANGEBYSCORE', index, '(' .. score, '-inf')
    end
    for _, m in ipairs(rest) do ids[#ids + 1] = m end
  end
end

local out = {}
for _, id in ipairs(ids) do
  local key = prefix .. 'incident:' .. id
  local row = redis.call('HMGET', key, 'doc', 'rev')
  if row[1] then
    out[#out + 1] = id
    out[#out + 1] = row[1]
    out[#out + 1] = row[2]
    out[#out + 1] = redis.call('LRANGE', key .. ':timeline', 0, -1)
  end
end
return out
`;

/**
 * saveLatestResults. KEYS: the results hash (field = probe\\0target\\0vantage → JSON), the hash of
 * their `at` in ms. ARGV: triples of field, at (ms), JSON. A result older than the stored one
 * (a slow worker's late answer) is ignored; an equal `at` replaces it, as the SQLite adapter does.
 * Returns how many were written.
 */
export const SAVE_LATEST = `
local written = 0
for i = 1, #ARGV, 3 do
  local field, at, doc = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local old = tonumber(redis.call('HGET', KEYS[2], field) or '')
  if old == nil or at >= old then
    redis.call('HSET', KEYS[2], field, ARGV[i + 1])
    redis.call('HSET', KEYS[1], field, doc)
    written = written + 1
  end
end
return written
`;

/** putState. KEYS: the state hash, fence key ('' for none). ARGV: field, JSON, fence token. */
export const PUT_STATE = `${FENCE}
local fenced = fence(KEYS[2], ARGV[3])
if fenced then return fenced end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * Uptime history (layout in docs/fleet.md): `uptime:fp:<incident>` (hash: component →
 * `impact|start|end|counted`, end empty while open), `uptime:comp:<component>` (sorted set of
 * incidents by span start), `uptime:open` (set of `incident\0component` for open spans),
 * `uptime:ends` (sorted set of closed spans by end, for pruning), `uptime:day:<YYYY-MM-DD>`
 * (hash: component → `major|partial|degraded` seconds) and `uptime:days` (sorted set of the days
 * that have a hash, by their start in ms).
 */
const UPTIME_SPAN = `
local function spanKey(prefix, incident) return prefix .. 'uptime:fp:' .. incident end
local function member(incident, component) return incident .. '\\0' .. component end
local function endOf(value)
  local _, _, e = string.match(value, '^([^|]*)|([^|]*)|([^|]*)|')
  return e
end
local function isOpen(value) return endOf(value) == '' end
`;

/**
 * saveUptime. ARGV: prefix, number of spans put, number removed, then per span put: incident,
 * component, impact, start, end ('' = open), counted; per removal: incident, component; then
 * per day: day, its start in ms, component, major, partial, degraded (all 0: the row goes).
 */
export const SAVE_UPTIME = `${UPTIME_SPAN}
local prefix, puts, removes = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local i = 4
for _ = 1, puts do
  local incident, component, impact, s, e, counted = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local m = member(incident, component)
  redis.call('HSET', spanKey(prefix, incident), component, impact .. '|' .. s .. '|' .. e .. '|' .. counted)
  redis.call('ZADD', prefix .. 'uptime:comp:' .. component, s, incident)
  if e == '' then
    redis.call('SADD', prefix .. 'uptime:open', m)
    redis.call('ZREM', prefix .. 'uptime:ends', m)
  else
    redis.call('SREM', prefix .. 'uptime:open', m)
    redis.call('ZADD', prefix .. 'uptime:ends', e, m)
  end
  i = i + 6
end
for _ = 1, removes do
  local incident, component = ARGV[i], ARGV[i + 1]
  local m = member(incident, component)
  redis.call('HDEL', spanKey(prefix, incident), component)
  redis.call('ZREM', prefix .. 'uptime:comp:' .. component, incident)
  redis.call('SREM', prefix .. 'uptime:open', m)
  redis.call('ZREM', prefix .. 'uptime:ends', m)
  i = i + 2
end
while i + 5 <= #ARGV do
  local day, ms, component = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local major, partial, degraded = ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  local key = prefix .. 'uptime:day:' .. day
  if tonumber(major) + tonumber(partial) + tonumber(degraded) == 0 then
    redis.call('HDEL', key, component)
  else
    redis.call('HSET', key, component, major .. '|' .. partial .. '|' .. degraded)
    redis.call('ZADD', prefix .. 'uptime:days', ms, day)
  end
  i = i + 6
end
return 1
`;

/**
 * uptimeSpans. ARGV: prefix, from (ms), mode ('all': spans open or ending at or after `from`;
 * 'open': open spans only), then the components. Returns a flat array: incident, component, value.
 */
export const UPTIME_SPANS = `${UPTIME_SPAN}
local prefix, from, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out = {}
for i = 4, #ARGV do
  local component = ARGV[i]
  for _, incident in ipairs(redis.call('ZRANGE', prefix .. 'uptime:comp:' .. component, 0, -1)) do
    local value = redis.call('HGET', spanKey(prefix, incident), component)
    if value then
      local e = endOf(value)
      if e == '' or (mode == 'all' and tonumber(e) >= from) then
        out[#out + 1] = incident
        out[#out + 1] = component
        out[#out + 1] = value
      end
    end
  end
end
return out
`;

/** openUptimeSpans of every component. ARGV: prefix. Returns incident, component, value triples. */
export const OPEN_UPTIME_SPANS = `${UPTIME_SPAN}
local prefix = ARGV[1]
local out = {}
for _, m in ipairs(redis.call('SMEMBERS', prefix .. 'uptime:open')) do
  local cut = string.find(m, '\\0', 1, true)
  local incident, component = string.sub(m, 1, cut - 1), string.sub(m, cut + 1)
  local value = redis.call('HGET', spanKey(prefix, incident), component)
  if value and isOpen(value) then
    out[#out + 1] = incident
    out[#out + 1] = component
    out[#out + 1] = value
  end
end
return out
`;

/**
 * uptimeDays. ARGV: prefix, from and to (the days' starts in ms), component ('' = every one).
 * Returns a flat array: day, component, value.
 */
export const UPTIME_DAYS = `
local prefix, from, to, component = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local out = {}
for _, day in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'uptime:days', from, to)) do
  local key = prefix .. 'uptime:day:' .. day
  if component == '' then
    local row = redis.call('HGETALL', key)
    for i = 1, #row, 2 do
      out[#out + 1] = day
      out[#out + 1] = row[i]
      out[#out + 1] = row[i + 1]
    end
  else
    local value = redis.call('HGET', key, component)
    if value then
      out[#out + 1] = day
      out[#out + 1] = component
      out[#out + 1] = value
    end
  end
end
return out
`;

/** pruneUptime. ARGV: prefix, the first kept day's start (ms), the oldest kept span end (ms). */
export const PRUNE_UPTIME = `${UPTIME_SPAN}
local prefix, firstDay, before = ARGV[1], ARGV[2], ARGV[3]
for _, day in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'uptime:days', '-inf', '(' .. firstDay)) do
  redis.call('DEL', prefix .. 'uptime:day:' .. day)
  redis.call('ZREM', prefix .. 'uptime:days', day)
end
for _, m in ipairs(redis.call('ZRANGEBYSCORE', prefix .. 'uptime:ends', '-inf', '(' .. before)) do
  local cut = string.find(m, '\\0', 1, true)
  local incident, component = string.sub(m, 1, cut - 1), string.sub(m, cut + 1)
  redis.call('HDEL', spanKey(prefix, incident), component)
  redis.call('ZREM', prefix .. 'uptime:comp:' .. component, incident)
  redis.call('ZREM', prefix .. 'uptime:ends', m)
end
return 1
`;
