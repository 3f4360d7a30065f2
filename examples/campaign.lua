-- campaign.lua: calls every contact of a CSV file, N calls at a time,
-- and writes what became of each row to a results CSV.
--
--   lua5.4 examples/campaign.lua --agent-id ID --pool-id ID \
--     [--in-flight 8] [--max-attempts 3] [--output results.csv] \
--     [--base-url URL] [--timeout 30] [--map column=target]... contacts.csv
--
-- The API key comes from RINGG_API_KEY (or RINGG_SANDBOX_KEY), the base
-- URL from --base-url, else RINGG_BASE_URL, else Ringg's own.
--
-- The first line of the CSV names the columns; MAPPING below says which
-- column fills which field of a call, and --map adds to it. A row that
-- fails local validation is recorded as invalid and never sent. Every
-- other row is placed with client:start_call; an error that
-- err.retryable allows is retried after ringg.backoff() seconds, up to
-- --max-attempts sends, without holding up the other rows. An error
-- after the request was sent (a timeout, a reply cut off) is never
-- retried blindly: the call may exist, so the script looks it up with
-- client:find_calls, and places it once more only when it is not there.
--
-- Each row ends with one line in the results, written as it settles:
--   row,name,mobile_number,call_id,status,error_kind,error_message,attempts
-- where status is "placed", "placed (reconciled)" (found by the lookup),
-- "not placed" (sent, failed, and not found by the lookup), "failed"
-- (refused, or out of retries), "unknown" (the lookup itself failed) or
-- "invalid". Rows are numbered from 1 after the header; blank lines do
-- not count. Exit status: 0 when every row was processed, whatever became
-- of it; 1 on a usage error; 2 when the CSV cannot be read or its
-- columns do not fit the mapping.

-- Run from the source tree, use its module and build (harmless when
-- ringg is installed: these paths then do not exist).
do
  local root = (arg and arg[0] or ""):match("^(.-)[^/]*$") .. "../"
  package.path = root .. "src/?.lua;" .. root .. "src/?/init.lua;"
    .. package.path
  package.cpath = root .. "build/5.4/?.so;" .. package.cpath
end

local argparse = require "argparse"
local lpeg = require "lpeg"
local socket = require "socket"
local ringg = require "ringg"

local gettime, sleep = socket.gettime, socket.sleep
local floor, min, max = math.floor, math.min, math.max
local concat = table.concat


-- Which column (its header, compared without case or surrounding
-- blanks) fills which field of the call: "name", "mobile_number", or
-- any other word, a variable of custom_args_values.
local MAPPING = {
  name = "name",
  callee_name = "name",
  mobile_number = "mobile_number",
  phone = "mobile_number",
  mobile = "mobile_number",
  company = "company_name",
  company_name = "company_name",
  appointment_date = "appointment_date",
}

-- Error kinds that are a definite "no" from the server: nothing was
-- placed, so there is nothing to look up.
local REFUSED = {
  auth = true, credits = true, not_found = true, rejected = true,
  invalid = true,
}

-- How far before the campaign's start the lookup searches, to allow for
-- a server clock slightly behind ours.
local CLOCK_SKEW = 60

local PROGRESS_EVERY = 0.2
local POLL_WAIT = 0.05

local RESULT_COLUMNS = {
  "row", "name", "mobile_number", "call_id", "status", "error_kind",
  "error_message", "attempts",
}


--
-- CSV (RFC 4180, also accepting LF and CR line ends)
--

local CSV
do
  local P, S, C, Cs, Ct, Cp = lpeg.P, lpeg.S, lpeg.C, lpeg.Cs, lpeg.Ct,
    lpeg.Cp
  local eol = P"\r\n" + P"\n" + P"\r"
  local quoted = P'"' * Cs(((1 - P'"') + P'""' / '"') ^ 0) * P'"'
  local bare = C((1 - S',"\r\n') ^ 0)
  local field = quoted + bare
  local record = Ct(field * ("," * field) ^ 0)
  -- the last record may be empty (after a final line end); the position
  -- shows how far the text was understood
  CSV = Ct((record * eol) ^ 0 * record) * Cp()
end


-- The line of `text` that position `pos` is on.
local function line_of(text, pos)
  local _, ends = text:sub(1, pos - 1):gsub("\r?\n", "")
  return ends + 1
end


