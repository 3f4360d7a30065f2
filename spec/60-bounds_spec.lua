-- Bounds (issue 6.6): a reply over the cap is refused with kind
-- "protocol" without filling memory, over libcurl and from a custom
-- transport alike; deep, huge and self-referencing parameters are
-- refused with kind "invalid", quickly, without a stack overflow or a
-- crash, and nothing is sent.
--
-- The libcurl cases talk to a one-shot HTTP server on 127.0.0.1 (a
-- lua5.4 process with LuaSocket) that streams more than the cap. Time
-- limits are generous and multiplied by $RINGG_TIME_FACTOR, which the
-- sanitizer and valgrind runs set (spec/hardening/).

local ringg = require "ringg"
local helpers = require "spec.helpers"
local socket = require "socket"
local lfs = require "lfs"

local rep, format = string.rep, string.format

local FACTOR = tonumber(os.getenv("RINGG_TIME_FACTOR")) or 1
local MIB = 1024 * 1024
local REPLY_CAP = 8 * MIB     -- MAX_REPLY in src/client.h
local HEAD_CAP = 64 * 1024    -- MAX_HEAD
local BODY_CAP = 4 * MIB      -- MAX_BODY


-- Seconds f(...) took, and its first two results.
local function timed(f, ...)
  local start = socket.gettime()
  local a, b = f(...)
  return socket.gettime() - start, a, b
end


-- Bytes resident in memory (Linux).
local function rss()
  local f = assert(io.open("/proc/self/statm"))
  local pages = f:read("*a"):match("^%d+%s+(%d+)")
  f:close()
  return tonumber(pages) * 4096
end


-- A client whose custom transport answers `reply` (or, by default,
-- fails the test: nothing may be sent), and a function saying how many
-- times the transport was called.
local function transport_client(reply)
  local calls = 0
  local client = ringg.new{
    api_key = "bounds-key-3c1d", base_url = "http://127.0.0.1:9/ca/api/v0",
    transport = function()
      calls = calls + 1
      if reply then return reply end
      return nil, "the transport must not be called"
    end,
  }
  return client, function() return calls end
end


