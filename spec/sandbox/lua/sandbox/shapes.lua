-- A stored call as each endpoint and webhook shows it. Ringg shows the
-- same call differently in different places (the transcript is an array in
-- call details, a JSON-encoded string in history, plain text in the
-- per-call callback), and the sandbox reproduces each form.

local fixtures = require "sandbox.fixtures"
local json = require "sandbox.json"
local util = require "sandbox.util"

local array, null = json.array, json.null
local concat = table.concat

local shapes = {}

-- nil becomes JSON null.
local function opt(v)
  if v == nil then return null end
  return v
end

local function time_or_null(t, suffix)
  return t and util.iso(t, suffix) or null
end

-- [{"bot": "..."}, {"user": "..."}], as webhooks and call details show it.
local function turn_objects(call)
  local turns = array()
  for i, turn in ipairs(call.turns or {}) do
    turns[i] = { [turn.role] = turn.text }
  end
  return turns
end

-- The same turns as history carries them: a string of JSON, spaced the
-- way Python's json.dumps writes it, since that is what Ringg sends.
local function transcript_string(call)
  if not call.turns then return null end
  local parts = {}
  for i, turn in ipairs(call.turns) do
    parts[i] = "{" .. json.encode_string(turn.role) .. ": "
      .. json.encode_string(turn.text)
      .. "}"
  end
  return "[" .. concat(parts, ", ") .. "]"
end

-- "bot: ...\nuser: ...", the per-call callback's plain-text transcript.
local function transcript_text(call)
  local lines = {}
  for i, turn in ipairs(call.turns or {}) do
    lines[i] = turn.role .. ": " .. turn.text
  end
  return concat(lines, "\n")
end

local function agent_name(call)
  return call.agent.agent_display_name
end

-- POST /calling/v2/outbound/individual, current shape. The status is the
-- one at initiation, even when the reply is sent late.
function shapes.initiated(call)
  return {
    status = "success",
    data = {
      call_id = call.id,
      call_direction = "outbound",
      call_status = "registered",
      initiated_at = util.iso(call.created),
      agent_id = call.agent_id,
      custom_args_values = call.custom_args_values,
    },
    message = "Call initiated successfully",
  }
end

-- The legacy shape (ringg-api.md 2.5, shape A).
function shapes.legacy(call)
  return {
    ["Call Status"] = "Call initiated successfully",
    data = {
      ["Unique Call ID"] = call.id,
      ["Call Direction"] = "outbound",
      ["Call Status"] = "registered",
      ["From Number"] = call.from_number,
      ["To Number"] = call.to_number,
      ["Initiated at"] = util.iso(call.created, "Z"),
      ["Agent ID"] = call.agent_id,
      message = "Call initiated successfully",
    },
  }
end

-- GET /calling/call-details data.
function shapes.details(call, with_analysis)
  local data = {
    id = call.id,
    call_direction = "outbound",
    call_status = call.status,
    call_sub_status = opt(call.sub_status),
    from_number = call.from_number,
    to_number = call.to_number,
    callee_name = call.custom_args_values.callee_name,
    agent_id = call.agent_id,
    initiation_time = util.iso(call.created, "Z"),
    recording_url = opt(call.recording_url),
    transcription_url = turn_objects(call),
    call_duration = opt(call.duration),
    call_cost = opt(call.cost),
    custom_args_values = call.custom_args_values,
    retry = call.retry,
    next_attempt_time = time_or_null(call.next_attempt, "Z"),
  }
  if with_analysis then
    data.platform_analysis = opt(call.analysis)
    data.client_analysis = call.analysis and {} or null
  end
  return data
end

