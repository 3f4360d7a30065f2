-- Places one call and follows it to its end: the main job of ringg.
--
--   lua5.4 examples/place_call.lua
--
-- Against the local sandbox (what `make demo` does) it reads the
-- sandbox's address and key from RINGG_SANDBOX_URL / RINGG_SANDBOX_KEY,
-- and receives the call's webhooks on a small local receiver.
--
-- Against the real API, set RINGG_API_KEY (and RINGG_BASE_URL if not the
-- default), plus RINGG_AGENT_ID, RINGG_POOL_ID and RINGG_TO_NUMBER. Ringg
-- cannot reach a receiver on this machine, so the call is followed by
-- polling its details, unless RINGG_CALLBACK_URL names a public receiver
-- of yours.

local ringg = require "ringg"
local socket = require "socket"

local env = os.getenv

local real = env "RINGG_API_KEY" ~= nil
local settings = {
  api_key = env "RINGG_API_KEY" or env "RINGG_SANDBOX_KEY",
  base_url = env "RINGG_BASE_URL" or env "RINGG_SANDBOX_URL"
    or ringg.DEFAULT_BASE_URL,
  agent_id = env "RINGG_AGENT_ID" or "830f767a-397e-4b39-82ff-235cd344e2f9",
  pool_id = env "RINGG_POOL_ID" or "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69",
  to_number = env "RINGG_TO_NUMBER" or "+919876543210",
  webhook_port = tonumber(env "RINGG_WEBHOOK_PORT" or ""),
}

local TERMINAL = { completed = true, failed = true, error = true,
                   cancelled = true }
local SECRET = "demo-secret-" .. tostring(os.time())


local function fail(what, err)
  io.stderr:write(what, ": ", tostring(err), "\n")
  os.exit(1)
end


if not settings.api_key then
  fail("no API key", "set RINGG_API_KEY, or start the sandbox (make demo)")
end

local client = ringg.new{ api_key = settings.api_key,
                          base_url = settings.base_url,
                          user_agent = "place_call-example" }
print(("ringg %s talking to %s"):format(ringg.VERSION, settings.base_url))


-- A receiver on this machine only makes sense for the sandbox.
local receiver
if not real then
  local ok, module = pcall(require, "webhook_receiver")
  receiver = ok and module or nil
end

local params = {
  name = "Mr Rajesh Kumar",
  mobile_number = settings.to_number,
  agent_id = settings.agent_id,
  number_pool_id = settings.pool_id,
  custom_args_values = { company_name = "XYZ Corp",
                         appointment_date = "2025-01-20" },
  smart_formatter = { extract_first_name = true, transliteration = true,
                      transliteration_language = { source = "en",
                                                   target = "hi" } },
  call_config = { max_call_length = 300,
                  call_time = { timezone = "Asia/Kolkata" } },
}
if env "RINGG_CALLBACK_URL" then
  params.callback_url = env "RINGG_CALLBACK_URL"
  receiver = nil
end


-- Before anyone's phone rings: does the call give every variable the
-- agent's prompt uses?
local report, err = client:check_variables(params.agent_id,
                                           params.custom_args_values)
if not report then fail("could not read the agent", err) end
print(("prompt variables: needs %s; missing %s; unused %s"):format(
  table.concat(report.needed, ", "),
  #report.missing > 0 and table.concat(report.missing, ", ") or "none",
  #report.unused > 0 and table.concat(report.unused, ", ") or "none"))
if #report.missing > 0 then
  fail("not calling", "the call misses prompt variables")
end

local call

local function place()
  call, err = client:call(params)
  if not call then fail("the call was not placed", err) end
  print(("placed call %s (status %s)"):format(call.id, call.status))
end


-- Listens for the call's webhooks first, then places it (so that not
-- even the first one is missed), and follows it to a terminal status.
local function place_and_follow_webhooks()
  local last
  local ok, why = receiver{
    port = settings.webhook_port or 0, secret = SECRET, timeout = 60,
    on_ready = function(port)
      params.callback_url = ("http://127.0.0.1:%d/ringg/webhook"):format(
        port)
      params.callback_args = { headers = {
        ["X-Webhook-Secret"] = SECRET, ["Content-Type"] = "application/json",
      } }
      place()
    end,
    on_event = function(event)
      if event.call_id ~= call.id then return end
      print(("webhook: %s -> %s"):format(event.type, event.status))
      last = event.status
      return TERMINAL[last] and "stop" or nil
    end,
  }
  if not ok then fail("webhook receiver", why) end
  return last
end


-- Follows the call by reading its details every second.
local function follow_details()
  local last
  for _ = 1, 180 do
    local details, derr = client:call_details(call.id)
    if not details then fail("could not read the call", derr) end
    if details.status ~= last then
      last = details.status
      print(("status: %s"):format(last))
    end
    if TERMINAL[last] then return last end
    socket.sleep(real and 1 or 0.2)
  end
  fail("gave up", "the call did not end within three minutes")
end

local final
if receiver then
  final = place_and_follow_webhooks()
else
  place()
  final = follow_details()
end

local details
details, err = client:call_details(call.id, { analysis = true })
if not details then fail("could not read the call", err) end
print(("call %s ended %s after %s s"):format(details.id, final,
  details.duration and ("%.1f"):format(details.duration) or "?"))
if details.recording_url then
  print("recording: " .. details.recording_url)
end
print("transcript:")
for _, turn in ipairs(details.transcript or {}) do
  print(("  %-4s %s"):format(turn.role .. ":", turn.text))
end
client:close()