local function assert_invalid(err, within, took)
  assert.are.equal("table", type(err))
  assert.are.equal("invalid", err.kind)
  assert.is_false(err.sent)
  assert.is_true(#err.errors >= 1 and #err.errors <= 100)
  assert.is_true(took < within * FACTOR,
    format("took %.2f s, more than %.2f s", took, within * FACTOR))
end


-- t.x.x.x... nested `levels` deep, built without recursion.
local function deep(levels, leaf)
  local root = {}
  local t = root
  for _ = 2, levels do
    local inner = {}
    t.x = inner
    t = inner
  end
  t.x = leaf or "bottom"
  return root
end


-- {{{...}}} nested `levels` deep: lists this time.
local function deep_list(levels)
  local root = {}
  local t = root
  for _ = 2, levels do
    local inner = {}
    t[1] = inner
    t = inner
  end
  t[1] = "+12025550141"
  return root
end


--
-- A one-shot HTTP server that answers more than the client may take
--

local SERVER = [[
local socket = require "socket"
local mode, size = arg[1], tonumber(arg[2])
local deadline = socket.gettime() + 30
local server = assert(socket.bind("127.0.0.1", 0))
local _, port = server:getsockname()
io.stdout:write(port, "\n")
io.stdout:flush()
server:settimeout(10)
local conn = server:accept()
if not conn then os.exit(1) end
conn:settimeout(5)
local length = 0
repeat
  local line = conn:receive("*l")
  if not line then os.exit(1) end
  local n = line:match("^[Cc]ontent%-[Ll]ength:%s*(%d+)")
  if n then length = tonumber(n) end
until line == ""
if length > 0 then conn:receive(length) end
local function stream(unit)
  local chunk = string.rep(unit, 65536 // #unit)
  local sent = 0
  while sent < size and socket.gettime() < deadline do
    if not conn:send(chunk) then return end
    sent = sent + #chunk
  end
end
if mode == "body" then
  conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    .. "Content-Length: " .. size .. "\r\n\r\n")
  stream(" ")
else
  conn:send("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
  stream("X-Filler: " .. string.rep("a", 1012) .. "\r\n")
  conn:send("Content-Length: 2\r\n\r\n{}")
end
conn:close()
]]


-- Starts the server in `mode` ("body" or "head") to send `size` bytes;
-- returns its base URL and a function that waits for it to end.
local function start_server(mode, size)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(SERVER)
  f:close()
  local p = assert(io.popen(format("exec lua5.4 %s %s %d 2>/dev/null",
                                   script, mode, size)))
  local port = p:read("*l")
  assert(port and port:match("^%d+$"), "the test server did not start")
  return "http://127.0.0.1:" .. port .. "/ca/api/v0", function()
    p:read("*a")
    p:close()
    os.remove(script)
  end
end


local function libcurl_client(url)
  return ringg.new{ api_key = "bounds-key-3c1d", base_url = url,
                    timeout = 20 * FACTOR }
end


local function assert_too_large(err, cap)
  assert.are.equal("table", type(err))
  assert.are.equal("protocol", err.kind)
  assert.matches("the reply is larger than " .. cap .. " bytes",
                 err.message, 1, true)
  assert.is_true(err.sent)
  assert.is_false(err.retryable)
end


describe("a reply over the cap", function()

  it("from a custom transport is refused as protocol, undecoded", function()
    local body = '{"status":"success","data":{"call_id":"'
      .. rep("x", REPLY_CAP + MIB) .. '"}}'
    local client, calls = transport_client{ status = 200, headers = {},
                                            body = body }
    collectgarbage()
    collectgarbage("stop")
    local before = collectgarbage("count")
    local took, call, err = timed(client.call, client,
                                  helpers.call_params())
    local grown = (collectgarbage("count") - before) * 1024
    collectgarbage("restart")
    assert.is_nil(call)
    assert_too_large(err, REPLY_CAP)
    assert.are.equal(1, calls())
    -- decoding the body would have made another string of its size
    assert.is_true(grown < MIB, format("Lua memory grew by %d", grown))
    assert.is_true(took < 1 * FACTOR)
  end)


  it("from a custom transport is refused for a read too", function()
    local client = transport_client{ status = 200, headers = {},
                                     body = rep(" ", REPLY_CAP + 1) }
    local body, err = client:request("GET", "/workspace")
    assert.is_nil(body)
    assert_too_large(err, REPLY_CAP)
  end)


  it("over libcurl ends the transfer at the cap", function()
    local url, wait = start_server("body", 20 * MIB)
    local client = libcurl_client(url)
    local before = rss()
    local took, call, err = timed(client.call, client,
                                  helpers.call_params())
    local grown = rss() - before
    client:close()
    wait()
    assert.is_nil(call)
    assert_too_large(err, REPLY_CAP)
    assert.matches("look it up", err.message, 1, true)  -- a call: ambiguous
    assert.is_true(grown < 32 * MIB, format("RSS grew by %d", grown))
    assert.is_true(took < 10 * FACTOR)
  end)


  it("over libcurl is refused for a read", function()
    local url, wait = start_server("body", 20 * MIB)
    local client = libcurl_client(url)
    local body, err = client:request("GET", "/calling/history")
    client:close()
    wait()
    assert.is_nil(body)
    assert_too_large(err, REPLY_CAP)
  end)


  it("over libcurl is refused in start_call and poll", function()
    local url, wait = start_server("body", 20 * MIB)
    local client = libcurl_client(url)
    local got, got_err, runs = nil, nil, 0
    local handle = client:start_call(helpers.call_params(), function(c, e)
      got, got_err, runs = c, e, runs + 1
    end)
    assert.is_not_nil(handle)
    local deadline = socket.gettime() + 20 * FACTOR
    while runs == 0 and socket.gettime() < deadline do
      client:poll(0.2)
    end
    client:close()
    wait()
    assert.are.equal(1, runs)
    assert.is_nil(got)
    assert_too_large(got_err, REPLY_CAP)
  end)


  it("in its header lines is refused too", function()
    local url, wait = start_server("head", MIB)
    local client = libcurl_client(url)
    local body, err = client:request("GET", "/workspace")
    client:close()
    wait()
    assert.is_nil(body)
    assert_too_large(err, HEAD_CAP)
  end)

end)


describe("deep parameters (10 000 levels) are refused quickly", function()

  local LEVELS = 10000

  local cases = {
    extra_body = function() return { extra_body = deep(LEVELS) } end,
    custom_args_values = function()
      return { custom_args_values = deep(LEVELS) }
    end,
    smart_formatter = function() return { smart_formatter = deep(LEVELS) } end,
    call_config = function()
      return { call_config = { call_time = deep(LEVELS) } }
    end,
    ["callback_args.params"] = function()
      return { callback_args = { params = deep(LEVELS) } }
    end,
    from_number = function()
      return { number_pool_id = false, from_number = deep_list(LEVELS) }
    end,
  }

  for name, make in pairs(cases) do
    it("in " .. name, function()
      local extra = make()
      local p = helpers.call_params(nil, extra)
      if extra.number_pool_id == false then p.number_pool_id = nil end
      local client, calls = transport_client()
      local took, call, err = timed(client.call, client, p)
      assert.is_nil(call)
      assert_invalid(err, 1, took)
      assert.are.equal(0, calls())
      local valid, verr = ringg.validate(p)
      assert.is_nil(valid)
      assert.are.equal(err.message, verr.message)
    end)
  end


  it("in a request body", function()
    local client, calls = transport_client()
    local took, body, err = timed(client.request, client, "POST",
                                  "/anything", { body = deep(LEVELS) })
    assert.is_nil(body)
    assert_invalid(err, 1, took)
    assert.matches("at most 32 nested tables", err.message, 1, true)
    assert.are.equal(0, calls())
  end)


  it("in a request body made of lists", function()
    local client, calls = transport_client()
    local took, body, err = timed(client.request, client, "PATCH",
                                  "/anything", { body = deep_list(LEVELS) })
    assert.is_nil(body)
    assert_invalid(err, 1, took)
    assert.are.equal(0, calls())
  end)

end)


describe("huge parameters are refused quickly", function()

  it("a million keys in custom_args_values", function()
    local values = {}
    for i = 1, 1000000 do values["v" .. i] = i end
    local client, calls = transport_client()
    local took, call, err = timed(client.call, client,
      helpers.call_params(nil, { custom_args_values = values }))
    assert.is_nil(call)
    assert_invalid(err, 10, took)
    assert.matches("at most " .. BODY_CAP .. " bytes", err.message, 1, true)
    assert.are.equal(0, calls())
  end)


  it("a hundred thousand unknown keys, listing 100 of them", function()
    local p = helpers.call_params()
    for i = 1, 100000 do p["unknown_" .. i] = true end
    local took, valid, err = timed(ringg.validate, p)
    assert.is_nil(valid)
    assert_invalid(err, 5, took)
    assert.are.equal(100, #err.errors)
    assert.matches("and 99999 more problems", err.message, 1, true)
  end)


  it("a 5 MiB name", function()
    local took, valid, err = timed(ringg.validate,
      helpers.call_params(nil, { name = rep("n", 5 * MIB) }))
    assert.is_nil(valid)
    assert_invalid(err, 1, took)
    assert.are.equal("name", err.errors[1].field)
    assert.is_true(#err.message < 1000)  -- the value is not echoed whole
  end)


  it("a 5 MiB value in custom_args_values", function()
    local client, calls = transport_client()
    local took, call, err = timed(client.call, client, helpers.call_params(
      nil, { custom_args_values = { note = rep("v", 5 * MIB) } }))
    assert.is_nil(call)
    assert_invalid(err, 1, took)
    assert.matches("at most " .. BODY_CAP .. " bytes", err.message, 1, true)
    assert.are.equal(0, calls())
  end)


  it("a 5 MiB string in a request body", function()
    local client, calls = transport_client()
    local took, body, err = timed(client.request, client, "POST",
      "/anything", { body = { text = rep("t", 5 * MIB) } })
    assert.is_nil(body)
    assert_invalid(err, 1, took)
    assert.are.equal(0, calls())
  end)


  it("a list of 500 000 caller numbers", function()
    local numbers = {}
    for i = 1, 500000 do numbers[i] = "+1202" .. (5000000 + i) end
    local p = helpers.call_params()
    p.number_pool_id, p.from_number = nil, numbers
    local took, valid, err = timed(ringg.validate, p)
    assert.is_nil(valid)
    assert_invalid(err, 10, took)
  end)

end)


--
-- Tables reachable more than once. One that contains itself twice has
-- 2^32 paths down to the depth limit, so these run in a child process
-- under `timeout`: a walk that visits every path fails, not hangs. The
-- child is never traced by valgrind, so its limit is not scaled.
--

local CHILD_LIMIT = 20

-- The interpreter running this spec, and its module paths.
local function run_child(code, seconds)
  local exe = assert(lfs.symlinkattributes("/proc/self/exe", "target"))
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(format("package.path = %q\npackage.cpath = %q\n", package.path,
                 package.cpath), code)
  f:close()
  local start = socket.gettime()
  local p = assert(io.popen(format("timeout %d '%s' '%s' 2>&1",
                                   seconds, exe, script)))
  local out = p:read("*a")
  p:close()
  os.remove(script)
  return out, socket.gettime() - start
end


local PARAMS = format([[
local ringg = require "ringg"
local p = { name = "Asha Verma", mobile_number = "+919876543210",
            agent_id = %q, number_pool_id = %q }
]], helpers.AGENT, helpers.POOL)


describe("tables met more than once", function()

  it("a table that contains itself is refused quickly", function()
    local t = {}
    t.again = t
    local took, valid, err = timed(ringg.validate,
      helpers.call_params(nil, { extra_body = { loop = t } }))
    assert.is_nil(valid)
    assert_invalid(err, 1, took)
    assert.matches("at most 32 nested tables", err.message, 1, true)
  end)


  it("a table that contains itself twice is refused quickly", function()
    local out, took = run_child(PARAMS .. [[
local t = {}
t.a, t.b = t, t
p.extra_body = { loop = t }
local ok, err = ringg.validate(p)
io.write(ok and "accepted" or err.kind)
]], CHILD_LIMIT)
    assert.are.equal("invalid", out)
    assert.is_true(took < CHILD_LIMIT, format("took %.1f s", took))
  end)


  it("a body sharing one table along 40 levels is refused quickly",
     function()
    local out, took = run_child(PARAMS .. [[
local client = ringg.new{ api_key = "k", base_url = "http://127.0.0.1:9",
  transport = function() return nil, "not sent" end }
local t = { leaf = "x" }
for _ = 1, 40 do t = { a = t, b = t } end
local body, err = client:request("POST", "/anything", { body = t })
io.write(body and "accepted" or err.kind)
]], CHILD_LIMIT)
    assert.are.equal("invalid", out)
    assert.is_true(took < CHILD_LIMIT, format("took %.1f s", took))
  end)

end)


describe("numbers out of range", function()

  it("a status that is NaN from a custom transport raises", function()
    local client = transport_client{ status = 0 / 0, headers = {},
                                     body = "{}" }
    assert.has_error(function() client:call(helpers.call_params()) end,
                     "transport reply needs a numeric status")
  end)


  it("max_in_flight NaN or huge is refused", function()
    for _, n in ipairs{ 0 / 0, math.huge, 1e300, -1e300 } do
      assert.has_error(function()
        ringg.new{ api_key = "k", base_url = "http://127.0.0.1:9",
                   max_in_flight = n }
      end)
    end
  end)


  it("poll with a huge timeout waits without spinning", function()
    local client = helpers.client()
    local done
    client:start_call(helpers.call_params(helpers.FAULT.slow),
                      function(call, err) done = call or err end)
    local cpu = os.clock()
    local took, left = timed(client.poll, client, 1e12)
    cpu = os.clock() - cpu
    client:close()
    assert.are.equal(0, left)
    assert.is_not_nil(done)
    assert.is_true(took < 10 * FACTOR)
    -- the slow reply takes 1.5 s; a busy loop would burn all of it
    assert.is_true(cpu < 0.5 * FACTOR, format("%.2f s of CPU", cpu))
  end)

end)
