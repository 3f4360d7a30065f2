-- The sandbox's own checks of request bodies, written from Ringg's
-- documented rules rather than shared with the client library, so that
-- the two can catch each other's mistakes. Each check appends FastAPI-style
-- problems ({loc, msg, type}) to a list; an empty list means valid.
-- Unknown top-level fields are ignored, as FastAPI models do by default.

local json = require "sandbox.json"
local reply = require "sandbox.reply"
local util = require "sandbox.util"

local concat = table.concat
local floor = math.floor
local null = json.null

local validate = {}

local function add(problems, loc, msg, kind)
  problems[#problems + 1] = reply.problem(loc, msg, kind)
end

local function given(v)
  return v ~= nil and v ~= null
end

local function is_list(v)
  if type(v) ~= "table" or #v == 0 then return false end
  local count = 0
  for _ in pairs(v) do count = count + 1 end
  return count == #v
end

-- cjson decodes objects to tables with string keys; an empty {} and []
-- cannot be told apart, and both pass as an object.
local function is_object(v)
  return type(v) == "table" and #v == 0
end

-- The JSON name of v's type, for messages.
local function kind_of(v)
  if v == nil or v == null then return "null" end
  if type(v) == "table" then return is_list(v) and "array" or "object" end
  return type(v)
end

-- v as a message shows it: strings quoted, numbers as such, else the type.
local function show(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  if type(v) == "number" then return tostring(v) end
  return kind_of(v)
end

local function path(...)
  return { "body", ... }
end

-- E.164: "+", then 7 to 15 digits, the first not 0.
function validate.e164(s)
  return type(s) == "string" and #s >= 8 and #s <= 16
    and s:match("^%+[1-9]%d+$") ~= nil
end

local function e164_problem(v)
  if validate.e164(v) then return nil end
  local msg = "expected an E.164 number: '+' then 7 to 15 digits, the first "
    .. "not 0; got " .. show(v)
  if type(v) == "string" and v:find("[%s%-%.%(%)]") then
    msg = msg .. " (remove spaces and punctuation)"
  elseif type(v) == "string" and v:match("^%d") then
    msg = msg .. " (start with '+' and the country code)"
  end
  return msg
end

-- An absolute http(s) URL with a host, without spaces or control bytes.
function validate.url(s)
  return type(s) == "string" and #s <= 2048
    and s:match("^[hH][tT][tT][pP][sS]?://[^/?#%s@]+") ~= nil
    and not s:find("[%s%c]")
end

local function id_problem(v)
  if type(v) == "string" and #v <= 128 and v:match("^[!-~]+$") then
    return nil
  end
  return "expected an id: 1 to 128 printable characters without spaces; got "
    .. show(v)
end

local function required_string(body, field, problems)
  local v = body[field]
  if not given(v) then
    add(problems, path(field), "Field required", "missing")
  elseif type(v) ~= "string" then
    add(problems, path(field), "expected a string, got " .. kind_of(v))
  elseif util.trim(v) == "" then
    add(problems, path(field), field .. " must not be blank")
  else
    return v
  end
end

local function optional_string(body, field, problems)
  local v = body[field]
  if given(v) and type(v) ~= "string" then
    add(problems, path(field), "expected a string, got " .. kind_of(v))
  end
end

local function check_mobile_number(body, problems)
  local v = required_string(body, "mobile_number", problems)
  if v then
    local msg = e164_problem(v)
    if msg then add(problems, path("mobile_number"), msg) end
  end
end

-- A field that takes one value or a non-empty array of distinct values,
-- each checked by problem_of (which returns nil when the value is fine).
local function one_or_list(body, field, problem_of, problems)
  local v = body[field]
  if type(v) ~= "table" then
    local msg = problem_of(v)
    if msg then add(problems, path(field), msg) end
    return
  end
  if not is_list(v) then
    add(problems, path(field),
      "expected a string or a non-empty array of strings, got " .. kind_of(v))
    return
  end
  local seen = {}
  for i, item in ipairs(v) do
    local msg = problem_of(item)
    if not msg and seen[item] then msg = "duplicate value " .. show(item) end
    if msg then add(problems, path(field, i - 1), msg) end
    seen[item] = true
  end
end

local SOURCES = { "number_pool_id", "from_number_id", "from_number" }
local LEGACY_SOURCES = { "from_number_id", "from_number" }

-- Exactly one caller source; the deprecated endpoint knows no pools.
local function check_caller(body, legacy, problems)
  if legacy and given(body.number_pool_id) then
    add(problems, path("number_pool_id"), "number_pool_id is not accepted "
      .. "by the deprecated endpoint; use POST /calling/v2/outbound/individual",
      "extra_forbidden")
  end
  local names = legacy and LEGACY_SOURCES or SOURCES
  local present = {}
  for _, name in ipairs(names) do
    if given(body[name]) then present[#present + 1] = name end
  end
  if #present ~= 1 then
    local got = #present == 0 and "none was given"
      or ("got " .. concat(present, " and "))
    add(problems, { "body" }, "Provide exactly one of "
      .. concat(names, ", ", 1, #names - 1) .. " or " .. names[#names]
      .. "; " .. got)
  end
  if given(body.number_pool_id) and not legacy then
    local msg = id_problem(body.number_pool_id)
    if msg then add(problems, path("number_pool_id"), msg) end
  end
  if given(body.from_number_id) then
    one_or_list(body, "from_number_id", id_problem, problems)
  end
  if given(body.from_number) then
    one_or_list(body, "from_number", e164_problem, problems)
  end
end

local function scalar(v)
  local t = type(v)
  return t == "string" or t == "number" or t == "boolean"
end

local function check_custom_args(body, problems)
  local v = body.custom_args_values
  if not given(v) then return end
  if not is_object(v) then
    add(problems, path("custom_args_values"),
      "expected an object of variable names to values, got " .. kind_of(v))
    return
  end
  for name, value in pairs(v) do
    if not scalar(value) and value ~= null then
      add(problems, path("custom_args_values", name),
        "expected a string, number or boolean, got " .. kind_of(value))
    end
  end
end

-- Checks that v, when given, is an object; returns it if so.
local function optional_object(v, loc, problems)
  if not given(v) then return nil end
  if not is_object(v) then
    add(problems, loc, "expected an object, got " .. kind_of(v))
    return nil
  end
  return v
end

local function check_smart_formatter(body, problems)
  local sf = optional_object(body.smart_formatter, path("smart_formatter"),
    problems)
  if not sf then return end
  for _, flag in ipairs { "extract_first_name", "transliteration" } do
    if given(sf[flag]) and type(sf[flag]) ~= "boolean" then
      add(problems, path("smart_formatter", flag),
        "expected a boolean, got " .. kind_of(sf[flag]))
    end
  end
  local lang = optional_object(sf.transliteration_language,
    path("smart_formatter", "transliteration_language"), problems)
  for _, side in ipairs { "source", "target" } do
    local code = lang and lang[side]
    if given(code) and not (type(code) == "string"
        and code:match("^%l%l%l?$")) then
      add(problems, path("smart_formatter", "transliteration_language", side),
        "expected a language code such as 'en', got " .. show(code))
    end
  end
end

local function is_integer(v, min)
  return type(v) == "number" and v == floor(v) and v >= min
end

local function check_integers(t, fields, min, loc, problems)
  for _, field in ipairs(fields) do
    local v = t[field]
    if given(v) and not is_integer(v, min) then
      local loc_field = util.copy(loc)
      loc_field[#loc_field + 1] = field
      add(problems, loc_field, (min > 0 and "expected a positive integer"
        or "expected a non-negative integer") .. ", got " .. show(v))
    end
  end
end

local function check_clock(v)
  if type(v) ~= "string" then return false end
  local h, m = v:match("^(%d%d):(%d%d)$")
  return h and tonumber(h) <= 23 and tonumber(m) <= 59
end

local function check_call_time(ct, problems)
  for _, field in ipairs { "call_start_time", "call_end_time" } do
    if given(ct[field]) and not check_clock(ct[field]) then
      add(problems, path("call_config", "call_time", field),
        "expected a 24-hour time 'HH:MM', got " .. show(ct[field]))
    end
  end
  local zone = ct.timezone
  if given(zone) and not (type(zone) == "string"
      and (zone == "UTC" or zone:match("^%a[%w_%-]*/[%w_%-/+]+$"))) then
    add(problems, path("call_config", "call_time", "timezone"),
      "expected an IANA time zone such as 'Asia/Kolkata', got "
      .. show(zone))
  end
  if given(ct.scheduled_at) and not util.parse_time(ct.scheduled_at) then
    add(problems, path("call_config", "call_time", "scheduled_at"),
      "expected an ISO 8601 date-time such as '2025-11-24T01:55:00', got "
      .. show(ct.scheduled_at))
  end
end

local function check_call_config(body, problems)
  local cc = optional_object(body.call_config, path("call_config"), problems)
  if not cc then return end
  check_integers(cc, { "idle_timeout_warning", "idle_timeout_end",
    "max_call_length" }, 1, path("call_config"), problems)
  local warning, ending = cc.idle_timeout_warning, cc.idle_timeout_end
  if is_integer(warning, 1) and is_integer(ending, 1) and ending <= warning then
    add(problems, path("call_config", "idle_timeout_end"),
      "idle_timeout_end must be greater than idle_timeout_warning")
  end
  local retry = optional_object(cc.call_retry_config,
    path("call_config", "call_retry_config"), problems)
  if retry then
    check_integers(retry, { "retry_count", "retry_busy", "retry_not_picked",
      "retry_failed" }, 0, path("call_config", "call_retry_config"), problems)
  end
  local ct = optional_object(cc.call_time, path("call_config", "call_time"),
    problems)
  if ct then check_call_time(ct, problems) end
end

local function header_name(name)
  return type(name) == "string" and name:match("^[%w!#$%%&'*+%-.^_`|~]+$")
end

local function check_callback(body, problems)
  local url = body.callback_url
  if given(url) and not validate.url(url) then
    add(problems, path("callback_url"),
      "expected an absolute http or https URL, got " .. show(url))
  end
  local args = optional_object(body.callback_args, path("callback_args"),
    problems)
  if not args then return end
  local headers = optional_object(args.headers,
    path("callback_args", "headers"), problems)
  for name, value in pairs(headers or {}) do
    if not header_name(name) then
      add(problems, path("callback_args", "headers", name),
        "header names must be HTTP tokens")
    elseif type(value) ~= "string" or value:find("[\r\n%z]") then
      add(problems, path("callback_args", "headers", name),
        "expected a header value string without CR, LF or NUL, got "
        .. kind_of(value))
    end
  end
  local params = optional_object(args.params, path("callback_args", "params"),
    problems)
  for name, value in pairs(params or {}) do
    if not scalar(value) then
      add(problems, path("callback_args", "params", name),
        "expected a string, number or boolean, got " .. kind_of(value))
    end
  end
end

-- Problems of a call-initiate body; legacy is true for the deprecated
-- POST /calling/outbound/individual.
function validate.call(body, legacy)
  local problems = {}
  required_string(body, "name", problems)
  check_mobile_number(body, problems)
  required_string(body, "agent_id", problems)
  check_caller(body, legacy, problems)
  check_custom_args(body, problems)
  check_smart_formatter(body, problems)
  check_call_config(body, problems)
  for _, field in ipairs { "voice_id", "version_id", "call_category",
      "parent_call_id" } do
    optional_string(body, field, problems)
  end
  check_callback(body, problems)
  return problems
end

-- Event types an agent can subscribe to, in the order they happen.
validate.EVENT_TYPES = {
  "call_started", "call_completed", "recording_completed",
  "platform_analysis_completed", "client_analysis_completed",
  "all_processing_completed",
}

local known_event = {}
for _, name in ipairs(validate.EVENT_TYPES) do known_event[name] = true end

local OPERATIONS = {}
for name in ([[attach_inbound_number remove_inbound_number attach_kb remove_kb
    edit_custom_vars edit_language edit_voice edit_prompt edit_noise_settings
    edit_agent_display_name edit_intro_message edit_query_phrases
    edit_dtmf_settings edit_vad_settings edit_agent_whitelisted_domains
    edit_voice_speed edit_extract_callee_name edit_vocab edit_api_settings
    edit_secondary_language edit_secondary_voice
    edit_event_subscriptions]]):gmatch("%S+") do
  OPERATIONS[name] = true
end

local METHODS = { POST = true, PUT = true, PATCH = true }

local function check_event_type(v, loc, problems)
  local names = type(v) == "string" and { v } or v
  if not is_list(names) then
    add(problems, loc, "expected an event type or a non-empty array of them, "
      .. "got " .. kind_of(v))
    return
  end
  for _, name in ipairs(names) do
    if not known_event[name] then
      add(problems, loc, "unknown event type " .. show(name) .. "; expected "
        .. "one of " .. concat(validate.EVENT_TYPES, ", "))
    end
  end
end

local function check_subscription(sub, i, problems)
  local loc = path("event_subscriptions", i - 1)
  if not is_object(sub) then
    add(problems, loc, "expected an object, got " .. kind_of(sub))
    return
  end
  check_event_type(sub.event_type, path("event_subscriptions", i - 1,
    "event_type"), problems)
  if not validate.url(sub.callback_url) then
    add(problems, path("event_subscriptions", i - 1, "callback_url"),
      "expected an absolute http or https URL, got " .. show(sub.callback_url))
  end
  local headers = optional_object(sub.headers,
    path("event_subscriptions", i - 1, "headers"), problems)
  for name, value in pairs(headers or {}) do
    if not header_name(name) or type(value) ~= "string"
        or value:find("[\r\n%z]") then
      add(problems, path("event_subscriptions", i - 1, "headers", name),
        "expected an HTTP token name and a string value without CR or LF")
    end
  end
  local method = sub.method_type
  if given(method) and not (type(method) == "string"
      and METHODS[method:upper()]) then
    add(problems, path("event_subscriptions", i - 1, "method_type"),
      "expected POST, PUT or PATCH, got " .. show(method))
  end
end

-- Problems of a PATCH /agent/v1 body.
function validate.edit_agent(body)
  local problems = {}
  local operation = required_string(body, "operation", problems)
  required_string(body, "agent_id", problems)
  if operation and not OPERATIONS[operation] then
    add(problems, path("operation"), "unknown operation " .. show(operation))
  end
  if operation == "edit_event_subscriptions" then
    local subs = body.event_subscriptions
    local empty = type(subs) == "table" and next(subs) == nil
    if not (empty or is_list(subs)) then
      add(problems, path("event_subscriptions"),
        "expected an array of subscriptions, got " .. kind_of(subs))
    else
      for i, sub in ipairs(subs) do check_subscription(sub, i, problems) end
    end
  end
  return problems
end

-- Problems of a terminate body: PATCH /campaign/terminate/calls needs
-- call_ids; PATCH /campaign/terminate needs at least one selector.
function validate.terminate(body, ids_only)
  local problems = {}
  local function string_list(field, required)
    local v = body[field]
    if not given(v) then
      if required then
        add(problems, path(field), "Field required", "missing")
      end
      return
    end
    if not is_list(v) then
      add(problems, path(field), "expected a non-empty array of strings, got "
        .. kind_of(v))
      return
    end
    if #v > 100 then
      add(problems, path(field), "at most 100 values per request, got " .. #v)
    end
    for i, item in ipairs(v) do
      if type(item) ~= "string" then
        add(problems, path(field, i - 1), "expected a string, got "
          .. kind_of(item))
      end
    end
  end
  string_list("call_ids", ids_only)
  if ids_only then return problems end
  string_list("mobile_numbers", false)
  optional_string(body, "agent_id", problems)
  optional_string(body, "campaign_id", problems)
  if not (given(body.call_ids) or given(body.mobile_numbers)
      or given(body.agent_id) or given(body.campaign_id)) then
    add(problems, { "body" }, "Provide at least one of call_ids, agent_id, "
      .. "campaign_id or mobile_numbers")
  end
  return problems
end

return validate
