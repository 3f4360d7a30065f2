-- The benchmark driver: runs every program of bench/ and prints one
-- report (see bench/README.md for how to read it). bench/run.sh starts
-- the fixed-reply nginx and calls this with its environment:
--
--   lua5.4 bench/run.lua [--smoke | --quick] [--rounds N] [--seconds S]
--
-- RINGG_BENCH_URL    base URL of the fixed-reply nginx (required)
-- RINGG_BENCH_LUA    the Lua that runs the Lua programs (lua5.4)
-- RINGG_BENCH_CPATH  where its ringg/core.so is (build/5.4; read by
--                    bench/lib.lua)
-- RINGG_BENCH_BIN    where the C baselines are (build/bench)
--
-- --smoke runs each program once, briefly, and prints TAP instead: one
-- "ok N - <program> runs" line per program, and no figures. --quick
-- makes the whole report in seconds, with figures worth nothing (the
-- smoke run uses it to check the report itself).

local lib = require "bench.lib"

local LUA = os.getenv "RINGG_BENCH_LUA" or "lua5.4"
local BIN = os.getenv "RINGG_BENCH_BIN" or "build/bench"
local URL = lib.url()
local BODY = BIN .. "/body.json"

local opts = { rounds = 5, seconds = 1.5, smoke = false, scale_rounds = 3,
               memory = { 10000, 100000 }, count = 2000 }
do
  local i = 1
  while arg[i] do
    local a = arg[i]
    if a == "--smoke" then
      opts.smoke = true
    elseif a == "--quick" then
      opts.rounds, opts.seconds, opts.scale_rounds = 1, 0.1, 1
      opts.memory, opts.count = { 500, 1000 }, 20
    elseif a == "--rounds" or a == "--seconds" then
      opts[a:sub(3)] = assert(tonumber(arg[i + 1]), a .. " needs a number")
      i = i + 1
    else
      error("unknown argument " .. a)
    end
    i = i + 1
  end
end


--
-- Running programs
--

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end


local function command(words)
  local out = {}
  for i, w in ipairs(words) do out[i] = quote(w) end
  return table.concat(out, " ")
end


-- Runs a program; returns its "name value" lines as a table and its
-- whole output, or nil and the reason (the end of its standard error,
-- and its exit status).
local function run(words)
  local errfile = os.tmpname()
  local p = assert(io.popen(command(words) .. " 2>" .. quote(errfile)))
  local out = p:read("a")
  local ok, how, code = p:close()
  local ef = io.open(errfile, "r")
  local err = ef and ef:read("a") or ""
  if ef then ef:close() end
  os.remove(errfile)
  if not ok then
    return nil, ("%s %s: %s"):format(how, tostring(code), err:sub(-1500))
  end
  local values = {}
  for name, value in out:gmatch("(%S+) (%S+)\n") do
    values[name] = tonumber(value) or value
  end
  return values, out
end


local function lua_program(name, ...)
  return { LUA, "bench/" .. name .. ".lua", ... }
end


local function c_program(name, ...)
  return { BIN .. "/" .. name, URL, BODY, ... }
end


local function median(list)
  local s = {}
  for i, v in ipairs(list) do s[i] = v end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end


-- Half the range around the median, in percent: how much runs differ.
local function spread(list)
  local lo, hi = math.huge, -math.huge
  for _, v in ipairs(list) do
    lo, hi = math.min(lo, v), math.max(hi, v)
  end
  return 100 * (hi - lo) / 2 / median(list)
end


-- Runs a program and returns its value `key`; raises on failure.
local function measure(words, key)
  local values, err = run(words)
  if not values then
    error(("%s failed: %s"):format(words[2] or words[1], err), 0)
  end
  if values[key] == nil then
    error(("%s printed no %s"):format(words[2] or words[1], key), 0)
  end
  return values[key]
end


--
-- Formatting
--

