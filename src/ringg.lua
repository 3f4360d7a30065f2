-- ringg: place outbound AI voice calls through the Ringg AI REST API,
-- and read them back.
--
-- The C core (ringg.core) validates, assembles, sends with libcurl and
-- classifies replies; this module gives the client its verbs, lets a
-- custom transport replace libcurl, and adds the webhook helpers.
-- Expected failures return nil and an error table (see the README's
-- "Errors"); only programmer mistakes raise.

local core = require "ringg.core"
local prompt = require "ringg.prompt"
local record = require "ringg.record"
local webhook = require "ringg.webhook"

local error, pairs, ipairs, next, type = error, pairs, ipairs, next, type
local setmetatable, tostring, pcall = setmetatable, tostring, pcall
local floor, min, random = math.floor, math.min, math.random

local ringg = {
  _VERSION = core.VERSION,
  VERSION = core.VERSION,
  DEFAULT_BASE_URL = core.DEFAULT_BASE_URL,
  validate = core.validate,
  webhook = webhook,
  placeholders = prompt.placeholders,
}


-- The options of ringg.new; the C core reads all but the Lua-side ones.
local OPTIONS = {
  api_key = true, base_url = true, timeout = true, connect_timeout = true,
  user_agent = true, transport = true, proxy = true, ca_file = true,
  max_in_flight = true, verbose = true, check_variables = true,
  variables_ttl = true,
}


local function invalid(field, message)
  return core.error{
    kind = "invalid", message = "invalid " .. field .. ": " .. message,
    errors = { { field = field, message = message } },
    sent = false, retryable = false,
  }
end


local function protocol(message, res)
  return core.error{
    kind = "protocol", message = message, sent = true, retryable = false,
    status = res and res.status, headers = res and res.headers,
  }
end