-- The records of `text`, without blank lines; or nil and a message.
local function parse_csv(text)
  text = text:gsub("^\239\187\191", "")  -- a UTF-8 byte order mark
  local records, pos = CSV:match(text)
  if pos <= #text then
    return nil, ("malformed CSV at line %d (a stray or unclosed quote?)")
      :format(line_of(text, pos))
  end
  local out = {}
  for _, r in ipairs(records) do
    if #r > 1 or r[1] ~= "" then out[#out + 1] = r end
  end
  return out
end


local function csv_field(v)
  v = tostring(v == nil and "" or v)
  if v:find('[,"\r\n]') or v:find("^%s") or v:find("%s$") then
    return '"' .. v:gsub('"', '""') .. '"'
  end
  return v
end


local function csv_line(values)
  local out = {}
  for i = 1, #RESULT_COLUMNS do out[i] = csv_field(values[i]) end
  return concat(out, ",") .. "\r\n"
end


--
-- Options and the column mapping
--

local function trim(s)
  return s:match("^%s*(.-)%s*$")
end


local function parse_options()
  local parser = argparse("campaign.lua",
    "Calls every contact of a CSV file through the Ringg AI API.")
  parser:argument("csv", "The contacts: a CSV file with a header line "
    .. "('-': stdin).")
  parser:option("--agent-id", "The agent that makes the calls.")
    :count(1):argname("<id>")
  parser:option("--pool-id", "The number pool the calls come from.")
    :count(1):argname("<id>")
  parser:option("--in-flight", "Calls in flight at once.", "8")
    :convert(tonumber):argname("<n>")
  parser:option("--max-attempts", "Sends of a row at most, retries "
    .. "included.", "3"):convert(tonumber):argname("<n>")
  parser:option("--output", "Where the results go ('-': stdout).", "-")
    :argname("<file>")
  parser:option("--base-url", "The API's base URL.")
    :argname("<url>")
  parser:option("--timeout", "Seconds a request may take.", "30")
    :convert(tonumber):argname("<seconds>")
  parser:option("--callback-url", "The webhook URL of every call.")
    :argname("<url>")
  parser:option("--map", "Adds to the column mapping: a column's "
    .. "target is name, mobile_number or a prompt variable; empty to "
    .. "ignore the column.")
    :count("*"):argname("<column=target>")
  parser:flag("--quiet", "No progress line.")
  local opts = parser:parse()
  local function whole(name, lo, hi)
    local v = opts[name]
    if not v or v ~= floor(v) or v < lo or v > hi then
      parser:error(("--%s must be a whole number from %d to %d")
        :format(name:gsub("_", "-"), lo, hi))
    end
  end
  whole("in_flight", 1, 1024)
  whole("max_attempts", 1, 100)
  if not opts.timeout or opts.timeout <= 0 then
    parser:error("--timeout must be a number of seconds > 0")
  end
  return opts, parser
end


-- MAPPING with the --map options applied, or nil and a message.
local function mapping_of(maps)
  local m = {}
  for column, target in pairs(MAPPING) do m[column] = target end
  for _, spec in ipairs(maps) do
    local column, target = spec:match("^([^=]+)=(.*)$")
    if not column then
      return nil, ("--map %s: expected column=target"):format(spec)
    end
    column, target = trim(column):lower(), trim(target)
    if target ~= "" and not target:find("^[%a_][%w_]*$") then
      return nil, ("--map %s: a target is a field or variable name")
        :format(spec)
    end
    m[column] = target ~= "" and target or false
  end
  return m
end


