-- A fixed amount of work and no clock, for valgrind's callgrind: the
-- instruction count of a run is then a property of the code, not of the
-- machine's load. bench/run.lua runs it with N and 2N and takes the
-- difference, so that start-up cost cancels out.
--
--   lua bench/count.lua WHAT N [VARIABLES]
--
-- WHAT is "prepare" (client:prepare on the standard call), "validate"
-- (ringg.validate of it), "encode" (cjson.encode of it), "call"
-- (client:call against the fixed-reply server) or "start" (start_call +
-- poll, 16 in flight). With VARIABLES, the call has that many custom
-- variables instead of 3.

local lib = require "bench.lib"

local what, n, nvars = arg[1], tonumber(arg[2]), tonumber(arg[3])
if not n then
  io.stderr:write("usage: lua bench/count.lua "
                  .. "prepare|validate|encode|call|start N [VARIABLES]\n")
  os.exit(2)
end

local params = lib.params(nvars)

local function prepare()
  local client = lib.offline_client()
  for _ = 1, n do client:prepare(params) end
  client:close()
end


local function validate()
  local check = require("ringg").validate
  for _ = 1, n do check(params) end
end


local function encode()
  local encode_json = require("cjson").encode
  for _ = 1, n do encode_json(params) end
end


local function call()
  local client = lib.client()
  for _ = 1, n do lib.check(client:call(params)) end
  client:close()
end


local function start()
  local client = lib.client{ max_in_flight = 16 }
  local started, done = 0, 0
  local function on_reply(c, err)
    lib.check(c, err)
    done = done + 1
  end
  while done < n do
    while started < n and client:pending() < 16 do
      lib.check(client:start_call(params, on_reply))
      started = started + 1
    end
    client:poll(1)
  end
  client:close()
end


local runs = { prepare = prepare, validate = validate, encode = encode,
               call = call, start = start }
if not runs[what] then
  io.stderr:write("bench/count.lua: unknown work '", tostring(what), "'\n")
  os.exit(2)
end
runs[what]()
lib.report("done", n)
