-- The soak: many calls on ONE client against the sandbox, a fault every
-- tenth call (429, 500, malformed JSON, a reply cut mid-body, in turn),
-- rounds of blocking client:call alternating with batches of start_call
-- polled to their end. Resident memory and open descriptors are sampled
-- as it goes; after the first 10% both must stay flat.
--
--   spec/sandbox/sandbox start
--   lua5.4 bench/soak.lua [CALLS]       (default 100000; luajit too)
--
-- prints progress, a table of the samples and a verdict, and exits
-- non-zero when a call ended otherwise than expected or something grew.
-- spec/52-soak_spec.lua runs a short soak through soak.run in `make test`.

local lfs = require "lfs"
local helpers = require "spec.helpers"

local FAULT = helpers.FAULT
local floor = math.floor

local soak = {}

-- Calls per blocking run and per started batch: a round is one of each.
soak.BATCH = 10

-- The faults, one every tenth call, in turn, and the kind each must give.
local FAULTS = {
  { number = FAULT.rate_limited, kind = "rate_limited" },
  { number = FAULT.server, kind = "server" },
  { number = FAULT.malformed, kind = "protocol" },
  { number = FAULT.cut_off, kind = "network" },
}

-- Calls after which the pattern of calls and faults repeats.
soak.PERIOD = 10 * #FAULTS

local NORMAL = "+919876543210"