-- The target of each column of `header` (by index), or nil and a
-- message when a field is missing or given twice.
local function targets_of(header, mapping)
  local targets, seen, ignored = {}, {}, {}
  for i, h in ipairs(header) do
    local column = trim(h):lower()
    local target = mapping[column]
    if target then
      if seen[target] then
        return nil, ("columns %q and %q both map to %s"):format(
          seen[target], h, target)
      end
      seen[target], targets[i] = h, target
    elseif column ~= "" then
      ignored[#ignored + 1] = h
    end
  end
  for _, field in ipairs{ "name", "mobile_number" } do
    if not seen[field] then
      return nil, ("no column maps to %s (use --map column=%s)")
        :format(field, field)
    end
  end
  return targets, ignored
end


--
-- Rows
--

-- The call parameters of one CSV record, and a message when the record
-- has more fields than the header (the row is then invalid).
local function params_of(record, header, targets, opts)
  local p = { agent_id = opts.agent_id, number_pool_id = opts.pool_id,
              callback_url = opts.callback_url }
  local vars = {}
  for i, target in pairs(targets) do
    local v = trim(record[i] or "")
    if v ~= "" then
      if target == "name" or target == "mobile_number" then
        p[target] = v
      else
        vars[target] = v
      end
    end
  end
  if next(vars) then p.custom_args_values = vars end
  if #record > #header then
    return p, ("invalid row: %d fields, but the header names %d")
      :format(#record, #header)
  end
  return p
end


-- A min-heap of rows by due time (then row number, so rows due at once
-- go in input order).
local function earlier(a, b)
  return a.due < b.due or (a.due == b.due and a.n < b.n)
end


local function heap_push(h, row)
  local i = #h + 1
  h[i] = row
  while i > 1 do
    local parent = i // 2
    if not earlier(h[i], h[parent]) then break end
    h[i], h[parent] = h[parent], h[i]
    i = parent
  end
end


local function heap_pop(h)
  local top, last = h[1], h[#h]
  h[#h] = nil
  if #h == 0 then return top end
  h[1] = last
  local i = 1
  while true do
    local l, r, m = 2 * i, 2 * i + 1, i
    if h[l] and earlier(h[l], h[m]) then m = l end
    if h[r] and earlier(h[r], h[m]) then m = r end
    if m == i then return top end
    h[i], h[m] = h[m], h[i]
    i = m
  end
end


--
-- The campaign
--

local Campaign = {}
Campaign.__index = Campaign


local function new_campaign(client, opts, out, total)
  local start = gettime()
  return setmetatable({
    client = client, opts = opts, out = out, total = total,
    start = start,
    since = os.date("!%Y-%m-%dT%H:%M:%S+00:00",
                    floor(start) - CLOCK_SKEW),
    due = {},          -- heap of rows waiting to be sent
    lookups = {},      -- rows whose call may exist: to look up
    claimed = {},      -- call ids already reported for some row
    in_flight = 0, settled = 0, failed = 0, shown = 0,
  }, Campaign)
end


-- Records the outcome of `row`: one results line, written at once.
function Campaign:settle(row, status, call_id, err)
  if call_id then self.claimed[call_id] = true end
  if status ~= "placed" and status ~= "placed (reconciled)" then
    self.failed = self.failed + 1
  end
  self.settled = self.settled + 1
  self.out:write(csv_line{
    row.n, row.name, row.mobile, call_id, status, err and err.kind,
    err and err.message, row.sends,
  })
  self.out:flush()
end


function Campaign:schedule(row, delay)
  row.due = gettime() + delay
  heap_push(self.due, row)
end


-- The callback of one send of `row`; runs inside client:poll.
function Campaign:on_reply(row, call, err)
  self.in_flight = self.in_flight - 1
  if call then
    return self:settle(row, "placed", call.id)
  end
  row.err = err
  if err.retryable then
    if row.attempts < self.opts.max_attempts then
      return self:schedule(row, ringg.backoff(row.attempts, err))
    end
    return self:settle(row, "failed", nil, err)
  end
  if err.sent == false or REFUSED[err.kind] then
    return self:settle(row, "failed", nil, err)
  end
  self.lookups[#self.lookups + 1] = row
end


function Campaign:send(row)
  local handle, err = self.client:start_call(row.params, function(c, e)
    self:on_reply(row, c, e)
  end)
  if not handle then
    return self:settle(row, err.kind == "invalid" and "invalid"
                       or "failed", nil, err)
  end
  row.attempts = row.attempts + 1
  row.sends = row.sends + 1
  self.in_flight = self.in_flight + 1
end


-- The call among `found` that `row` placed: same name, not already
-- reported for another row; the oldest such (they are newest first).
-- Two rows of the same name and number are one contact twice: either
-- call fits either row.
function Campaign:pick(found, row)
  for i = #found, 1, -1 do
    local call = found[i]
    if not self.claimed[call.id]
        and (call.name == nil or call.name == row.name) then
      return call
    end
  end
end


-- A send of `row` failed after reaching the server: learn whether the
-- call exists before deciding anything.
function Campaign:reconcile(row)
  local found, err = self.client:find_calls{
    mobile_number = row.mobile, since = self.since,
    agent_id = self.opts.agent_id,
  }
  if not found then
    return self:settle(row, "unknown", nil, { kind = err.kind,
      message = "the call may exist; looking it up failed: "
        .. err.message })
  end
  local call = self:pick(found, row)
  if call then
    return self:settle(row, "placed (reconciled)", call.id, row.err)
  end
  if row.replaced then
    return self:settle(row, "not placed", nil, row.err)
  end
  -- now known not to exist: it may be placed again, once
  row.replaced, row.attempts = true, 0
  self:schedule(row, 0)
end


function Campaign:progress(final)
  if self.opts.quiet then return end
  local now = gettime()
  if not final and now - self.shown < PROGRESS_EVERY then return end
  self.shown = now
  local rate = self.settled / max(now - self.start, 1e-3)
  io.stderr:write(("\r%d/%d done, %.1f calls/s, %d failed, %d in flight ")
    :format(self.settled, self.total, rate, self.failed, self.in_flight),
    final and "\n" or "")
end


-- Sends what is due, waits a little for replies, looks up what needs
-- it; until every row has settled.
function Campaign:run()
  local due, limit = self.due, self.opts.in_flight
  while self.settled < self.total do
    local now = gettime()
    while self.in_flight < limit and due[1] and due[1].due <= now do
      self:send(heap_pop(due))
    end
    local wait = POLL_WAIT
    if due[1] and self.in_flight < limit then
      wait = max(0, min(wait, due[1].due - now))
    end
    if self.in_flight > 0 then
      self.client:poll(wait)
    elseif #self.lookups == 0 then
      -- nothing in flight: every row left is waiting for its time
      assert(due[1], "campaign.lua: a row was lost")
      if wait > 0 then sleep(wait) end
    end
    local lookups = self.lookups
    self.lookups = {}
    for _, row in ipairs(lookups) do self:reconcile(row) end
    self:progress()
  end
  self:progress(true)
end


--
-- Main
--

local function read_file(path)
  local f, err = path == "-" and io.stdin or io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("a")
  if f ~= io.stdin then f:close() end
  return text
end


local function fail(status, message)
  io.stderr:write("campaign.lua: ", message, "\n")
  os.exit(status)
end


-- Warns when the agent's prompt uses a variable no column gives.
local function check_prompt(client, opts, targets)
  local sample = {}
  for _, target in pairs(targets) do
    if target ~= "name" and target ~= "mobile_number" then
      sample[target] = "x"
    end
  end
  local report, err = client:check_variables(opts.agent_id, sample)
  if not report then
    io.stderr:write("campaign.lua: could not check the agent's prompt: ",
                    tostring(err), "\n")
  elseif #report.missing > 0 then
    io.stderr:write("campaign.lua: warning: the agent's prompt uses ",
      concat(report.missing, ", "), ", which no column gives\n")
  end
end


local function main()
  local opts, parser = parse_options()
  local key = os.getenv("RINGG_API_KEY") or os.getenv("RINGG_SANDBOX_KEY")
  if not key or key == "" then
    parser:error("set RINGG_API_KEY to the workspace's API key")
  end
  local mapping, merr = mapping_of(opts.map)
  if not mapping then parser:error(merr) end
  local text, rerr = read_file(opts.csv)
  if not text then fail(2, rerr) end
  local records, cerr = parse_csv(text)
  if not records then fail(2, opts.csv .. ": " .. cerr) end
  local header = table.remove(records, 1)
  if not header then fail(2, opts.csv .. ": no header line") end
  local targets, ignored = targets_of(header, mapping)
  if not targets then fail(2, opts.csv .. ": " .. ignored) end
  if #ignored > 0 then
    io.stderr:write("campaign.lua: ignoring columns ",
                    concat(ignored, ", "), "\n")
  end

  local ok, client = pcall(ringg.new, {
    api_key = key,
    base_url = opts.base_url or os.getenv("RINGG_BASE_URL"),
    timeout = opts.timeout, max_in_flight = opts.in_flight,
  })
  if not ok then parser:error(client) end
  check_prompt(client, opts, targets)

  local out = io.stdout
  if opts.output ~= "-" then
    local oerr
    out, oerr = io.open(opts.output, "wb")
    if not out then fail(2, oerr) end
  end
  out:write(csv_line(RESULT_COLUMNS))

  local campaign = new_campaign(client, opts, out, #records)
  for n, record in ipairs(records) do
    local params, why = params_of(record, header, targets, opts)
    local row = { n = n, params = params, attempts = 0, sends = 0,
                  name = params.name, mobile = params.mobile_number }
    local valid, err = ringg.validate(params)
    if why then
      campaign:settle(row, "invalid", nil, { kind = "invalid",
                                             message = why })
    elseif not valid then
      campaign:settle(row, "invalid", nil, err)
    else
      campaign:schedule(row, 0)
    end
  end
  campaign:run()
  client:close()
  if out ~= io.stdout then out:close() end
  return 0
end


os.exit(main())
