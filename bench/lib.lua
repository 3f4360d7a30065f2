-- What the benchmark programs share: the standard call, the client of
-- the fixed-reply server, the clock and the timed loop.
--
-- Every program is run as `lua bench/<name>.lua SECONDS [ARG]` from the
-- top of the tree, with the environment of bench/run.sh:
--   RINGG_BENCH_URL   base URL of the fixed-reply nginx
--   RINGG_BENCH_CPATH where ringg/core.so is (build/5.4 or build/jit)
-- and prints its results as "name value" lines on standard output, which
-- bench/run.lua reads.

local cpath = os.getenv "RINGG_BENCH_CPATH" or "build/5.4"
package.path = "src/?.lua;src/?/init.lua;" .. package.path
package.cpath = cpath .. "/?.so;" .. package.cpath

local socket = require "socket"

local lib = {}

-- Wall-clock seconds, to the microsecond (LuaSocket's gettimeofday).
lib.now = socket.gettime

lib.AGENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
lib.POOL = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"
lib.KEY = "bench-key-3d51c2aa"


-- The standard call: a number pool, 3 custom variables and the smart
-- formatter. With `nvars`, the custom variables are var1..varN instead.
function lib.params(nvars)
  local values
  if nvars then
    values = {}
    for i = 1, nvars do
      values["var" .. i] = "value of variable " .. i
    end
  else
    values = { company_name = "XYZ Corp", appointment_date = "2025-01-20",
               order_id = "ORD-1042" }
  end
  return {
    name = "Mr Rajesh Kumar",
    mobile_number = "+919876543210",
    agent_id = lib.AGENT,
    number_pool_id = lib.POOL,
    custom_args_values = values,
    smart_formatter = {
      extract_first_name = true, transliteration = true,
      transliteration_language = { source = "en", target = "hi" },
    },
  }
end


-- The base URL of the fixed-reply server; raises when it is not set.
function lib.url()
  local url = os.getenv "RINGG_BENCH_URL"
  if not url then
    error("RINGG_BENCH_URL is not set: run the benchmarks with "
          .. "bench/run.sh (make bench)", 2)
  end
  return url
end


local function new_client(base_url, opts)
  local ringg = require "ringg"
  local o = { api_key = lib.KEY, base_url = base_url, timeout = 10,
              connect_timeout = 5 }
  for k, v in pairs(opts or {}) do o[k] = v end
  return ringg.new(o)
end


-- A ringg client of the fixed-reply server; `opts` adds options.
function lib.client(opts)
  return new_client(lib.url(), opts)
end


-- A client for prepare only, which sends nothing: it needs no server.
function lib.offline_client()
  return new_client("http://127.0.0.1:9/ca/api/v0")
end


-- The command line: seconds to measure (default 1), and one more
-- number the program may use.
function lib.args(default_extra)
  local seconds = tonumber(arg[1]) or 1
  local extra = tonumber(arg[2]) or default_extra
  return seconds, extra
end


-- Runs `step` (which does `batch` operations) for `seconds` after a
-- warm-up of a tenth of that, then returns operations per second.
function lib.rate(seconds, batch, step)
  local now = lib.now
  local stop = now() + seconds / 10
  while now() < stop do step() end
  local ops = 0
  local start = now()
  stop = start + seconds
  local t = start
  repeat
    step()
    ops = ops + batch
    t = now()
  until t >= stop
  return ops / (t - start), ops
end


-- Prints one result line.
function lib.report(name, value)
  if math.type and math.type(value) == "integer" then
    io.write(name, " ", value, "\n")
  elseif type(value) == "number" then
    io.write(name, " ", ("%.6g"):format(value), "\n")
  else
    io.write(name, " ", tostring(value), "\n")
  end
end


-- Raises with the error of a failed call, so that a benchmark never
-- counts failures as work done.
function lib.check(result, err)
  if not result then error("call failed: " .. tostring(err), 2) end
  return result
end


return lib
