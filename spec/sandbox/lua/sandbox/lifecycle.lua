-- Placing calls and moving them through their statuses on timers, one
-- step (config.step_ms) apart:
--   registered -> ongoing -> completed                (any other number)
--   registered -> ongoing -> failed                   (+15550100700)
--   registered -> ongoing -> retry -> ongoing -> completed   (+15550100701)
--   registered -> error                               (+15550100702)
-- A call scheduled for later stays registered until its time; a call
-- terminated while registered or retry becomes cancelled and stops there.

local config = require "sandbox.config"
local fixtures = require "sandbox.fixtures"
local json = require "sandbox.json"
local store = require "sandbox.store"
local util = require "sandbox.util"
local webhook = require "sandbox.webhook"

local concat, sort = table.concat, table.sort
local floor, max = math.floor, math.max

local lifecycle = {}

local OUTCOMES = {
  ["+15550100700"] = "failed",
  ["+15550100701"] = "retry",
  ["+15550100702"] = "error",
}

local function enter(call, status, sub_status)
  call.status = status
  call.sub_status = sub_status
  local statuses = call.statuses
  statuses[#statuses + 1] = { status = status,
                              time = util.iso(util.now(), "Z") }
  webhook.status_changed(call)
end

-- Runs fn(call) after delay seconds, unless the call was forgotten by a
-- reset meanwhile.
local function later(delay, call, fn)
  local ok, err = ngx.timer.at(max(delay, 0), function(premature)
    if premature or store.get(call.id) ~= call then return end
    fn(call)
  end)
  if not ok then ngx.log(ngx.ERR, "lifecycle timer: ", err) end
end

-- A variable's value as spoken; nil when it has none (absent or null).
local function spoken(v)
  if v == nil or v == json.null then return nil end
  return tostring(v)
end

-- "@{{name}}" placeholders filled from the call's variables; unknown ones
-- stay as they are, as an agent would read them out.
local function render(text, values)
  return (text:gsub("@{{([%w_]+)}}", function(name)
    return spoken(values[name])
  end))
end