-- The closest option name within two edits, for misspelt options.
local function suggest(name)
  local best, best_d = nil, 3
  for option in pairs(OPTIONS) do
    local a, b = name, option
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
      local cur = { [0] = i }
      for j = 1, #b do
        local cost = a:byte(i) == b:byte(j) and 0 or 1
        cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    if prev[#b] < best_d then best, best_d = option, prev[#b] end
  end
  return best
end


local function check_options(opts)
  if type(opts) ~= "table" then
    error("ringg.new expects a table of options", 3)
  end
  for name in pairs(opts) do
    if not OPTIONS[name] then
      local hint = type(name) == "string" and suggest(name)
      error(("unknown option '%s'%s"):format(tostring(name),
            hint and (" (did you mean '%s'?)"):format(hint) or ""), 3)
    end
  end
  if opts.transport ~= nil and type(opts.transport) ~= "function" then
    error("option 'transport' must be a function", 3)
  end
  local ttl = opts.variables_ttl
  if ttl ~= nil and (type(ttl) ~= "number" or ttl < 0) then
    error("option 'variables_ttl' must be a number of seconds >= 0", 3)
  end
end


--
-- The client
--

local Client = {}
Client.__index = Client


function ringg.new(opts)
  check_options(opts)
  local ok, handle = pcall(core.new, opts)
  if not ok then error(handle, 2) end
  return setmetatable({
    _core = handle,
    _transport = opts.transport,
    _check_variables = opts.check_variables and true or false,
    _variables_ttl = opts.variables_ttl or 300,
    _prompts = {},
  }, Client)
end


function Client:__tostring()
  return (tostring(self._core):gsub("^ringg%.client", "ringg client"))
end


function Client:close()
  self._prompts = {}
  return self._core:close()
end

Client.__close = Client.close


-- Sends a request other than a call: through the custom transport when
-- there is one, else through libcurl. Returns the decoded body and a
-- {status, headers} table, or nil, err.
local function send(self, method, path, query, body)
  local transport = self._transport
  if not transport then
    return self._core:send(method, path, query, body)
  end
  local req, err = self._core:build(method, path, query, body)
  if not req then return nil, err end
  return self._core:classify(method == "GET" and "read" or "write",
                             transport(req))
end


function Client:prepare(params)
  return self._core:prepare(params)
end


-- Fails with kind "invalid" when the agent's prompt needs a variable
-- the call does not give.
local function check_call_variables(self, params)
  local report, err = self:check_variables(params.agent_id,
                                           params.custom_args_values)
  if not report then return nil, err end
  if #report.missing == 0 then return true end
  local errors = {}
  for i, name in ipairs(report.missing) do
    errors[i] = { field = "custom_args_values." .. name,
                  message = "the agent's prompt uses @{{" .. name
                    .. "}}, but the call does not give it" }
  end
  return nil, core.error{
    kind = "invalid", sent = false, retryable = false, errors = errors,
    message = "invalid call: " .. errors[1].field .. ": "
      .. errors[1].message .. (#errors > 1 and
      (" (and %d more problem%s)"):format(#errors - 1,
                                          #errors > 2 and "s" or "") or ""),
  }
end


function Client:call(params, opts)
  local check = self._check_variables
  if opts and opts.check_variables ~= nil then
    check = opts.check_variables
  end
  if check then
    local valid, err = core.validate(params)
    if not valid then return nil, err end
    local ok, missing = check_call_variables(self, params)
    if not ok then return nil, missing end
  end
  local transport = self._transport
  if not transport then
    return self._core:call(params)
  end
  local req, err = self._core:prepare(params)
  if not req then return nil, err end
  return self._core:classify("call", transport(req))
end


function Client:start_call(params, callback)
  if self._transport then
    error("start_call needs the libcurl transport; with a custom "
          .. "transport, use call", 2)
  end
  return self._core:start_call(params, callback)
end


function Client:start(method, path, opts, callback)
  if self._transport then
    error("start needs the libcurl transport; with a custom transport, "
          .. "use request", 2)
  end
  opts = opts or {}
  return self._core:start(method, path, opts.query, opts.body, callback)
end


function Client:poll(timeout)
  return self._core:poll(timeout)
end


function Client:pending()
  return self._core:pending()
end


function Client:request(method, path, opts)
  opts = opts or {}
  return send(self, method, path, opts.query, opts.body)
end


--
-- Reading calls back, and the lookups a caller needs
--

-- An id that may go into a URL path or query: 1 to 128 characters of
-- letters, digits, '-' and '_'.
local function check_id(id, field)
  if type(id) ~= "string" or #id == 0 or #id > 128
      or id:find("[^%w%-_]") then
    return nil, invalid(field, "expected an id of 1 to 128 letters, "
      .. "digits, '-' or '_', got " .. (type(id) == "string"
      and ("%q"):format(id:sub(1, 40)) or "a " .. type(id)))
  end
  return id
end


-- The object under `key` of a decoded reply, or a protocol error.
local function field_of(body, key, res, what)
  local v = type(body) == "table" and body[key]
  if type(v) ~= "table" then
    return nil, protocol(("HTTP %d: the reply has no %s"):format(
      res and res.status or 0, what), res)
  end
  return v
end


function Client:call_details(call_id, opts)
  local id, err = check_id(call_id, "call_id")
  if not id then return nil, err end
  local analysis = opts and opts.analysis
  local body, res = send(self, "GET", "/calling/call-details",
    { id = id, send_analysis = analysis and "true" or nil })
  if not body then return nil, res end
  local data, derr = field_of(body, "data", res, "call details")
  if not data then return nil, derr end
  return record.call(data)
end


local HISTORY_QUERY = {
  limit = "number", offset = "number", start_date = "string",
  end_date = "string", agent_id = "string", status = "string",
  bulk_list_id = "string",
}


local function history_query(q)
  local query = {}
  for name, value in pairs(q or {}) do
    local want = HISTORY_QUERY[name]
    if not want then
      return nil, invalid(tostring(name), "unknown call_history filter")
    end
    if type(value) ~= want then
      return nil, invalid(name, "expected a " .. want .. ", got a "
        .. type(value))
    end
    query[name] = value
  end
  return query
end


function Client:call_history(q)
  local query, err = history_query(q)
  if not query then return nil, err end
  local body, res = send(self, "GET", "/calling/history", query)
  if not body then return nil, res end
  local rows, rerr = field_of(body, "calls", res, "calls list")
  if not rows then return nil, rerr end
  local calls = {}
  for i, row in ipairs(rows) do
    calls[i] = record.call(row)
  end
  local function int(v)
    return type(v) == "number" and floor(v) or nil
  end
  return {
    calls = calls, count = int(body.count) or #calls, total = int(body.total),
    limit = int(body.limit), offset = int(body.offset), raw = body,
  }
end


-- for call, err in client:each_call{...}: every call across pages. On
-- a failure the loop sees the error once, then ends. The error comes as
-- `false, err`: a nil first value would end a generic for before its
-- body could see the error.
function Client:each_call(q)
  local query, err = history_query(q)
  local page, index, done = nil, 0, false
  query = query or {}
  query.limit = query.limit or 50
  query.offset = query.offset or 0
  local function fail(e)
    done = true
    return false, e
  end
  local function last_page()
    return page and (#page.calls == 0
      or (page.total and query.offset >= page.total))
  end
  return function()
    if done then return nil end
    if err then return fail(err) end
    if not page or index >= #page.calls then
      if last_page() then
        done = true
        return nil
      end
      local next_page, perr = self:call_history(query)
      if not next_page then return fail(perr) end
      page, index = next_page, 0
      query.offset = query.offset + #page.calls
      if #page.calls == 0 then
        done = true
        return nil
      end
    end
    index = index + 1
    return page.calls[index]
  end
end


-- Calls to `mobile_number` since `since` (ISO 8601 date-time), newest
-- first: how a script learns whether a call whose POST ended with
-- sent = true, retryable = false was placed after all.
function Client:find_calls(q)
  if type(q) ~= "table" or type(q.mobile_number) ~= "string" then
    error("find_calls expects {mobile_number = ..., since = ...}", 2)
  end
  local query = { start_date = q.since, agent_id = q.agent_id }
  local found = {}
  for call, err in self:each_call(query) do
    if not call then return nil, err end
    if call.to_number == q.mobile_number then
      found[#found + 1] = call
    end
  end
  return found
end


function Client:agents()
  local body, res = send(self, "GET", "/agent/all")
  if not body then return nil, res end
  if body[1] ~= nil or next(body) == nil then return body end
  local list = body.agents or body.data
  if type(list) ~= "table" then
    return nil, protocol(("HTTP %d: the reply has no agents list"):format(
      res.status), res)
  end
  return list
end


function Client:agent(agent_id)
  local id, err = check_id(agent_id, "agent_id")
  if not id then return nil, err end
  local body, res = send(self, "GET", "/agent/" .. id)
  if not body then return nil, res end
  return field_of(body, "agents", res, "agent")
end


function Client:numbers(q)
  q = q or {}
  local query = { limit = q.limit, offset = q.offset }
  local body, res = send(self, "GET", "/workspace/numbers", query)
  if not body then return nil, res end
  return field_of(body, "workspace_numbers", res, "workspace numbers")
end


function Client:workspace()
  local body, res = send(self, "GET", "/workspace")
  if not body then return nil, res end
  return field_of(body, "workspace_info", res, "workspace info")
end


-- Cancels queued (registered) and retry-pending calls; Ringg cannot
-- hang up a call already in progress.
function Client:terminate(q)
  local ids = type(q) == "table" and q.call_ids
  if type(ids) ~= "table" or #ids == 0 or #ids > 100 then
    return nil, invalid("call_ids", "expected a list of 1 to 100 call ids")
  end
  for i, id in ipairs(ids) do
    local ok, err = check_id(id, ("call_ids[%d]"):format(i))
    if not ok then return nil, err end
  end
  local body, res = send(self, "PATCH", "/campaign/terminate/calls", nil,
                         { call_ids = ids })
  if not body then return nil, res end
  return body
end


--
-- Prompt variables
--

local now = os.time
if type(ngx) == "table" and ngx.now then now = ngx.now end


-- The agent's prompt texts, cached for variables_ttl seconds.
local function prompt_texts(self, agent_id)
  local cached = self._prompts[agent_id]
  if cached and now() - cached.at < self._variables_ttl then
    return cached.texts
  end
  local agent, err = self:agent(agent_id)
  if not agent then return nil, err end
  local config = type(agent.agent_config) == "table" and agent.agent_config
    or {}
  local texts = {}
  for _, key in ipairs{ "agent_prompt", "intro_message" } do
    if type(config[key]) == "string" then texts[#texts + 1] = config[key] end
  end
  self._prompts[agent_id] = { texts = texts, at = now() }
  return texts
end


-- {needed, missing, unused}: the variables the agent's prompt uses, those
-- the call does not give (callee_name defaults to the call's name), and
-- the values given that no prompt uses.
function Client:check_variables(agent_id, values)
  local id, err = check_id(agent_id, "agent_id")
  if not id then return nil, err end
  if values ~= nil and type(values) ~= "table" then
    error("custom_args_values must be a table", 2)
  end
  local texts, terr = prompt_texts(self, id)
  if not texts then return nil, terr end
  return prompt.compare(texts, values)
end


--
-- Retries
--

-- Seconds to wait before attempt `attempt` + 1: the server's
-- Retry-After when it gave one, else 0.5 s doubling per attempt up to
-- 8 s, with "equal jitter" (between half and all of it) so that many
-- clients do not retry in step.
function ringg.backoff(attempt, err)
  if type(attempt) ~= "number" or attempt < 1 then
    error("backoff expects an attempt number >= 1", 2)
  end
  if type(err) == "table" and type(err.retry_after) == "number" then
    return err.retry_after
  end
  local base = min(0.5 * 2 ^ (floor(attempt) - 1), 8)
  return base / 2 + random() * base / 2
end


return ringg