-- 1234567.8 -> "1,234,568"
local function thousands(x)
  local sign, digits = ("%d"):format(math.floor(x + 0.5)):match("^(%-?)(%d+)$")
  local head = (#digits - 1) % 3 + 1
  return sign .. digits:sub(1, head)
    .. digits:sub(head + 1):gsub("%d%d%d", ",%0")
end


local function ratio_text(r)
  return ("%.2f"):format(r)
end


-- Left-aligns columns: rows of strings, with `right` the set of columns
-- aligned right.
local function print_table(rows, right, indent)
  local widths = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do
      widths[i] = math.max(widths[i] or 0, #cell)
    end
  end
  for _, row in ipairs(rows) do
    local cells = {}
    for i, cell in ipairs(row) do
      local pad = (" "):rep(widths[i] - #cell)
      cells[i] = right[i] and pad .. cell or cell .. pad
    end
    local line = (indent or "") .. table.concat(cells, "  ")
    print((line:gsub("%s+$", "")))
  end
end


--
-- The machine
--

local function read_first(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  if not p then return nil end
  local line = p:read("l")
  p:close()
  return line
end


local function cpu_model()
  local f = io.open("/proc/cpuinfo", "r")
  if not f then return "unknown CPU" end
  local model
  for line in f:lines() do
    model = line:match("^model name%s*:%s*(.-)%s*$")
    if model then break end
  end
  f:close()
  return model or "unknown CPU"
end


local function machine()
  local cores = read_first("nproc") or "?"
  local kernel = read_first("uname -sr") or "?"
  local arch = read_first("uname -m") or ""
  local lua = read_first(LUA .. " -v") or LUA
  lua = lua:match("^(Lua%S* %S+)") or lua
  local curl = read_first(quote(BIN .. "/easy_baseline") .. " --version")
  local cjson = read_first(LUA
    .. " -e 'print(\"lua-cjson \" .. require(\"cjson\")._VERSION)'")
  local socket = read_first(LUA
    .. " -e 'print(require(\"socket\")._VERSION)'")
  local nginx = read_first("nginx -v 2>&1 | head -n 1") or "nginx"
  nginx = nginx:match("(nginx/%S+)") or nginx
  return {
    ("machine : %s, %s cores, %s %s"):format(cpu_model(), cores, kernel,
                                            arch),
    ("software: %s, %s, %s, %s, %s (fixed reply, keep-alive, "
      .. "worker_processes auto)"):format(lua, curl or "libcurl ?",
      cjson or "lua-cjson ?", socket or "LuaSocket ?", nginx),
  }
end


--
-- The pairs
--

local PAIRS = {
  {
    name = "assembly", target = 1.0,
    a = "client:prepare", b = "cjson.encode, no validation",
    run_a = function(s) return lua_program("prepare", s) end,
    run_b = function(s) return lua_program("encode", s) end,
  },
  {
    name = "one at a time", target = 0.9,
    a = "client:call", b = "C, one libcurl easy handle",
    run_a = function(s) return lua_program("call", s) end,
    run_b = function(s) return c_program("easy_baseline", s) end,
  },
  {
    name = "16 in flight", target = 0.8,
    a = "start_call + poll", b = "C, curl multi handle",
    run_a = function(s) return lua_program("inflight", s, 16) end,
    run_b = function(s) return c_program("multi_baseline", s, 16) end,
  },
  {
    name = "(validate only)",
    a = "ringg.validate", b = "cjson.encode, no validation",
    run_a = function(s) return lua_program("validate", s) end,
    run_b = function(s) return lua_program("encode", s) end,
  },
  {
    name = "pure Lua", target = 1.5,
    a = "client:call", b = "LuaSocket http + cjson (*)",
    run_a = function(s) return lua_program("call", s) end,
    run_b = function(s) return lua_program("luasocket", s) end,
  },
}


-- Every pair, A and B alternating: A then B in odd rounds, B then A in
-- even ones, so that a drift of the machine's speed hits both alike.
local function run_pairs()
  for _, p in ipairs(PAIRS) do p.as, p.bs = {}, {} end
  for round = 1, opts.rounds do
    for _, p in ipairs(PAIRS) do
      local order = round % 2 == 1 and { "a", "b" } or { "b", "a" }
      for _, side in ipairs(order) do
        local words = p["run_" .. side](opts.seconds)
        table.insert(p[side .. "s"], measure(words, "rate"))
      end
    end
    io.stderr:write(("bench: round %d of %d done\n"):format(round,
                                                         opts.rounds))
  end
end


local function print_pairs()
  local rows = {
    { "pair", "A", "calls/s", "+-", "B", "calls/s", "+-", "A/B", "target",
      "holds" },
  }
  for _, p in ipairs(PAIRS) do
    local a, b = median(p.as), median(p.bs)
    local r = a / b
    rows[#rows + 1] = {
      p.name, p.a, thousands(a), ("%.0f%%"):format(spread(p.as)),
      p.b, thousands(b), ("%.0f%%"):format(spread(p.bs)),
      ratio_text(r), p.target and ">= " .. ratio_text(p.target) or "-",
      p.target and (r >= p.target and "yes" or "NO") or "-",
    }
  end
  print_table(rows, { [3] = true, [4] = true, [6] = true, [7] = true,
                      [8] = true })
  print()
  print("calls/s are medians; +- is half the range of the runs around "
        .. "the median.")
  print("(validate only) has no target: it is the assembly pair without "
        .. "building the")
  print("request table, to show what that table costs.")
  print("(*) LuaSocket's socket.http cannot keep a connection alive: B "
        .. "opens a new")
  print("    connection for every call while client:call reuses one. "
        .. "That is the point")
  print("    of the comparison: it is what a pure-Lua script pays today.")
end


--
-- How cost grows
--

local function run_vars()
  local rows = { { "custom variables", "us per prepare",
                   "us per added variable" } }
  local counts, us = { 10, 100, 1000 }, {}
  for k, n in ipairs(counts) do
    local runs = {}
    for i = 1, opts.scale_rounds do
      runs[i] = measure(lua_program("vars", opts.seconds / 1.5, n), "us")
    end
    us[k] = median(runs)
    rows[#rows + 1] = { tostring(n), ("%.2f"):format(us[k]),
      k == 1 and "" or ("%.3f"):format((us[k] - us[k - 1])
                                       / (n - counts[k - 1])) }
  end
  print("client:prepare with many custom variables (median of "
        .. opts.scale_rounds .. " runs)")
  print()
  print_table(rows, { true, true, true }, "  ")
  print()
  local early = (us[2] - us[1]) / (counts[2] - counts[1])
  local late = (us[3] - us[2]) / (counts[3] - counts[2])
  print(("  an added variable costs %.2f times as much from 100 to 1000 as "
    .. "from 10 to 100"):format(late / early))
  print("  (1.00 is linear growth)")
end


local function run_inflight()
  local rows = { { "in flight", "ringg calls/s", "C multi calls/s",
                   "ringg / C" } }
  for _, n in ipairs{ 1, 4, 16, 64, 256 } do
    local a, b = {}, {}
    for i = 1, opts.scale_rounds do
      a[i] = measure(lua_program("inflight", opts.seconds, n), "rate")
      b[i] = measure(c_program("multi_baseline", opts.seconds, n), "rate")
    end
    local ma, mb = median(a), median(b)
    rows[#rows + 1] = { tostring(n), thousands(ma), thousands(mb),
                        ratio_text(ma / mb) }
  end
  print("calls in flight: start_call + poll with max_in_flight = the "
        .. "number in flight,")
  print("against the C multi baseline (median of " .. opts.scale_rounds
        .. " runs each)")
  print()
  print_table(rows, { true, true, true, true }, "  ")
end


local function run_memory()
  local v = assert(run(lua_program("memory", opts.memory[1],
                                   opts.memory[2])))
  local diff = v.rss_second - v.rss_first
  print("memory of one client (client:call; resident set from "
        .. "/proc/self/statm after a")
  print("full collection)")
  print()
  print_table({
    { "after " .. thousands(v.calls_first) .. " calls",
      thousands(v.rss_first) .. " KiB",
      ("(Lua heap %s KiB)"):format(thousands(v.lua_first)) },
    { "after " .. thousands(v.calls_second) .. " calls",
      thousands(v.rss_second) .. " KiB",
      ("(Lua heap %s KiB)"):format(thousands(v.lua_second)) },
    { "difference", ("%d KiB"):format(diff),
      ("target < 1024 KiB: %s"):format(diff < 1024 and "yes" or "NO") },
  }, { [2] = true }, "  ")
end


-- Instructions of `what` per operation: (I(2N) - I(N)) / N.
local function instructions(what, n)
  local counts = {}
  for i, k in ipairs{ n, 2 * n } do
    local out = os.tmpname()
    local words = { "valgrind", "--tool=callgrind", "--dump-instr=no",
      "--callgrind-out-file=" .. out, LUA, "bench/count.lua", what,
      tostring(k) }
    local p = assert(io.popen(command(words) .. " 2>&1"))
    local log = p:read("a")
    local ok = p:close()
    os.remove(out)
    local refs = log:match("Collected%s*:%s*(%d+)")
    if not ok or not refs then
      error("callgrind failed: " .. (log:match("([^\n]+)\n?$") or "?"), 0)
    end
    counts[i] = tonumber(refs)
  end
  return (counts[2] - counts[1]) / n
end


local function run_instructions(n)
  local prepare = instructions("prepare", n)
  local validate = instructions("validate", n)
  local encode = instructions("encode", n)
  print(("instructions per operation (valgrind --tool=callgrind, %s; "
    .. "(I(2N) - I(N)) / N,"):format(LUA))
  print(("N = %d: start-up cancels out, and machine load does not "
    .. "count)"):format(n))
  print()
  print_table({
    { "client:prepare", thousands(prepare) },
    { "ringg.validate (no request table)", thousands(validate) },
    { "cjson.encode of the same params", thousands(encode) },
    { "encode / prepare (the assembly pair, counted)",
      ratio_text(encode / prepare) },
    { "encode / validate", ratio_text(encode / validate) },
  }, { [2] = true }, "  ")
end


--
-- Smoke: every program once, briefly, as TAP
--

local function smoke()
  local s = "0.3"
  local programs = {
    { "prepare.lua", lua_program("prepare", s), "^rate %d" },
    { "encode.lua", lua_program("encode", s), "^rate %d" },
    { "validate.lua", lua_program("validate", s), "^rate %d" },
    { "call.lua", lua_program("call", s), "^rate %d" },
    { "easy_baseline", c_program("easy_baseline", s), "^rate %d" },
    { "inflight.lua", lua_program("inflight", s, 16), "^rate %d" },
    { "multi_baseline", c_program("multi_baseline", s, 16), "^rate %d" },
    { "luasocket.lua", lua_program("luasocket", s), "^rate %d" },
    { "vars.lua", lua_program("vars", s, 100), "^us %d" },
    { "memory.lua", lua_program("memory", 200, 400), "\nrss_second %d" },
    { "count.lua under callgrind", "callgrind" },
    { "run.lua, the whole report", { "lua5.4", "bench/run.lua", "--quick" },
      "\n16 in flight .-\npure Lua .-\n  after .-\n  client:prepare +%d" },
    { "profile.sh", { "sh", "bench/profile.sh", "--quick" },
      "== start:.-instructions per operation: %d.-== easy_baseline" },
  }
  local failed = 0
  local grind = read_first("valgrind --version")
  print("1.." .. #programs)
  for i, p in ipairs(programs) do
    local ok, err
    if not grind and (p[2] == "callgrind" or p[1] == "profile.sh"
                      or p[1]:find("report")) then
      print(("ok %d - # SKIP %s runs: valgrind is not installed"):format(
        i, p[1]))
      goto next
    end
    if p[2] == "callgrind" then
      ok, err = pcall(instructions, "prepare", 50)
    else
      local values, out = run(p[2])
      ok, err = values and out:find(p[3]), out
      if values and not ok then
        err = "unexpected output:\n" .. out:sub(1, 2000)
      end
    end
    if ok then
      print(("ok %d - %s runs"):format(i, p[1]))
    else
      print(("not ok %d - %s runs"):format(i, p[1]))
      print("# " .. tostring(err):gsub("\n", "\n# "))
      failed = failed + 1
    end
    ::next::
  end
  return failed == 0
end


--
-- Main
--

local function write_body()
  local ok, err = run(lua_program("body", BODY))
  if not ok then error("bench/body.lua failed: " .. err, 0) end
end


write_body()
if opts.smoke then
  os.exit(smoke())
end

local started = os.time()
print(("ringg benchmarks, %s"):format(os.date("!%Y-%m-%d %H:%M UTC")))
for _, line in ipairs(machine()) do print(line) end
print(("method  : %d rounds; in each, every pair runs A and B for %g s "
  .. "each (after a"):format(opts.rounds, opts.seconds))
print(("          %g s warm-up), A first in odd rounds and B first in "
  .. "even ones"):format(opts.seconds / 10))
print()
run_pairs()
print_pairs()
print()
run_vars()
print()
run_inflight()
print()
run_memory()
print()
if read_first("valgrind --version") then
  run_instructions(opts.count)
else
  print("instructions per operation: not counted (valgrind is not "
        .. "installed)")
end
print()
print(("(the whole run took %d s)"):format(os.time() - started))
