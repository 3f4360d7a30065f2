-- Receiving Ringg's webhooks: parse a delivery, check its shared-secret
-- header, and derive a key to drop duplicate deliveries.
--
-- Ringg posts two kinds of body. The per-call `callback_url` gets an
-- envelope, {"status":"success","data":{...call...},"message":...}, on
-- every status change; agent event subscriptions get flat objects that
-- name themselves with `event_type`. Ringg signs neither, so the only
-- check available is a header whose value the receiver chose.

local cjson = require "cjson.safe"
local core = require "ringg.core"
local record = require "ringg.record"

local null = cjson.null
local byte = string.byte

local M = {}


local function fail(message)
  return nil, core.error{kind = "protocol", message = message}
end

-- Raises the standard message for a bad argument of the caller.
local function argerror(n, fname, why)
  error(("bad argument #%d to '%s' (%s)"):format(n, fname, why), 3)
end

local function expected(what, v)
  if v == "" then return what .. " expected, got empty string" end
  return what .. " expected, got " .. type(v)
end

-- The JSON type of a decoded value that is not an object.
local function json_type(v)
  if v == null then return "null" end
  if type(v) == "table" then return "array" end
  return type(v)
end


-- Returns the event carried by `body` (the raw request body), or nil and
-- an error of kind "protocol" saying what is wrong with it.
function M.parse(body)
  if type(body) ~= "string" then
    argerror(1, "parse", expected("string", body))
  end
  local first = body:match("^%s*(%S)")
  if first == nil then return fail("empty body") end
  local t, why = cjson.decode(body)
  if t == nil then return fail("invalid JSON: " .. why) end
  -- cjson gives `[]` and `{}` the same empty table: look at the text
  if type(t) ~= "table" or first ~= "{" then
    return fail("expected a JSON object, got " .. json_type(t))
  end
  local kind, data = t.event_type, t
  if kind == nil or kind == null then
    -- no event_type: the per-call callback, enveloped or, should Ringg
    -- ever send it so, flat
    kind = "call_status"
    if t.data ~= nil and t.data ~= null then
      data = t.data
      if type(data) ~= "table" or data[1] ~= nil then
        return fail("\"data\" is not an object")
      end
    end
  elseif type(kind) ~= "string" or kind == "" then
    return fail("\"event_type\" is not a non-empty string")
  end
  local call = record.call(data)
  if call.id == nil then return fail("no call_id in payload") end
  return {
    type = kind,
    call_id = call.id,
    status = call.status,
    call = call,
    raw = t,
    recording_url = call.recording_url,
    transcript = call.transcript,
    analysis = call.analysis,
    custom_args_values = call.custom_args_values,
    agent_id = call.agent_id,
  }
end


-- Compares two strings in time that depends on their lengths only: every
-- byte position of the longer one is visited, and the length difference
-- counts as a mismatch of its own.
local function same(a, b)
  local la, lb = #a, #b
  local n, diff = la, la - lb
  if lb > n then n = lb end
  if diff < 0 then diff = -diff end
  for i = 1, n do
    local d = (byte(a, i) or 0) - (byte(b, i) or 0)
    if d < 0 then d = -d end
    diff = diff + d
  end
  return diff == 0
end

-- Returns the single value of header `name` in `headers`, whatever the
-- case of its key, or nil when it is absent or given more than once.
local function header(headers, name)
  local value, seen = nil, 0
  for k, v in pairs(headers) do
    if type(k) == "string" and k:lower() == name then
      seen = seen + 1
      value = v
    end
  end
  if seen ~= 1 then return nil end
  -- OpenResty gives a repeated header as a list of its values
  if type(value) == "table" then
    if #value ~= 1 then return nil end
    value = value[1]
  end
  if type(value) == "string" then return value end
end

-- Returns true when `headers` carries header `name` exactly once, with
-- the value `secret`.
function M.verify(headers, name, secret)
  if type(headers) ~= "table" then
    argerror(1, "verify", expected("table", headers))
  end
  if type(name) ~= "string" or name == "" then
    argerror(2, "verify", expected("header name", name))
  end
  if type(secret) ~= "string" or secret == "" then
    argerror(3, "verify", expected("secret", secret))
  end
  local value = header(headers, name:lower())
  if value == nil then return false end
  return same(value, secret)
end


-- Returns the key under which a receiver records `event` to drop repeated
-- deliveries: call id and event type, and for the per-call callback also
-- the status, since each status change is a delivery of its own.
function M.key(event)
  if type(event) ~= "table" then
    argerror(1, "key", expected("event", event))
  end
  local id, kind = event.call_id, event.type
  if type(id) ~= "string" or type(kind) ~= "string" then
    argerror(1, "key", "event without call_id or type")
  end
  if kind == "call_status" and type(event.status) == "string" then
    return id .. ":call_status:" .. event.status
  end
  return id .. ":" .. kind
end


return M
