-- The Ringg API stand-in, under /ca/api/v0. Every route needs the API key.

local config = require "sandbox.config"
local faults = require "sandbox.faults"
local fixtures = require "sandbox.fixtures"
local json = require "sandbox.json"
local lifecycle = require "sandbox.lifecycle"
local reply = require "sandbox.reply"
local shapes = require "sandbox.shapes"
local store = require "sandbox.store"
local util = require "sandbox.util"
local validate = require "sandbox.validate"
local webhook = require "sandbox.webhook"

local api = {}

api.BASE = "/ca/api/v0"

-- The request's JSON object body, or nil after answering 422.
local function read_object()
  ngx.req.read_body()
  local value = json.decode(ngx.req.get_body_data())
  if type(value) ~= "table" then
    return reply.detail(422, "Malformed JSON")
  end
  if #value > 0 then
    return reply.invalid { reply.problem({ "body" },
      "Input should be a JSON object") }
  end
  return value
end

local function initiate(endpoint)
  return function()
    local body = read_object()
    if not body then return end
    if faults.instead(body.mobile_number) then return end
    local problems = validate.call(body, endpoint == "v1")
    if #problems > 0 then return reply.invalid(problems) end
    if not fixtures.agent(body.agent_id) then
      return reply.detail(404, "Agent not found")
    end
    local call = lifecycle.place(body, endpoint)
    local answer = faults.after(call.to_number)
    if answer then return answer(call) end
    return reply.ok(shapes.initiated(call))
  end
end

-- Query arguments: a single string each, or nil. Repeated or valueless
-- arguments are reported as problems.
local function query_arg(args, name, problems)
  local v = args[name]
  if v == nil then return nil end
  if type(v) ~= "string" then
    problems[#problems + 1] = reply.problem({ "query", name },
      "expected one value")
    return nil
  end
  return v
end

local function integer_arg(args, name, default, min, max, problems)
  local v = query_arg(args, name, problems)
  if v == nil then return default end
  local n = v:match("^%d+$") and tonumber(v)
  if not n or n < min or (max and n > max) then
    problems[#problems + 1] = reply.problem({ "query", name },
      "expected an integer from " .. min .. (max and (" to " .. max) or " up")
      .. ", got '" .. v .. "'")
    return default
  end
  return n
end

-- The spellings FastAPI accepts for a boolean query argument.
local BOOLEANS = { ["true"] = true, ["1"] = true, yes = true, on = true,
  ["false"] = false, ["0"] = false, no = false, off = false }

local function boolean_arg(args, name, problems)
  local v = query_arg(args, name, problems)
  if v == nil then return false end
  local value = BOOLEANS[v:lower()]
  if value ~= nil then return value end
  problems[#problems + 1] = reply.problem({ "query", name },
    "expected true or false, got '" .. v .. "'")
  return false
end

