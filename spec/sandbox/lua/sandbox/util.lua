-- Ids, clocks and ISO 8601 times for the sandbox.

local floor = math.floor
local format = string.format
local random = math.random

local util = {}

-- Seeds math.random once per worker. Without it every start would hand out
-- the same call ids, since the worker inherits the master's generator.
function util.seed()
  local seed = ngx.now() * 1000 + ngx.worker.pid()
  local f = io.open("/dev/urandom", "rb")
  if f then
    local bytes = f:read(4) or ""
    f:close()
    for i = 1, #bytes do seed = seed * 256 + bytes:byte(i) end
  end
  math.randomseed(seed % 2^31)
end

-- A random (version 4) UUID in its text form.
function util.uuid4()
  return format("%08x-%04x-4%03x-%04x-%04x%08x",
    random(0, 0xffffffff), random(0, 0xffff), random(0, 0xfff),
    0x8000 + random(0, 0x3fff), random(0, 0xffff), random(0, 0xffffffff))
end

-- The current time in seconds, fresh: ngx.now() is cached per event loop
-- turn, which would give two calls placed back to back the same time.
function util.now()
  ngx.update_time()
  return ngx.now()
end

-- "YYYY-MM-DDTHH:MM:SS.ffffff" in UTC, followed by suffix ("Z", "+00:00"
-- or nothing for Ringg's naive times).
function util.iso(t, suffix)
  local secs = floor(t)
  local micros = floor((t - secs) * 1e6 + 0.5)
  if micros >= 1000000 then secs, micros = secs + 1, 0 end
  return os.date("!%Y-%m-%dT%H:%M:%S", secs) .. format(".%06d", micros)
    .. (suffix or "")
end

-- Days from 1970-01-01 to a proleptic Gregorian date. Done by hand because
-- os.time reads its fields in local time. Years are counted from March so
-- that the leap day falls at the end of one.
local function days_from_civil(y, m, d)
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local year_of_era = y - era * 400
  local march_month = (m + 9) % 12
  local day_of_year = floor((153 * march_month + 2) / 5) + d - 1
  local day_of_era = year_of_era * 365 + floor(year_of_era / 4)
    - floor(year_of_era / 100) + day_of_year
  return era * 146097 + day_of_era - 719468
end

local function days_in_month(y, m)
  if m == 2 then
    local leap = (y % 4 == 0 and y % 100 ~= 0) or y % 400 == 0
    return leap and 29 or 28
  end
  return (m == 4 or m == 6 or m == 9 or m == 11) and 30 or 31
end

-- Reads the zone designator at the end of a date-time: nil when absent
-- (a naive time), else the offset in seconds; false when malformed.
local function parse_offset(rest)
  if rest == "" then return nil end
  if rest == "Z" then return 0 end
  local sign, h, m = rest:match("^([+-])(%d%d):?(%d%d)$")
  if not sign then return false end
  h, m = tonumber(h), tonumber(m)
  if h > 23 or m > 59 then return false end
  local offset = (h * 60 + m) * 60
  return sign == "-" and -offset or offset
end

-- Parses YYYY-MM-DD[THH:MM[:SS[.fraction]]][Z|+HH:MM|-HH:MM]. Returns the
-- epoch seconds and whether a zone was given (naive times are read as
-- UTC), or nil when the text is not such a time.
function util.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, pos = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)()")
  if not y then return nil end
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  local h, mi, sec = 0, 0, 0
  local hh, mm, after = s:match("^T(%d%d):(%d%d)()", pos)
  if hh then
    h, mi, pos = tonumber(hh), tonumber(mm), after
    local ss, after_s = s:match("^:(%d%d)()", pos)
    if ss then
      sec, pos = tonumber(ss), after_s
      local fraction, after_f = s:match("^(%.%d+)()", pos)
      if fraction then sec, pos = sec + tonumber(fraction), after_f end
    end
  end
  local offset = parse_offset(s:sub(pos))
  if offset == false then return nil end
  if mo < 1 or mo > 12 or d < 1 or d > days_in_month(y, mo)
      or h > 23 or mi > 59 or sec >= 60 then
    return nil
  end
  local t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
  return t - (offset or 0), offset ~= nil
end

-- A shallow copy of t.
function util.copy(t)
  local c = {}
  for k, v in pairs(t or {}) do c[k] = v end
  return c
end

-- Appends item to list; past limit items, drops the oldest quarter at
-- once (cheaper than one at a time). Returns the list, which may be new.
function util.append_bounded(list, item, limit)
  list[#list + 1] = item
  if #list <= limit then return list end
  local kept = {}
  for i = math.floor(#list / 4) + 1, #list do kept[#kept + 1] = list[i] end
  return setmetatable(kept, getmetatable(list))
end

-- Trims spaces at both ends.
function util.trim(s)
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

return util
