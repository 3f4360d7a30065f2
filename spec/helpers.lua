-- Shared helpers for the busted specs.
--
-- The sandbox is started once by `make test` (spec/sandbox/sandbox start),
-- which writes its addresses to build/sandbox/env. The specs read them from
-- the environment when the Makefile exported them, else from that file, so
-- a single spec can also be run by hand once the sandbox is up.

local helpers = {}

local ENV_NAMES = {
  url = "RINGG_SANDBOX_URL",
  https_url = "RINGG_SANDBOX_HTTPS_URL",
  ca = "RINGG_SANDBOX_CA",
  key = "RINGG_SANDBOX_KEY",
  control = "RINGG_SANDBOX_CONTROL",
}

local function read_env_file(path)
  local values = {}
  local f = io.open(path, "r")
  if not f then return values end
  for line in f:lines() do
    local name, value = line:match("^([%w_]+)=(.*)$")
    if name then values[name] = value end
  end
  f:close()
  return values
end

local cached

-- Returns {url, https_url, ca, key, control} of the running sandbox, or
-- raises when it is not running: a spec that needs it cannot pass without.
function helpers.sandbox()
  if cached then return cached end
  local dir = os.getenv("RINGG_SANDBOX_DIR") or "build/sandbox"
  local file = read_env_file(dir .. "/env")
  local s = {}
  for field, name in pairs(ENV_NAMES) do
    s[field] = os.getenv(name) or file[name]
  end
  assert(s.url and s.key, "the sandbox is not running: "
    .. "start it with `spec/sandbox/sandbox start` (make test does)")
  cached = s
  return s
end

-- Fixtures the sandbox knows.
helpers.AGENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
helpers.POOL = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"

-- Recipient numbers that make the sandbox misbehave on purpose.
helpers.FAULT = {
  unauthorized = "+15550100401", credits = "+15550100402",
  rate_limited = "+15550100429", rate_limited_ms = "+15550100430",
  server = "+15550100500", unavailable = "+15550100503",
  legacy = "+15550100201", redirect = "+15550100301",
  cut_off = "+15550100601", never = "+15550100602",
  malformed = "+15550100603", closed = "+15550100604",
  slow = "+15550100605", failed = "+15550100700",
  retry = "+15550100701", error = "+15550100702",
}


-- A valid call to `number` (a normal one by default), with `extra` fields.
function helpers.call_params(number, extra)
  local p = {
    name = "Asha Verma",
    mobile_number = number or "+919876543210",
    agent_id = helpers.AGENT,
    number_pool_id = helpers.POOL,
    custom_args_values = { company_name = "XYZ Corp",
                           appointment_date = "2025-01-20" },
  }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end


-- A client of the sandbox; `opts` adds or overrides options.
function helpers.client(opts)
  local ringg = require "ringg"
  local s = helpers.sandbox()
  local o = { api_key = s.key, base_url = s.url }
  for k, v in pairs(opts or {}) do o[k] = v end
  return ringg.new(o)
end


-- Calls a control endpoint of the sandbox: returns the decoded reply.
function helpers.control(method, path, body)
  local http = require "socket.http"
  local ltn12 = require "ltn12"
  local cjson = require "cjson"
  local out = {}
  local text = body and cjson.encode(body) or nil
  local _, code = http.request{
    method = method, url = helpers.sandbox().control .. path,
    source = text and ltn12.source.string(text),
    headers = text and { ["content-type"] = "application/json",
                         ["content-length"] = #text } or nil,
    sink = ltn12.sink.table(out),
  }
  assert(code == 200, "sandbox control " .. path .. " answered "
         .. tostring(code))
  local reply = table.concat(out)
  return reply ~= "" and cjson.decode(reply) or nil
end


-- Seconds since some fixed point, with sub-millisecond resolution.
function helpers.now()
  return require("socket").gettime()
end


-- Waits until `check()` returns a true value, polling every 20 ms, at
-- most `seconds`; returns that value, or nil on time-out.
function helpers.wait_for(seconds, check)
  local socket = require "socket"
  local deadline = socket.gettime() + seconds
  repeat
    local v = check()
    if v then return v end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  return nil
end


-- Polls until `client` has nothing in flight, for at most `seconds`.
function helpers.drain(client, seconds)
  local deadline = helpers.now() + seconds
  while client:pending() > 0 do
    assert(helpers.now() < deadline, "requests still in flight")
    client:poll(0.05)
  end
end


return helpers