-- A short conversation that mentions the callee and every variable.
local function transcript(call)
  local values = call.custom_args_values
  local callee = spoken(values.callee_name) or "there"
  local names = {}
  for name, v in pairs(values) do
    if name ~= "callee_name" and spoken(v) then names[#names + 1] = name end
  end
  sort(names)
  local facts = {}
  for i, name in ipairs(names) do
    facts[i] = name:gsub("_", " ") .. " " .. spoken(values[name])
  end
  local details = #facts > 0
    and ("I have these details for you: " .. concat(facts, ", ") .. ".")
    or "I am calling to follow up with you."
  local intro = render(call.agent.agent_config.intro_message, values)
  return {
    { role = "bot", text = intro },
    { role = "user", text = "Yes, this is " .. callee .. "." },
    { role = "bot", text = details },
    { role = "user", text = "Thank you, that is all I needed." },
    { role = "bot", text = "Goodbye, " .. callee .. ", have a nice day!" },
  }
end

local function analysis(call)
  return {
    summary = "The assistant spoke with "
      .. (spoken(call.custom_args_values.callee_name) or "the callee")
      .. " and shared the details; the callee acknowledged them.",
    classification = "information_shared",
    sentiment = "positive",
    key_points = { "Callee confirmed their identity", "Details were shared" },
    call_disconnect_reason = "customer_hangup",
    action_items = { "No follow-up needed" },
  }
end

local function complete(call)
  call.turns = transcript(call)
  call.duration = 12.5 + 1.25 * #call.turns
  call.cost = floor(call.duration * 2.5 + 0.5) / 100
  call.recording_url = config.origin() .. "/_sandbox/recordings/" .. call.id
    .. ".mp3"
  call.analysis = analysis(call)
  call.next_attempt = nil
  enter(call, "completed", "COMPLETED")
end

local begin_attempt

local function end_attempt(call)
  if call.status ~= "ongoing" then return end
  local outcome = call.outcome
  if outcome == "failed" then
    call.duration = 0
    enter(call, "failed", "NOT_ANSWERED")
  elseif outcome == "retry" and call.retry == 0 then
    call.retry = 1
    call.next_attempt = util.now() + 2 * config.step()
    enter(call, "retry", "BUSY")
    later(2 * config.step(), call, begin_attempt)
  else
    complete(call)
  end
end

function begin_attempt(call)
  if call.status ~= "registered" and call.status ~= "retry" then return end
  if call.outcome == "error" then
    return enter(call, "error", "FAILED_TO_CONNECT")
  end
  call.attempt_time = util.now()
  call.next_attempt = nil
  enter(call, "ongoing", "ACCEPTED")
  later(config.step(), call, end_attempt)
end

-- "Mr Rajesh Kumar" -> "Rajesh": Ringg's extract_first_name. Transliteration
-- is not simulated: Ringg keeps names missing from its dictionary as
-- extracted, and the sandbox's dictionary is empty.
local TITLES = { mr = true, mrs = true, ms = true, miss = true, dr = true,
  shri = true, smt = true, sri = true, prof = true, mohammad = true,
  md = true }

local function first_name(name)
  for word in name:gmatch("[^%s]+") do
    if not TITLES[(word:lower():gsub("%.$", ""))] then return word end
  end
  return name
end

local function object(v)
  return type(v) == "table" and v or nil
end

local function variables(body)
  local values = util.copy(object(body.custom_args_values))
  if values.callee_name == nil then
    local sf = body.smart_formatter
    if type(sf) == "table" and (sf.extract_first_name == true
        or sf.transliteration == true) then
      values.callee_name = first_name(body.name)
      values.original_callee_name = body.name
    else
      values.callee_name = body.name
    end
  end
  return values
end

local function first(v)
  return type(v) == "table" and v[1] or v
end

-- The caller number: the one given, the workspace number named, or the
-- pool's first number. Unknown ids are not rejected; they fall back to the
-- sandbox pool.
local function caller_number(body)
  if body.from_number then return first(body.from_number) end
  local n = body.from_number_id and fixtures.number(first(body.from_number_id))
    or fixtures.pool_number(body.number_pool_id)
    or fixtures.pool_number(fixtures.POOL_ID)
  return n.number
end

local function scheduled_time(body)
  local cc = body.call_config
  local ct = type(cc) == "table" and cc.call_time
  return type(ct) == "table" and util.parse_time(ct.scheduled_at) or nil
end

-- The body's fields without those set to null, which validation already
-- treated as absent.
local function without_nulls(body)
  local fields = {}
  for k, v in pairs(body) do
    if v ~= json.null then fields[k] = v end
  end
  return fields
end

-- Stores a call for a validated body and starts its lifecycle; endpoint is
-- "v2" or "v1". Returns the call.
function lifecycle.place(body, endpoint)
  body = without_nulls(body)
  local agent = fixtures.agent(body.agent_id)
  local callback_args = object(body.callback_args) or {}
  local call = {
    id = util.uuid4(),
    call_sid = util.uuid4(),
    endpoint = endpoint,
    name = body.name,
    to_number = body.mobile_number,
    from_number = caller_number(body),
    agent = agent,
    agent_id = agent.id,
    custom_args_values = variables(body),
    callback_url = body.callback_url,
    callback_target = body.callback_url
      and webhook.callback_target(body.callback_url,
        object(callback_args.params)),
    callback_headers = object(callback_args.headers),
    scheduled_at = scheduled_time(body),
    created = util.now(),
    retry = 0,
    statuses = {},
    outcome = OUTCOMES[body.mobile_number] or "completed",
  }
  store.add(call)
  enter(call, "registered")
  local delay = config.step()
  if call.scheduled_at and call.scheduled_at > call.created then
    delay = call.scheduled_at - call.created
  end
  later(delay, call, begin_attempt)
  return call
end

-- Whether terminate may cancel the call: only queued ones can be.
function lifecycle.terminable(call)
  return call.status == "registered" or call.status == "retry"
end

function lifecycle.terminate(call)
  call.next_attempt = nil
  enter(call, "cancelled", "CANCELLED")
end

return lifecycle
