-- Normalised call records.
--
-- Ringg describes one call in four shapes: the call-details `data`, a
-- call-history row, the `data` of the per-call callback envelope and the
-- flat agent event payloads. They spell the same facts differently
-- (`id`/`call_id`, `call_status`/`status`, `recording_url`/`audio_recording`)
-- and carry the transcript in four forms. This module turns any of them
-- into one table, so the client verbs and the webhook parser agree.
--
-- Inputs are decoded JSON. Nothing here raises on odd data: a field that
-- is missing, JSON null or of an unexpected type is simply absent.

local cjson = require "cjson.safe"

local null = cjson.null
local floor, huge = math.floor, math.huge

local M = {}


-- Speaker names seen in transcripts, mapped to the two roles we report.
local ROLES = {
  bot = "bot", assistant = "bot", agent = "bot", ai = "bot",
  user = "user", customer = "user", human = "user", caller = "user",
}


-- True when the keys of `t` are exactly 1..#t, as in a decoded JSON
-- array (where a null element is a non-nil value and counts).
local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if type(k) ~= "number" then return false end
    n = n + 1
  end
  return n == #t
end

-- Returns a copy of `v` with every JSON null removed, at any depth. In
-- arrays the remaining elements close up, so `ipairs` still sees them all.
-- Non-tables are returned as they are (null becomes nil).
local function strip_nulls(v)
  if v == null then return nil end
  if type(v) ~= "table" then return v end
  local out = {}
  if is_array(v) then
    for i = 1, #v do
      if v[i] ~= null then out[#out + 1] = strip_nulls(v[i]) end
    end
  else
    for k, x in pairs(v) do
      out[k] = strip_nulls(x)
    end
  end
  return out
end
M.strip_nulls = strip_nulls


-- Field converters: each returns the value in its normal form, or nil.

local function str(v)
  if type(v) == "string" and v ~= "" then return v end
end

local function num(v)
  if type(v) == "string" then v = tonumber(v) end
  -- v ~= v rejects NaN; the bounds reject infinities
  if type(v) == "number" and v == v and v > -huge and v < huge then
    return v
  end
end

-- A count is a whole, non-negative number; floor() makes it an integer
-- on Lua 5.4 and is harmless on LuaJIT.
local function count(v)
  v = num(v)
  if v and v >= 0 and v == floor(v) then return floor(v) end
end

local function object(v)
  if type(v) == "table" then return strip_nulls(v) end
end

-- The first of t's fields `...` that `conv` accepts.
local function first(conv, t, ...)
  for i = 1, select("#", ...) do
    local v = conv(t[(select(i, ...))])
    if v ~= nil then return v end
  end
end


-- Transcripts.

-- Written to stay linear on long runs of blanks, which the obvious
-- "^%s*(.-)%s*$" is not: transcripts come from the network.
local function trim(s)
  local from = s:match("^%s*()")
  return s:match(".*%S", from) or ""
end

-- One element of a transcript array: `{bot = "..."}`-style objects
-- (a single speaker key, other keys such as timestamps ignored) or
-- `{role = ..., content|text = ...}`. Returns nil for anything else.
local function turn(item)
  if type(item) ~= "table" then return nil end
  local role = item.role
  if role ~= nil and role ~= null then
    local text = item.content
    if text == nil or text == null then text = item.text end
    if type(role) ~= "string" or type(text) ~= "string" then return nil end
    -- unknown roles ("system", "tool") pass through as given
    return {role = ROLES[role:lower()] or role, text = text}
  end
  local found
  for k, v in pairs(item) do
    local r = type(k) == "string" and ROLES[k:lower()]
    if r and type(v) == "string" then
      if found then return nil end  -- two speakers in one turn: not ours
      found = {role = r, text = v}
    end
  end
  return found
end

local function from_list(list)
  local turns = {}
  for i = 1, #list do
    local t = turn(list[i])
    if t then turns[#turns + 1] = t end
  end
  -- a list none of whose elements is a turn is an unknown shape; an
  -- empty list is a call without conversation
  if #turns == 0 and #list > 0 then return nil end
  return turns
end

-- Plain text. When lines start with a speaker label ("Bot: ...",
-- "User: ...", any name in ROLES, any case) each label opens a turn and
-- unlabelled lines continue the turn before them; text ahead of the
-- first label becomes a turn of role "unknown". Text without any label
-- is one turn of role "unknown": guessing a speaker would be a lie.
local function from_text(text)
  local turns, current, labelled = {}, nil, false
  for line in text:gmatch("[^\r\n]+") do
    local label, rest = line:match("^%s*(%a+)%s*:(.*)")
    local role = label and ROLES[label:lower()]
    local said = trim(role and rest or line)
    if role then
      labelled = true
      current = {role = role, text = said}
      turns[#turns + 1] = current
    elseif said ~= "" then  -- blank lines only separate
      if current == nil then
        current = {role = "unknown", text = said}
        turns[#turns + 1] = current
      elseif current.text == "" then
        current.text = said
      else
        current.text = current.text .. "\n" .. said
      end
    end
  end
  if not labelled then return {{role = "unknown", text = text}} end
  return turns
end

-- Returns the transcript as a list of {role = "bot"|"user", text = ...}
-- turns, from any form Ringg sends (see the module comment), or nil when
-- there is none or its shape is unknown.
function M.transcript(value)
  if type(value) == "string" then
    local s = trim(value)
    if s == "" then return nil end
    local c = s:sub(1, 1)
    if c == "[" or c == "{" then
      -- history rows carry the array JSON-encoded; text that merely
      -- starts with a bracket is still text
      local decoded = cjson.decode(s)
      if type(decoded) == "table" then return M.transcript(decoded) end
    end
    return from_text(s)
  elseif type(value) == "table" then
    if value[1] == nil and next(value) ~= nil then return nil end
    return from_list(value)
  end
  return nil
end


-- Call details name the transcript field `transcription_url`; should it
-- ever hold what its name says, that is a link, not a transcript.
local function is_url(v)
  return type(v) == "string" and v:match("^%s*https?://%S+%s*$") ~= nil
end

local function transcript_of(t)
  local turns = M.transcript(t.transcript)
  if turns == nil and not is_url(t.transcription_url) then
    turns = M.transcript(t.transcription_url)
  end
  return turns
end

-- Analyses come as `platform_analysis`/`client_analysis` (call details,
-- consolidated events), as `analysis_data` (the two *_analysis_completed
-- events, told apart by event_type) or as `analysis` (the per-call
-- callback, shape undocumented: split when it holds the two named parts,
-- else taken as the platform's).
local function analysis_of(t)
  local platform = strip_nulls(t.platform_analysis)
  local client = strip_nulls(t.client_analysis)
  local extra = t.analysis_data
  if extra == nil or extra == null then extra = t.analysis end
  if type(extra) == "table" and (extra.platform_analysis ~= nil
      or extra.client_analysis ~= nil) then
    if platform == nil then platform = strip_nulls(extra.platform_analysis) end
    if client == nil then client = strip_nulls(extra.client_analysis) end
  elseif t.event_type == "client_analysis_completed" then
    if client == nil then client = strip_nulls(extra) end
  elseif platform == nil then
    platform = strip_nulls(extra)
  end
  if platform ~= nil or client ~= nil then
    return {platform = platform, client = client}
  end
end

local function from_number_of(t)
  local v = str(t.from_number)
  if v == nil and type(t.from_numbers) == "table" then
    v = str(t.from_numbers[1])
  end
  return v
end


-- Returns the normalised record of the decoded call object `t`. Fields
-- are absent when unknown; `raw` is `t` itself, untouched.
function M.call(t)
  if type(t) ~= "table" then
    error("bad argument #1 to 'call' (table expected, got " .. type(t) .. ")",
      2)
  end
  local agent = type(t.agent) == "table" and t.agent or {}
  return {
    id = first(str, t, "id", "call_id"),
    status = first(str, t, "call_status", "status"),
    sub_status = first(str, t, "call_sub_status", "sub_status"),
    direction = first(str, t, "call_direction", "direction", "call_type"),
    agent_id = str(t.agent_id) or str(agent.id),
    agent_name = str(t.agent_name) or str(agent.agent_name),
    name = first(str, t, "callee_name", "name"),
    from_number = from_number_of(t),
    to_number = str(t.to_number),
    custom_args_values = object(t.custom_args_values),
    initiated_at = first(str, t, "initiated_at", "initiation_time",
      "called_on"),
    created_at = str(t.created_at),
    duration = first(num, t, "call_duration", "duration"),
    recording_url = first(str, t, "recording_url", "audio_recording"),
    transcript = transcript_of(t),
    cost = first(num, t, "call_cost", "cost"),
    retry_count = first(count, t, "retry_count", "retry"),
    next_attempt_time = str(t.next_attempt_time),
    analysis = analysis_of(t),
    raw = t,
  }
end


return M