-- The number to call as call `i` (from 1), and the fault it plays.
local function plan(i)
  if i % 10 ~= 0 then return NORMAL, nil end
  local fault = FAULTS[(floor(i / 10) - 1) % #FAULTS + 1]
  return fault.number, fault
end


local page_size

-- Resident memory of this process, in bytes.
function soak.resident()
  if not page_size then
    local p = io.popen("getconf PAGESIZE")
    page_size = p and tonumber(p:read("*l")) or 4096
    if p then p:close() end
  end
  local f = assert(io.open("/proc/self/statm", "r"))
  local _, pages = f:read("*n", "*n")
  f:close()
  return pages * page_size
end


-- Open descriptors of this process, and the inodes of its sockets.
local function open_descriptors()
  local n, sockets = 0, {}
  for name in lfs.dir("/proc/self/fd") do
    if name ~= "." and name ~= ".." then
      n = n + 1
      local target = lfs.symlinkattributes("/proc/self/fd/" .. name,
                                           "target")
      local inode = target and target:match("^socket:%[(%d+)%]$")
      if inode then sockets[inode] = true end
    end
  end
  return n, sockets
end


-- Open descriptors of this process, and how many of them are TCP
-- connections in the ESTABLISHED state. libcurl's multi handle keeps a
-- pool of connections whose size depends on timing (a transfer may
-- reuse a connection another one just freed instead of opening its
-- own), so only the others can be expected to stay exactly equal; a
-- socket the server closed and nobody closed here is not ESTABLISHED.
function soak.descriptors()
  local n, sockets = open_descriptors()
  local established = 0
  for _, table_path in ipairs{ "/proc/net/tcp", "/proc/net/tcp6" } do
    local f = io.open(table_path, "r")
    if f then
      for line in f:lines() do
        local state, inode = line:match("^%s*%d+:%s+%S+%s+%S+%s+(%x%x)"
          .. "%s+%S+%s+%S+%s+%S+%s+%S+%s+%S+%s+(%d+)")
        if state == "01" and sockets[inode] then
          established = established + 1
        end
      end
      f:close()
    end
  end
  return n, established
end


-- Tallies one outcome in `tally`; a call that ended otherwise than its
-- plan goes to tally.wrong.
local function record(tally, i, fault, call, err)
  local kind = err and err.kind or "ok"
  tally[kind] = (tally[kind] or 0) + 1
  local want = fault and fault.kind or "ok"
  local fine = kind == want
    and (want ~= "ok" or type(call) == "table" and type(call.id) == "string")
  if not fine and #tally.wrong < 20 then
    tally.wrong[#tally.wrong + 1] = ("call %d: wanted %s, got %s"):format(
      i, want, err and tostring(err) or kind)
  end
end


-- Takes one sample after `calls` calls, `seconds` in.
local function take_sample(calls, seconds)
  collectgarbage("collect")
  local total, established = soak.descriptors()
  return { calls = calls, seconds = seconds, resident = soak.resident(),
           descriptors = total, connections = established,
           others = total - established }
end


-- Runs `calls` calls (rounded up to whole periods). opts: every (calls
-- between samples, rounded to whole periods; default calls / 50),
-- reset_every (calls between sandbox resets; default none), progress
-- (function(sample) run at each sample), timeout (seconds per request).
-- Returns {samples, tally, calls, seconds, before, after}: samples are
-- {calls, seconds, resident, descriptors, connections, others}; tally
-- counts the outcomes by kind ("ok" for a call placed) and lists what
-- went wrong; before and after are the descriptors open before the
-- client was made and after it was closed.
function soak.run(calls, opts)
  opts = opts or {}
  local period = soak.PERIOD
  calls = math.ceil(calls / period) * period
  local every = math.max(period,
    floor((opts.every or calls / 50) / period) * period)
  collectgarbage("collect")
  local before = soak.descriptors()
  local client = helpers.client{ timeout = opts.timeout or 10 }
  local tally = { wrong = {} }
  local samples = {}
  local started = helpers.now()
  local i = 0
  local function round()
    for _ = 1, soak.BATCH do
      i = i + 1
      local number, fault = plan(i)
      local call, err = client:call(helpers.call_params(number))
      record(tally, i, fault, call, err)
    end
    local runs = 0
    for _ = 1, soak.BATCH do
      i = i + 1
      local n, number, fault = i, plan(i)
      local handle, err = client:start_call(helpers.call_params(number),
        function(call, cerr)
          runs = runs + 1
          record(tally, n, fault, call, cerr)
        end)
      if not handle then record(tally, n, fault, nil, err) end
    end
    local deadline = helpers.now() + 30
    while client:pending() > 0 do
      assert(helpers.now() < deadline, "calls still in flight after 30 s")
      client:poll(1)
    end
    if runs ~= soak.BATCH then
      tally.wrong[#tally.wrong + 1] = ("round ending at call %d: %d "
        .. "callbacks for %d calls"):format(i, runs, soak.BATCH)
    end
  end
  while i < calls do
    round()
    if opts.reset_every and i % opts.reset_every == 0 then
      helpers.control("POST", "/reset")
    end
    if i % every == 0 then
      samples[#samples + 1] = take_sample(i, helpers.now() - started)
      if opts.progress then opts.progress(samples[#samples]) end
    end
  end
  client:close()
  local seconds = helpers.now() - started
  client = nil
  collectgarbage("collect")
  return { samples = samples, tally = tally, calls = calls,
           seconds = seconds, before = before, after = soak.descriptors() }
end


-- The sample at or just after the first 10% of the calls, and the last.
function soak.marks(result)
  local from
  for _, s in ipairs(result.samples) do
    if s.calls >= result.calls / 10 then
      from = s
      break
    end
  end
  return from, result.samples[#result.samples]
end


-- What changed after the 10% mark: {bytes, others, connections}: the
-- growth of resident memory from the mark to the end, the largest
-- difference of any later sample's descriptors other than connections
-- from the mark's, and the most connections any sample had open.
function soak.growth(result)
  local from, last = soak.marks(result)
  local others, connections = 0, 0
  for _, s in ipairs(result.samples) do
    if s.calls >= from.calls then
      others = math.max(others, math.abs(s.others - from.others))
    end
    connections = math.max(connections, s.connections)
  end
  return { bytes = last.resident - from.resident, others = others,
           connections = connections }
end


-- The most connections one client may keep: its easy handle's, and one
-- per request of a started batch.
soak.MAX_CONNECTIONS = 1 + soak.BATCH


local function main(arg)
  local calls = tonumber(arg[1] or "100000")
  local interpreter = type(jit) == "table" and jit.version or _VERSION
  print(("soak: %d calls on one client, %s; a fault every 10th call")
        :format(calls, interpreter))
  print(("%10s %12s %6s %6s %9s %9s"):format("calls", "resident", "fds",
        "conns", "seconds", "calls/s"))
  local result = soak.run(calls, {
    every = calls / 50,
    reset_every = 25000,
    progress = function(s)
      print(("%10d %12d %6d %6d %9.2f %9.0f"):format(s.calls, s.resident,
            s.descriptors, s.connections, s.seconds, s.calls / s.seconds))
      io.stdout:flush()
    end,
  })
  local growth = soak.growth(result)
  local kinds = {}
  for kind, n in pairs(result.tally) do
    if kind ~= "wrong" then kinds[#kinds + 1] = kind .. " " .. n end
  end
  table.sort(kinds)
  print("outcomes: " .. table.concat(kinds, ", "))
  print(("after the first 10%%: resident %+d bytes, descriptors other "
        .. "than connections %+d; at most %d connections"):format(
        growth.bytes, growth.others, growth.connections))
  print(("descriptors: %d before the client, %d after close; %.2f s in "
        .. "all, %.0f calls/s"):format(result.before, result.after,
        result.seconds, result.calls / result.seconds))
  for _, line in ipairs(result.tally.wrong) do print("wrong: " .. line) end
  local ok = #result.tally.wrong == 0 and growth.bytes < 1024 * 1024
    and growth.others == 0 and growth.connections <= soak.MAX_CONNECTIONS
    and result.before == result.after
  print(ok and "flat: ok" or "FAILED")
  os.exit(ok and 0 or 1)
end


-- Run as a program from the top of the tree: the module, and its core
-- as built for this interpreter.
if arg and arg[0] and arg[0]:match("soak%.lua$") then
  local build = type(jit) == "table" and "build/jit" or "build/5.4"
  package.path = "src/?.lua;src/?/init.lua;./?.lua;" .. package.path
  package.cpath = build .. "/?.so;" .. package.cpath
  main(arg)
end

return soak
