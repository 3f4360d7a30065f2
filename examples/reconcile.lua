-- reconcile.lua: what to do when placing a call fails after the request
-- was sent.
--
-- A timeout, or a reply cut off mid-way, leaves the question open: the
-- server may have stored the call before the connection broke. The
-- error says so (sent = true, retryable = false), and placing the call
-- again could ring the person twice. Instead, look for it: find_calls
-- lists the calls to that number since a given time. Found, it was
-- placed; not found, it is safe to place it again.
--
--   lua5.4 examples/reconcile.lua [mobile_number]
--
-- The default number is the sandbox's +15550100601, whose reply is cut
-- off after the call was stored. Environment: RINGG_SANDBOX_URL and
-- RINGG_SANDBOX_KEY (or RINGG_BASE_URL and RINGG_API_KEY). Exits 0 once
-- the call's fate is known.

-- Run from the source tree, use its module and build (harmless when
-- ringg is installed: these paths then do not exist).
do
  local root = (arg and arg[0] or ""):match("^(.-)[^/]*$") .. "../"
  package.path = root .. "src/?.lua;" .. root .. "src/?/init.lua;"
    .. package.path
  package.cpath = root .. "build/5.4/?.so;" .. package.cpath
end

local ringg = require "ringg"

local AGENT_ID = "830f767a-397e-4b39-82ff-235cd344e2f9"
local POOL_ID = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"


local function say(...)
  io.write(string.format(...), "\n")
end


local url = os.getenv("RINGG_SANDBOX_URL") or os.getenv("RINGG_BASE_URL")
local key = os.getenv("RINGG_SANDBOX_KEY") or os.getenv("RINGG_API_KEY")
if not url or not key then
  io.stderr:write("reconcile.lua: set RINGG_SANDBOX_URL and "
    .. "RINGG_SANDBOX_KEY (or RINGG_BASE_URL and RINGG_API_KEY)\n")
  os.exit(1)
end

local client <close> = ringg.new{ api_key = key, base_url = url,
                                  timeout = 5 }
local params = {
  name = "Mr Rajesh Kumar",
  mobile_number = arg[1] or "+15550100601",
  agent_id = AGENT_ID,
  number_pool_id = POOL_ID,
  custom_args_values = { company_name = "XYZ Corp",
                         appointment_date = "2025-01-20" },
}

-- A little before now, so that a server clock slightly behind ours
-- still counts the call as made since then.
local since = os.date("!%Y-%m-%dT%H:%M:%S+00:00", os.time() - 60)


-- Places the call; returns true once it is known to exist.
local function place()
  say("placing a call to %s", params.mobile_number)
  local call, err = client:call(params)
  if call then
    say("placed: call %s, status %s", call.id, call.status)
    return true
  end
  say("failed: %s", tostring(err))
  say("  kind=%s sent=%s retryable=%s", err.kind, tostring(err.sent),
      tostring(err.retryable))
  if err.retryable or not err.sent then
    say("the request never took effect: it may simply be sent again")
    return false
  end
  return nil, err
end


-- Looks for the call; returns the record, or false when there is none.
local function look_up()
  say("looking it up: client:find_calls{mobile_number = %q, since = %q}",
      params.mobile_number, since)
  local found, err = client:find_calls{
    mobile_number = params.mobile_number, since = since,
    agent_id = AGENT_ID,
  }
  if not found then
    say("the lookup failed: %s", tostring(err))
    os.exit(1)
  end
  for _, call in ipairs(found) do
    if call.name == params.name then return call end
  end
  return false
end


local placed, err = place()
if placed == nil then
  say("the call may exist: not placing it again before looking")
  local call = look_up()
  if call then
    say("found: call %s, status %s, created %s", call.id,
        call.status or "?", call.created_at or "?")
    say("the call was placed; it is not placed again")
  else
    say("not found: the call was not placed, so it is placed again, once")
    placed, err = place()
    if placed == nil and not look_up() then
      say("still not placed: %s", tostring(err))
      os.exit(1)
    end
  end
elseif not placed then
  os.exit(1)
end
