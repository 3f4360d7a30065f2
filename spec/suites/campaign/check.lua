-- Checks one run of examples/campaign.lua for spec/suites/campaign.sh
-- and prints a TAP line per check, numbered from FIRST.
--
--   lua5.4 check.lua N RESULTS CALLS_JSON ACCESS_LOG PROGRESS MAX FIRST
--
-- RESULTS is the campaign's results CSV, CALLS_JSON the sandbox's
-- GET /_sandbox/calls, ACCESS_LOG the sandbox's access log lines written
-- during the run, PROGRESS the campaign's stderr, MAX its
-- --max-attempts. The results are read with a CSV reader of this file's
-- own, not the campaign's. Exits 1 when a check failed.

local cjson = require "cjson"
local contacts = require "contacts"

local n, results_path, calls_path, log_path, progress_path =
  tonumber(arg[1]), arg[2], arg[3], arg[4], arg[5]
local max_attempts, number = tonumber(arg[6]), tonumber(arg[7]) - 1
local failed = false


local function tap(ok, name, detail)
  number = number + 1
  print(("%s %d - %s"):format(ok and "ok" or "not ok", number, name))
  if not ok then
    failed = true
    if detail then print("# " .. detail:gsub("\n", "\n# ")) end
  end
end


local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end


-- RFC 4180 records, one character at a time.
local function read_csv(text)
  local records, record, field = {}, {}, {}
  local i, quoted = 1, false
  local function end_field()
    record[#record + 1] = table.concat(field)
    field = {}
  end
  while i <= #text do
    local c = text:sub(i, i)
    if quoted then
      if c ~= '"' then
        field[#field + 1] = c
      elseif text:sub(i + 1, i + 1) == '"' then
        field[#field + 1] = '"'
        i = i + 1
      else
        quoted = false
      end
    elseif c == '"' then
      quoted = true
    elseif c == "," then
      end_field()
    elseif c == "\r" or c == "\n" then
      if c == "\r" and text:sub(i + 1, i + 1) == "\n" then i = i + 1 end
      end_field()
      records[#records + 1] = record
      record = {}
    else
      field[#field + 1] = c
    end
    i = i + 1
  end
  if #field > 0 or #record > 0 then
    end_field()
    records[#records + 1] = record
  end
  return records
end


-- The results as tables keyed by column name, in file order.
local function results()
  local records = read_csv(read(results_path))
  local header, out = table.remove(records, 1), {}
  for i, r in ipairs(records) do
    local t = {}
    for j, name in ipairs(header) do t[name] = r[j] end
    out[i] = t
  end
  return out
end


local input = contacts.rows(n)
local rows = results()
local stored = cjson.decode(read(calls_path)).calls
local by_id, by_name = {}, {}
for _, c in ipairs(stored) do
  by_id[c.id] = c
  by_name[c.name] = by_name[c.name] or {}
  table.insert(by_name[c.name], c)
end

-- the result of each input row, and the rows of each class
local result, class = {}, {}
for _, r in ipairs(rows) do
  local i = tonumber(r.row)
  if i and not result[i] then result[i] = r end
end
for i, want in ipairs(input) do
  class[want.class] = class[want.class] or {}
  table.insert(class[want.class], i)
end


-- Runs `check(i, want, got)` over the rows of the given classes; returns
-- true when it holds for all (and at least one row), else false and
-- the first row where it does not.
local function every(classes, check)
  local count = 0
  for _, c in ipairs(classes) do
    for _, i in ipairs(class[c] or {}) do
      local got = result[i]
      local ok, why = got and check(i, input[i], got)
      if not ok then
        return false, ("row %d (%s): %s; got %s"):format(i, c,
          why or "check failed", got and cjson.encode(got) or "no result")
      end
      count = count + 1
    end
  end
  return count > 0, "no rows of " .. table.concat(classes, ", ")
end


tap(#rows == n, ("the results have exactly %d rows"):format(n),
    ("got %d"):format(#rows))

do
  local seen, ok = {}, true
  for _, r in ipairs(rows) do
    local i = tonumber(r.row)
    if not i or i < 1 or i > n or seen[i] then ok = false end
    if i then seen[i] = true end
  end
  for i = 1, n do ok = ok and seen[i] == true end
  tap(ok, "the rows are numbered 1.." .. n .. ", each once")
end

tap(every({ "normal", "rate_limited", "server", "cut", "malformed",
            "invalid", "closed", "silent" }, function(_, want, got)
  return got.name == want.name and got.mobile_number == want.mobile
end), "each row's name and number are the input's (quotes, commas, CRLF)")

tap(every({ "normal" }, function(_, want, got)
  local call = by_id[got.call_id]
  return got.status == "placed" and call and call.to_number == want.mobile
    and call.name == want.name and got.attempts == "1",
    "not placed once as a call the sandbox stored"
end), "normal rows are placed, with a call id the sandbox stored for them")

tap(every({ "normal" }, function(i, want, got)
  if i % 50 ~= 17 then return true end
  local call = by_id[got.call_id]
  return call.custom_args_values.company_name == want.company
end), "a value with a newline and a comma reached the sandbox intact")

tap(every({ "rate_limited" }, function(_, _, got)
  return got.status == "failed" and got.error_kind == "rate_limited"
    and tonumber(got.attempts) == max_attempts
end), ("429 rows were sent %d times and end rate_limited"):format(
  max_attempts))

do
  local posts, limited = 0, 0
  for line in io.lines(log_path) do
    local status = line:match(
      '"POST /ca/api/v0/calling/v2/outbound/individual [^"]*" (%d+)')
    if status then
      posts = posts + 1
      if status == "429" then limited = limited + 1 end
    end
  end
  local want = #class.rate_limited * max_attempts
  tap(limited == want, ("the sandbox answered 429 exactly %d times")
      :format(want), ("it did %d times"):format(limited))
  local sends = 0
  for _, r in ipairs(rows) do sends = sends + (tonumber(r.attempts) or 0) end
  tap(posts == sends, "the sandbox got as many POSTs as the results count "
      .. "sends", ("POSTs %d, sends %d: a request was sent again "
      .. "unasked (libcurl does so when a reused connection closes before "
      .. "any reply)"):format(posts, sends))
end

-- the row was placed (reconciled) as the one call the sandbox stored
-- under its name
local function reconciled(kind)
  return function(_, want, got)
    local calls = by_name[want.name] or {}
    return got.status == "placed (reconciled)" and got.error_kind == kind
      and #calls == 1 and calls[1].id == got.call_id
      and got.attempts == "1"
  end
end

tap(every({ "cut" }, reconciled("network")),
    "cut-off rows end placed (reconciled) with the stored call's id")
tap(every({ "silent" }, reconciled("timeout")),
    "rows whose reply never came end placed (reconciled) likewise")

tap(every({ "server", "malformed", "closed" }, function(_, want, got)
  local kinds = { ["+15550100500"] = "server", ["+15550100503"] = "server",
                  ["+15550100603"] = "protocol",
                  ["+15550100604"] = "network" }
  return got.status == "not placed" and got.attempts == "2"
    and got.error_kind == kinds[want.mobile] and got.call_id == ""
end), "500, 503, malformed and closed rows: looked up, sent once more, "
  .. "not placed")

tap(every({ "invalid" }, function(_, want, got)
  return got.status == "invalid" and got.error_kind == "invalid"
    and got.attempts == "0" and got.call_id == ""
    and (want.name == "" or by_name[want.name] == nil)
end), "invalid rows are recorded invalid and were never sent")

do
  local placed, ids, dup = 0, {}, false
  for _, r in ipairs(rows) do
    if r.status == "placed" or r.status == "placed (reconciled)" then
      placed = placed + 1
      if ids[r.call_id] then dup = true end
      ids[r.call_id] = true
    end
  end
  tap(#stored == placed and not dup, "the sandbox stored as many calls as "
      .. "the results say were placed", ("stored %d, placed %d%s"):format(
      #stored, placed, dup and ", a call id twice" or ""))
  local all = true
  for id in pairs(by_id) do all = all and ids[id] == true end
  tap(all, "every call the sandbox stored is one row's call id")
end

do
  local text = read(progress_path)
  tap(text:find("\r", 1, true) and text:find(("%d/%d done"):format(n, n),
      1, true), "the progress line was shown on stderr")
end

os.exit(failed and 1 or 0)