-- One row of GET /calling/history.
function shapes.history_row(call)
  local version = fixtures.version(call.agent)
  return {
    id = call.id,
    to_number = call.to_number,
    name = call.name,
    status = call.status,
    transcript = transcript_string(call),
    audio_recording = opt(call.recording_url),
    created_at = util.iso(call.created, "+00:00"),
    agent = {
      id = call.agent_id,
      agent_name = agent_name(call),
      agent_version_id = version.version_id,
      orchestration_mode = "single_node",
      version = { version_id = version.version_id,
                  version_slug = version.version_slug },
    },
    call_duration = opt(call.duration),
    call_attempt_time = time_or_null(call.attempt_time, "+00:00"),
    call_cost = opt(call.cost),
    call_type = "outbound",
    inbound_from = null,
    credits_processed = call.cost ~= nil,
    from_numbers = array { call.from_number },
    voicemail_detected = false,
    bulk_list_id = null,
    retry = call.retry,
  }
end

-- The per-call callback_url envelope. Fields that do not apply yet are
-- left out, as Ringg documents them "present if available".
function shapes.envelope(call)
  local data = {
    call_id = call.id,
    call_direction = "outbound",
    status = call.status,
    agent_id = call.agent_id,
    retry = call.retry,
    from_number = call.from_number,
    to_number = call.to_number,
    custom_args_values = call.custom_args_values,
    call_duration = call.duration,
    recording_url = call.recording_url,
  }
  if call.turns then data.transcript = transcript_text(call) end
  if call.next_attempt then
    data.next_attempt_time = util.iso(call.next_attempt, "Z")
  end
  return { status = "success", data = data, message = "Call Details" }
end

-- Fields every agent event payload carries.
local function event_base(event_type, call)
  local version = fixtures.version(call.agent)
  return {
    event_type = event_type,
    call_id = call.id,
    call_sid = call.call_sid,
    agent_id = call.agent_id,
    workspace_id = fixtures.WORKSPACE_ID,
    custom_args_values = call.custom_args_values,
    agent_name = agent_name(call),
    version_id = version.version_id,
    call_cost = opt(call.cost),
    tool_call_logs = array(),
  }
end

local function count_turns(call, role)
  local n = 0
  for _, turn in ipairs(call.turns or {}) do
    if turn.role == role then n = n + 1 end
  end
  return n
end

local function add_call_fields(payload, call)
  payload.status = call.status
  payload.call_duration = call.duration or 0
  payload.call_type = "outbound"
  payload.to_number = call.to_number
  payload.from_number = call.from_number
  payload.bulk_list_id = null
  payload.called_on = time_or_null(call.attempt_time, "Z")
  payload.retry_count = call.retry
  payload.agent_message_count = count_turns(call, "bot")
  payload.user_message_count = count_turns(call, "user")
  payload.overall_latency_seconds = 0.892345
  payload.first_utterance_seconds = 0.456789
  payload.transcript = turn_objects(call)
end

-- What each event adds to the common fields.
local EVENTS = {
  call_started = function(p, call)
    local version = fixtures.version(call.agent)
    p.sub_status = "ACCEPTED"
    p.version_slug = version.version_slug
    p.version_description = version.version_description
  end,
  call_completed = function(p, call)
    add_call_fields(p, call)
    if call.next_attempt then
      p.next_attempt_time = util.iso(call.next_attempt, "Z")
    end
  end,
  recording_completed = function(p, call)
    p.recording_url = opt(call.recording_url)
    p.recording_duration = opt(call.duration)
  end,
  platform_analysis_completed = function(p, call)
    p.analysis_data = opt(call.analysis)
  end,
  client_analysis_completed = function(p)
    p.analysis_data = {}
  end,
  all_processing_completed = function(p, call)
    add_call_fields(p, call)
    p.recording_url = opt(call.recording_url)
    p.platform_analysis = opt(call.analysis)
    p.client_analysis = {}
  end,
}

-- The flat payload of an agent event subscription (ringg-api.md 4.2).
function shapes.event(event_type, call)
  local payload = event_base(event_type, call)
  EVENTS[event_type](payload, call)
  return payload
end

-- What GET /_sandbox/calls shows: the details plus the sandbox's own
-- bookkeeping.
function shapes.sandbox_view(call)
  local view = shapes.details(call, true)
  view.name = call.name
  view.endpoint = call.endpoint
  view.callback_url = opt(call.callback_url)
  view.scheduled_at = time_or_null(call.scheduled_at, "Z")
  view.statuses = array(call.statuses)
  return view
end

return shapes