-- An ISO 8601 date argument as epoch seconds. A "+" sent unencoded arrives
-- as a space; that is refused, so clients that forget %2B find out.
local function date_arg(args, name, problems)
  local v = query_arg(args, name, problems)
  if v == nil then return nil end
  local t = util.parse_time(v)
  if t then return t end
  local msg = "expected an ISO 8601 date-time with offset such as "
    .. "2025-09-25T00:00:00+05:30, got '" .. v .. "'"
  if v:find(" ", 1, true) then
    msg = msg .. ": a '+' in the query string must be sent URL-encoded as %2B"
  end
  problems[#problems + 1] = reply.problem({ "query", name }, msg)
end

local function call_details()
  local args = ngx.req.get_uri_args(100)
  local problems = {}
  local id = query_arg(args, "id", problems)
  if id == nil and #problems == 0 then
    problems[1] = reply.problem({ "query", "id" }, "Field required", "missing")
  end
  local analysis = boolean_arg(args, "send_analysis", problems)
  if #problems > 0 then return reply.invalid(problems) end
  if faults.read(id) then return end
  local call = store.get(id)
  if not call then return reply.detail(404, "Call not found") end
  return reply.ok { status = "success", data = shapes.details(call, analysis) }
end

-- Times compared in whole microseconds, the precision history shows, so
-- that a row's own created_at used as a bound includes that row.
local function micros(t)
  return math.floor(t * 1e6 + 0.5)
end

local function matches(call, filter)
  return (not filter.agent_id or call.agent_id == filter.agent_id)
    and (not filter.status or call.status == filter.status)
    and (not filter.bulk_list_id or call.bulk_list_id == filter.bulk_list_id)
    and (not filter.from or micros(call.created) >= micros(filter.from))
    and (not filter.to or micros(call.created) <= micros(filter.to))
end

local function history()
  local args = ngx.req.get_uri_args(100)
  local problems = {}
  local limit = integer_arg(args, "limit", 10, 1, nil, problems)
  local offset = integer_arg(args, "offset", 0, 0, nil, problems)
  local filter = {
    from = date_arg(args, "start_date", problems),
    to = date_arg(args, "end_date", problems),
    agent_id = query_arg(args, "agent_id", problems),
    status = query_arg(args, "status", problems),
    bulk_list_id = query_arg(args, "bulk_list_id", problems),
  }
  if #problems > 0 then return reply.invalid(problems) end
  local all, found = store.all(), {}
  for i = #all, 1, -1 do
    if matches(all[i], filter) then found[#found + 1] = all[i] end
  end
  local rows = json.array()
  for i = offset + 1, math.min(offset + limit, #found) do
    rows[#rows + 1] = shapes.history_row(found[i])
  end
  return reply.ok { calls = rows, limit = limit, offset = offset,
                    count = #rows, total = #found }
end

-- How many stored calls use each caller number.
local function number_counts()
  local counts = {}
  for _, call in ipairs(store.all()) do
    counts[call.from_number] = (counts[call.from_number] or 0) + 1
  end
  return counts
end

local function numbers()
  local args = ngx.req.get_uri_args(100)
  local problems = {}
  local limit = integer_arg(args, "limit", 20, 1, 100, problems)
  local offset = integer_arg(args, "offset", 0, 0, nil, problems)
  if #problems > 0 then return reply.invalid(problems) end
  local all, counts, page = fixtures.numbers(), number_counts(), json.array()
  for i = offset + 1, math.min(offset + limit, #all) do
    local n = util.copy(all[i])
    n.call_count = counts[n.number] or 0
    page[#page + 1] = n
  end
  return reply.ok { workspace_numbers = page }
end

local function agents()
  local list = fixtures.agents()
  return reply.ok { agents = json.array(list), total = #list }
end

local function agent(id)
  local a = fixtures.agent(id)
  if not a then return reply.detail(404, "Agent not found") end
  return reply.ok { agents = a }
end

local function workspace()
  return reply.ok { workspace_info = fixtures.workspace() }
end

local function edit_agent()
  local body = read_object()
  if not body then return end
  local problems = validate.edit_agent(body)
  if #problems > 0 then return reply.invalid(problems) end
  if not fixtures.agent(body.agent_id) then
    return reply.detail(404, "Agent not found")
  end
  -- Other operations are accepted and change nothing: the sandbox's agents
  -- are fixtures.
  if body.operation == "edit_event_subscriptions" then
    webhook.subscribe(body.agent_id, body.event_subscriptions)
  end
  return reply.ok { message = "Agent updated successfully!",
                    agent_id = body.agent_id }
end

local function set_of(list)
  if type(list) ~= "table" then return nil end
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

-- Calls the terminate body selects: every selector given must match.
-- The sandbox has no campaigns, so campaign_id matches nothing.
local function selected(body)
  local ids, to_numbers = set_of(body.call_ids), set_of(body.mobile_numbers)
  local found = {}
  for _, call in ipairs(store.all()) do
    if (not ids or ids[call.id])
        and (not to_numbers or to_numbers[call.to_number])
        and (not body.agent_id or call.agent_id == body.agent_id)
        and (not body.campaign_id or call.bulk_list_id == body.campaign_id)
        and lifecycle.terminable(call) then
      found[#found + 1] = call
    end
  end
  return found
end

local function terminate(ids_only)
  return function()
    local body = read_object()
    if not body then return end
    local problems = validate.terminate(body, ids_only)
    if #problems > 0 then return reply.invalid(problems) end
    local calls = selected(body)
    if #calls == 0 then
      return reply.detail(400,
        "No terminable calls found for the specified parameters")
    end
    for _, call in ipairs(calls) do lifecycle.terminate(call) end
    return reply.ok { message = "Calls terminated successfully!" }
  end
end

-- Method, path pattern and handler; the first match wins, so /agent/all
-- comes before /agent/{id}.
local ROUTES = {
  { "POST", "^/calling/v2/outbound/individual$", initiate("v2") },
  { "POST", "^/calling/outbound/individual$", initiate("v1") },
  { "GET", "^/calling/call%-details$", call_details },
  { "GET", "^/calling/history$", history },
  { "GET", "^/agent/all$", agents },
  { "PATCH", "^/agent/v1$", edit_agent },
  { "GET", "^/agent/([^/]+)$", agent },
  { "GET", "^/workspace/numbers$", numbers },
  { "GET", "^/workspace$", workspace },
  { "PATCH", "^/campaign/terminate/calls$", terminate(true) },
  { "PATCH", "^/campaign/terminate$", terminate(false) },
}

function api.handle(path)
  if ngx.var.http_x_api_key ~= config.key then
    return reply.detail(401, "Invalid or missing API key")
  end
  local method = ngx.req.get_method()
  local path_known = false
  for _, route in ipairs(ROUTES) do
    local route_method, pattern, handler = route[1], route[2], route[3]
    local capture = path:match(pattern)
    if capture then
      if route_method == method then return handler(capture) end
      path_known = true
    end
  end
  if path_known then return reply.detail(405, "Method Not Allowed") end
  return reply.detail(404, "Not Found")
end

return api
