-- The properties fuzz_webhook checks for every body it is given.
-- Returns the check function; it raises when one fails.
--
-- ringg.webhook.parse(body) never raises: it returns an event with a
-- type and a call id (and webhook.key works on it), or nil and an error
-- of kind "protocol" with a message.

local webhook = require "ringg.webhook"

local type, tostring, pcall = type, tostring, pcall
local format = string.format


local function fail(fmt, ...)
  error(format(fmt, ...), 0)
end


return function(body)
  local ok, event, err = pcall(webhook.parse, body)
  if not ok then fail("parse raised: %s", tostring(event)) end
  if event == nil then
    if type(err) ~= "table" or err.kind ~= "protocol"
        or type(err.message) ~= "string" then
      fail("a refusal that is not a protocol error: %s", tostring(err))
    end
    if tostring(err) ~= "ringg: protocol: " .. err.message then
      fail("tostring(err) is %q", tostring(err))
    end
    return
  end
  if type(event) ~= "table" or type(event.type) ~= "string"
      or type(event.call_id) ~= "string" or type(event.call) ~= "table"
      or event.call.id ~= event.call_id then
    fail("an event without type, call_id or call")
  end
  local kok, key = pcall(webhook.key, event)
  if not kok or type(key) ~= "string" then
    fail("webhook.key failed on a parsed event: %s", tostring(key))
  end
  local transcript = event.transcript
  if transcript ~= nil then
    if type(transcript) ~= "table" then fail("a transcript not a list") end
    for i, turn in ipairs(transcript) do
      if type(turn) ~= "table" or type(turn.role) ~= "string"
          or type(turn.text) ~= "string" then
        fail("transcript[%d] is not {role, text}", i)
      end
    end
  end
end
