-- The sandbox itself, over real HTTP: its endpoints and shapes, the call
-- lifecycle, webhooks, faults, keep-alive and TLS. Needs the sandbox
-- running (spec/sandbox/sandbox start). Every wait is bounded.

local cjson = require "cjson.safe"
local http = require "socket.http"
local ltn12 = require "ltn12"
local socket = require "socket"
local helpers = require "spec.helpers"

local sb = helpers.sandbox()

http.TIMEOUT = 5

local APPOINTMENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
local ORDER = "a31f36c4-c8ea-4c4b-9ad6-743dabacafbd"
local PLAIN = "5d7cdc09-1111-4a2b-9c3d-0123456789ab"
local POOL = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"
local NUMBER_ID = "5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a92"
local UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"

local UUID4 = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
local NAIVE_TIME = "^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%d$"

local host, port = sb.url:match("^http://([^:/]+):(%d+)")
port = tonumber(port)
local origin = "http://" .. host .. ":" .. port
local https_origin = sb.https_url:match("^(https://[^/]+)")

--- HTTP helpers -----------------------------------------------------------

-- Sends a request; opts: body (table or string), headers, key (false for
-- none). Returns {status, headers, body, json}.
local function request(method, url, opts)
  opts = opts or {}
  local body = opts.body
  if type(body) == "table" then body = assert(cjson.encode(body)) end
  local headers = {}
  if opts.key ~= false then headers["X-API-KEY"] = opts.key or sb.key end
  if body then
    headers["Content-Type"] = "application/json"
    headers["Content-Length"] = tostring(#body)
  end
  for name, value in pairs(opts.headers or {}) do headers[name] = value end
  local chunks = {}
  local ok, status, reply_headers = http.request {
    url = url, method = method, headers = headers, redirect = false,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  assert(ok, status)
  local text = table.concat(chunks)
  return { status = status, headers = reply_headers, body = text,
           json = cjson.decode(text) }
end

local function api(method, path, opts)
  return request(method, sb.url .. path, opts)
end

local function control(method, path, body)
  return request(method, sb.control .. path, { body = body, key = false })
end

-- Marks a field to leave out of call_body's defaults.
local NONE = {}

local function merge(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra or {}) do
    if v == NONE then t[k] = nil else t[k] = v end
  end
  return t
end

local function call_body(extra)
  return merge({
    name = "Asha Rao",
    mobile_number = "+919876543210",
    agent_id = APPOINTMENT,
    number_pool_id = POOL,
    custom_args_values = { company_name = "XYZ Corp",
                           appointment_date = "2025-01-20" },
  }, extra)
end

local function place(extra, path)
  return api("POST", path or "/calling/v2/outbound/individual",
    { body = call_body(extra) })
end

-- Places a call that must succeed; returns its id.
local function place_ok(extra)
  local r = place(extra)
  assert.equal(200, r.status, r.body)
  return r.json.data.call_id
end

local function details(id, analysis)
  return api("GET", "/calling/call-details?id=" .. id
    .. (analysis and "&send_analysis=true" or ""))
end

-- Polls fn every 20 ms until it returns a truthy value or `seconds` pass.
local function wait_for(fn, seconds)
  local deadline = socket.gettime() + (seconds or 3)
  repeat
    local v = fn()
    if v then return v end
    socket.sleep(0.02)
  until socket.gettime() > deadline
  return nil
end

local function status_of(id)
  return details(id).json.data.call_status
end

local function wait_status(id, status, seconds)
  return wait_for(function() return status_of(id) == status end, seconds)
end

local function sandbox_call(id)
  for _, c in ipairs(control("GET", "/calls").json.calls) do
    if c.id == id then return c end
  end
end

local function statuses(id)
  local list = {}
  for i, s in ipairs(sandbox_call(id).statuses) do list[i] = s.status end
  return list
end

local function receiver_url(name, query)
  return sb.control .. "/receiver/" .. name .. (query or "")
end

local function deliveries(name)
  return control("GET", "/receiver/" .. name).json.deliveries
end

local function wait_deliveries(name, n, seconds)
  return wait_for(function()
    local list = deliveries(name)
    return #list >= n and list
  end, seconds)
end

-- Seconds of the day of an ISO time; enough to compare nearby times.
local function clock(iso)
  local h, m, s = iso:match("T(%d%d):(%d%d):(%d%d%.?%d*)")
  return tonumber(h) * 3600 + tonumber(m) * 60 + tonumber(s)
end

local function find(list, pred)
  for _, item in ipairs(list) do
    if pred(item) then return item end
  end
end

-- Whether a 422 reply lists a problem at loc ({"body", "from_number", "1"}).
local function has_problem(r, loc)
  local want = table.concat(loc, ".")
  return find(r.json.detail, function(p)
    local parts = {}
    for i, part in ipairs(p.loc) do
      -- Lua 5.4's cjson decodes 1 as 1.0: print indexes as integers.
      parts[i] = type(part) == "number" and string.format("%d", part) or part
    end
    return table.concat(parts, ".") == want
  end) ~= nil
end

-- An ISO time `seconds` from now, in UTC without a zone, with milliseconds.
local function naive_utc(seconds)
  local t = socket.gettime() + seconds
  local whole = math.floor(t)
  return os.date("!%Y-%m-%dT%H:%M:%S", whole)
    .. string.format(".%03d", math.floor((t - whole) * 1000))
end

--- Raw connections, for faults that break HTTP and for keep-alive ---------

local function connect(timeout)
  local c = assert(socket.tcp())
  c:settimeout(timeout or 2)
  assert(c:connect(host, port))
  return c
end

local function raw_request(method, path, body)
  local lines = {
    method .. " " .. path .. " HTTP/1.1",
    "Host: " .. host .. ":" .. port,
    "X-API-KEY: " .. sb.key,
  }
  if body then
    lines[#lines + 1] = "Content-Type: application/json"
    lines[#lines + 1] = "Content-Length: " .. #body
  end
  return table.concat(lines, "\r\n") .. "\r\n\r\n" .. (body or "")
end

-- Reads one reply: status, headers (lower-case names) and as much of the
-- body as arrives; on failure also the error ("closed", "timeout").
local function read_reply(c)
  local line, err = c:receive("*l")
  if not line then return nil, err end
  local status = tonumber(line:match("^HTTP/1%.1 (%d+)"))
  local headers = {}
  repeat
    line, err = c:receive("*l")
    if not line then return status, err, headers end
    local name, value = line:match("^([^:]+):%s*(.*)$")
    if name then headers[name:lower()] = value end
  until line == ""
  local length = tonumber(headers["content-length"] or 0)
  local body, berr, partial = c:receive(length)
  return status, berr, headers, body or partial
end

local function path_of(url)
  return url:match("^https?://[^/]+(.*)$")
end

local function raw_place(number, timeout)
  local c = connect(timeout)
  local body = assert(cjson.encode(call_body { mobile_number = number }))
  assert(c:send(raw_request("POST",
    path_of(sb.url) .. "/calling/v2/outbound/individual", body)))
  local status, err, headers, got = read_reply(c)
  c:close()
  return status, err, headers, got
end

local function calls_to(number)
  local n = 0
  for _, c in ipairs(control("GET", "/calls").json.calls) do
    if c.to_number == number then n = n + 1 end
  end
  return n
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
  Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 }

-- Seconds of an IMF-fixdate, counted within its month (enough to compare
-- two dates seconds apart).
local function imf_seconds(s)
  local d, mon, h, m, sec = s:match(
    "^%a%a%a, (%d%d) (%a%a%a) %d%d%d%d (%d%d):(%d%d):(%d%d) GMT$")
  assert(d and MONTHS[mon], "not an IMF-fixdate: " .. tostring(s))
  return ((tonumber(d) * 24 + tonumber(h)) * 60 + tonumber(m)) * 60
    + tonumber(sec)
end

-----------------------------------------------------------------------------

describe("sandbox", function()
  before_each(function()
    assert.equal(200, control("POST", "/reset").status)
    assert.equal(200, control("POST", "/config",
      { step_ms = 50, retry_scale = 0.01 }).status)
  end)

  describe("authentication", function()
    it("answers 401 without an API key", function()
      local r = api("GET", "/workspace", { key = false })
      assert.equal(401, r.status)
      assert.same({ detail = "Invalid or missing API key" }, r.json)
    end)

    it("answers 401 to a wrong API key, on every route", function()
      for _, route in ipairs { { "GET", "/workspace" }, { "GET", "/agent/all" },
          { "POST", "/calling/v2/outbound/individual" },
          { "GET", "/no/such/route" } } do
        local r = api(route[1], route[2], { key = "wrong-key",
          body = route[1] == "POST" and call_body() or nil })
        assert.equal(401, r.status)
        assert.equal("Invalid or missing API key", r.json.detail)
      end
      assert.equal(0, #control("GET", "/calls").json.calls)
    end)

    it("stamps every reply with a unique X-Request-Id and its connection", function()
      local a = api("GET", "/workspace")
      local b = api("GET", "/workspace", { key = false })
      local c = control("GET", "/health")
      for _, r in ipairs { a, b, c } do
        assert.matches("^%x+$", r.headers["x-request-id"])
        assert.matches("^%d+$", r.headers["x-sandbox-connection"])
      end
      assert.not_equal(a.headers["x-request-id"], b.headers["x-request-id"])
    end)
  end)

  describe("POST /calling/v2/outbound/individual", function()
    it("places a call and answers the current reply shape", function()
      local r = place()
      assert.equal(200, r.status)
      assert.matches("application/json", r.headers["content-type"])
      assert.equal("success", r.json.status)
      assert.equal("Call initiated successfully", r.json.message)
      local data = r.json.data
      assert.matches(UUID4, data.call_id)
      assert.equal("outbound", data.call_direction)
      assert.equal("registered", data.call_status)
      assert.matches(NAIVE_TIME, data.initiated_at)
      assert.equal(APPOINTMENT, data.agent_id)
      assert.same({ company_name = "XYZ Corp", appointment_date = "2025-01-20",
                    callee_name = "Asha Rao" }, data.custom_args_values)
      assert.equal(data.call_id, sandbox_call(data.call_id).id)
    end)

    it("keeps a callee_name given in custom_args_values", function()
      local r = place { custom_args_values = { callee_name = "Asha" } }
      assert.same({ callee_name = "Asha" }, r.json.data.custom_args_values)
    end)

    it("applies smart_formatter's first-name extraction", function()
      local r = place { name = "Mr Rajesh Kumar",
        smart_formatter = { extract_first_name = true } }
      local values = r.json.data.custom_args_values
      assert.equal("Rajesh", values.callee_name)
      assert.equal("Mr Rajesh Kumar", values.original_callee_name)
    end)

    it("takes from_number_id or from_number, as a string or an array", function()
      local by_id = place_ok { from_number_id = NUMBER_ID, number_pool_id = NONE }
      assert.equal("+12025550142", details(by_id).json.data.from_number)
      local by_list = place_ok { number_pool_id = NONE,
        from_number = { "+14155550100", "+14155550101" } }
      assert.equal("+14155550100", details(by_list).json.data.from_number)
      local by_pool = place_ok()
      assert.equal("+12025550141", details(by_pool).json.data.from_number)
    end)

    it("rejects missing required fields, one problem each", function()
      local r = place { name = NONE, mobile_number = NONE, agent_id = NONE }
      assert.equal(422, r.status)
      assert.equal(3, #r.json.detail)
      for _, field in ipairs { "name", "mobile_number", "agent_id" } do
        assert.is_true(has_problem(r, { "body", field }), field)
      end
      assert.equal("missing", r.json.detail[1].type)
      assert.equal(0, #control("GET", "/calls").json.calls)
    end)

    it("rejects no caller source and more than one", function()
      local none = place { number_pool_id = NONE }
      assert.equal(422, none.status)
      assert.same({ "body" }, none.json.detail[1].loc)
      assert.matches("exactly one of number_pool_id", none.json.detail[1].msg)
      assert.equal("value_error", none.json.detail[1].type)
      local two = place { from_number_id = NUMBER_ID }
      assert.equal(422, two.status)
      assert.same({ "body" }, two.json.detail[1].loc)
      assert.matches("number_pool_id and from_number_id", two.json.detail[1].msg)
      local three = place { from_number_id = NUMBER_ID, from_number = "+14155550100" }
      assert.equal(422, three.status)
    end)

    it("rejects recipient numbers that are not E.164", function()
      for _, bad in ipairs { "919876543210", "+0919876543", "+123456",
          "+1234567890123456", "+91 98765 43210", "+91-98765-43210", "" } do
        local r = place { mobile_number = bad }
        assert.equal(422, r.status, bad)
        assert.is_true(has_problem(r, { "body", "mobile_number" }), bad)
      end
      local spaced = place { mobile_number = "+91 98765 43210" }
      assert.matches("remove spaces", spaced.json.detail[1].msg)
      for _, good in ipairs { "+1234567", "+123456789012345" } do
        assert.equal(200, place { mobile_number = good }.status, good)
      end
    end)

    it("rejects bad caller numbers in arrays and duplicates", function()
      local r = place { number_pool_id = NONE,
        from_number = { "+14155550100", "123", "+14155550100" } }
      assert.equal(422, r.status)
      assert.is_true(has_problem(r, { "body", "from_number", "1" }))
      assert.is_true(has_problem(r, { "body", "from_number", "2" }))
    end)

    it("rejects malformed call_config, callback_url and callback_args", function()
      local r = place {
        call_config = { max_call_length = 0, idle_timeout_warning = 10,
          idle_timeout_end = 5, call_retry_config = { retry_count = -1 },
          call_time = { call_start_time = "8am", timezone = "Kolkata",
                        scheduled_at = "2025-02-30T10:00:00" } },
        callback_url = "ftp://example.com/hook",
        callback_args = { headers = { ["Bad Name"] = "x" },
                          params = { nested = { a = 1 } } },
        custom_args_values = { list = { 1, 2 } },
      }
      assert.equal(422, r.status)
      for _, loc in ipairs {
        { "body", "call_config", "max_call_length" },
        { "body", "call_config", "idle_timeout_end" },
        { "body", "call_config", "call_retry_config", "retry_count" },
        { "body", "call_config", "call_time", "call_start_time" },
        { "body", "call_config", "call_time", "timezone" },
        { "body", "call_config", "call_time", "scheduled_at" },
        { "body", "callback_url" },
        { "body", "callback_args", "headers", "Bad Name" },
        { "body", "callback_args", "params", "nested" },
        { "body", "custom_args_values", "list" },
      } do
        assert.is_true(has_problem(r, loc), table.concat(loc, "."))
      end
    end)

    it("answers 404 for an unknown agent", function()
      local r = place { agent_id = UNKNOWN_ID }
      assert.equal(404, r.status)
      assert.same({ detail = "Agent not found" }, r.json)
    end)

    it("answers 422 to malformed JSON", function()
      local r = api("POST", "/calling/v2/outbound/individual",
        { body = '{"name": "Asha",' })
      assert.equal(422, r.status)
      assert.same({ detail = "Malformed JSON" }, r.json)
    end)

    it("answers 405 to other methods", function()
      local r = api("GET", "/calling/v2/outbound/individual")
      assert.equal(405, r.status)
    end)
  end)

  describe("POST /calling/outbound/individual (deprecated)", function()
    local path = "/calling/outbound/individual"

    it("places a call with from_number_id or from_number", function()
      local r = place({ from_number_id = NUMBER_ID, number_pool_id = NONE },
        path)
      assert.equal(200, r.status)
      assert.equal("registered", r.json.data.call_status)
      assert.equal("v1", sandbox_call(r.json.data.call_id).endpoint)
      r = place({ from_number = "+14155550100", number_pool_id = NONE }, path)
      assert.equal(200, r.status)
    end)

    it("refuses number_pool_id", function()
      local r = api("POST", path, { body = call_body() })
      assert.equal(422, r.status)
      assert.is_true(has_problem(r, { "body", "number_pool_id" }))
      assert.is_true(has_problem(r, { "body" }))
    end)
  end)

  describe("call lifecycle", function()
    it("moves registered -> ongoing -> completed one step apart", function()
      local id = place_ok()
      assert.equal("registered", status_of(id))
      assert.truthy(wait_status(id, "completed", 2))
      assert.same({ "registered", "ongoing", "completed" }, statuses(id))
      local timeline = sandbox_call(id).statuses
      local gap = clock(timeline[3].time) - clock(timeline[2].time)
      assert.is_true(gap >= 0.04 and gap < 1, "step was " .. gap)
    end)

    it("ends with a duration, a recording and a transcript", function()
      local id = place_ok { custom_args_values = { company_name = "XYZ Corp",
        appointment_date = "2025-01-20" } }
      assert.truthy(wait_status(id, "completed", 2))
      local data = details(id).json.data
      assert.is_true(data.call_duration > 0)
      assert.equal(origin .. "/_sandbox/recordings/" .. id .. ".mp3",
        data.recording_url)
      local text = {}
      for i, turn in ipairs(data.transcription_url) do
        text[i] = turn.bot or turn.user
      end
      text = table.concat(text, " ")
      assert.matches("Asha Rao", text)
      assert.matches("XYZ Corp", text)
      assert.matches("2025%-01%-20", text)
      local audio = request("GET", data.recording_url, { key = false })
      assert.equal(200, audio.status)
      assert.equal("audio/mpeg", audio.headers["content-type"])
      assert.is_true(#audio.body > 0)
    end)

    it("keeps a scheduled call registered until its time (naive = UTC)", function()
      local due = naive_utc(0.6)
      local id = place_ok { call_config = { call_time = { scheduled_at = due } } }
      socket.sleep(0.3)
      assert.equal("registered", status_of(id))
      assert.truthy(wait_status(id, "completed", 3))
      local started = clock(sandbox_call(id).statuses[2].time)
      assert.is_true(started >= clock(due) - 0.01, "started before it was due")
    end)

    it("reads scheduled_at offsets", function()
      local id = place_ok { call_config = { call_time = {
        scheduled_at = os.date("!%Y-%m-%dT%H:%M:%S", os.time() + 3600 - 60)
          .. "+01:00" } } }
      assert.truthy(wait_status(id, "completed", 2))
      local later = place_ok { call_config = { call_time = {
        scheduled_at = naive_utc(60) .. "Z" } } }
      socket.sleep(0.2)
      assert.equal("registered", status_of(later))
    end)

    it("ends failed for +15550100700", function()
      local id = place_ok { mobile_number = "+15550100700" }
      assert.truthy(wait_status(id, "failed", 2))
      assert.same({ "registered", "ongoing", "failed" }, statuses(id))
    end)

    it("retries then completes for +15550100701", function()
      assert.equal(200, control("POST", "/config", { step_ms = 100 }).status)
      local id = place_ok { mobile_number = "+15550100701" }
      local retrying = wait_for(function()
        local data = details(id).json.data
        return data.call_status == "retry" and data
      end, 2)
      assert.truthy(retrying)
      assert.equal(1, retrying.retry)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT[%d:.]+Z$", retrying.next_attempt_time)
      assert.truthy(wait_status(id, "completed", 2))
      assert.same({ "registered", "ongoing", "retry", "ongoing", "completed" },
        statuses(id))
      assert.equal(cjson.null, details(id).json.data.next_attempt_time)
    end)

    it("ends in error for +15550100702", function()
      local id = place_ok { mobile_number = "+15550100702" }
      assert.truthy(wait_status(id, "error", 2))
      assert.same({ "registered", "error" }, statuses(id))
    end)
  end)

  describe("GET /calling/call-details", function()
    it("returns the documented fields", function()
      local id = place_ok()
      assert.truthy(wait_status(id, "completed", 2))
      local r = details(id)
      assert.equal(200, r.status)
      assert.equal("success", r.json.status)
      local d = r.json.data
      assert.equal(id, d.id)
      assert.equal("outbound", d.call_direction)
      assert.equal("completed", d.call_status)
      assert.equal("COMPLETED", d.call_sub_status)
      assert.equal("+12025550141", d.from_number)
      assert.equal("+919876543210", d.to_number)
      assert.equal("Asha Rao", d.callee_name)
      assert.equal(APPOINTMENT, d.agent_id)
      assert.matches("Z$", d.initiation_time)
      assert.equal(0, d.retry)
      assert.equal("XYZ Corp", d.custom_args_values.company_name)
      assert.truthy(d.transcription_url[1].bot)
      assert.truthy(d.transcription_url[2].user)
      assert.is_nil(d.platform_analysis)
    end)

    it("adds platform_analysis and client_analysis with send_analysis=true", function()
      local id = place_ok()
      assert.truthy(wait_status(id, "completed", 2))
      local d = details(id, true).json.data
      for _, field in ipairs { "summary", "classification", "sentiment",
          "call_disconnect_reason" } do
        assert.equal("string", type(d.platform_analysis[field]), field)
      end
      assert.is_true(#d.platform_analysis.key_points > 0)
      assert.equal("table", type(d.platform_analysis.action_items))
      assert.same({}, d.client_analysis)
      assert.matches('"client_analysis":{}', details(id, true).body, 1, true)
    end)

    it("shows a call in progress without results yet", function()
      local id = place_ok()
      local d = details(id).json.data
      assert.equal("registered", d.call_status)
      assert.equal(cjson.null, d.recording_url)
      assert.equal(cjson.null, d.call_duration)
      assert.same({}, d.transcription_url)
      assert.matches('"transcription_url":[]', details(id).body, 1, true)
    end)

    it("answers 404 for an unknown id and 422 without one", function()
      local r = details(UNKNOWN_ID)
      assert.equal(404, r.status)
      assert.same({ detail = "Call not found" }, r.json)
      r = api("GET", "/calling/call-details")
      assert.equal(422, r.status)
      assert.same({ "query", "id" }, r.json.detail[1].loc)
      r = api("GET", "/calling/call-details?id=x&send_analysis=maybe")
      assert.equal(422, r.status)
    end)
  end)

  describe("GET /calling/history", function()
    local function history(query)
      return api("GET", "/calling/history" .. (query or ""))
    end

    local function ids(r)
      local list = {}
      for i, row in ipairs(r.json.calls) do list[i] = row.id end
      return list
    end

    it("lists calls newest first in the documented row shape", function()
      local first = place_ok()
      local second = place_ok { agent_id = ORDER,
        custom_args_values = { order_id = "ORD-1042" } }
      assert.truthy(wait_status(first, "completed", 2))
      local r = history()
      assert.equal(200, r.status)
      assert.same({ second, first }, ids(r))
      assert.equal(10, r.json.limit)
      assert.equal(0, r.json.offset)
      assert.equal(2, r.json.count)
      assert.equal(2, r.json.total)
      local row = r.json.calls[2]
      assert.equal("+919876543210", row.to_number)
      assert.equal("Asha Rao", row.name)
      assert.equal("completed", row.status)
      assert.equal("string", type(row.transcript))
      local turns = cjson.decode(row.transcript)
      assert.matches("Asha Rao", turns[1].bot)
      assert.matches("^%[{\"bot\": ", row.transcript)
      assert.equal(origin .. "/_sandbox/recordings/" .. first .. ".mp3",
        row.audio_recording)
      assert.matches("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d%.%d%d%d%d%d%d%+00:00$",
        row.created_at)
      assert.equal(APPOINTMENT, row.agent.id)
      assert.equal("Appointment Reminder", row.agent.agent_name)
      assert.equal(row.agent.agent_version_id, row.agent.version.version_id)
      assert.equal("v1", row.agent.version.version_slug)
      assert.is_true(row.call_duration > 0)
      assert.is_true(row.call_cost > 0)
      assert.equal("outbound", row.call_type)
      assert.same({ "+12025550141" }, row.from_numbers)
      assert.equal(false, row.voicemail_detected)
    end)

    it("pages with limit and offset, counting the page and the total", function()
      local placed = {}
      for i = 1, 12 do placed[i] = place_ok() end
      local r = history()
      assert.equal(10, r.json.count)
      assert.equal(12, r.json.total)
      r = history("?limit=5&offset=10")
      assert.same({ placed[2], placed[1] }, ids(r))
      assert.equal(5, r.json.limit)
      assert.equal(10, r.json.offset)
      assert.equal(2, r.json.count)
      assert.equal(12, r.json.total)
      r = history("?limit=3&offset=20")
      assert.equal(0, r.json.count)
      assert.matches('"calls":[]', r.body, 1, true)
      assert.equal(422, history("?limit=0").status)
      assert.equal(422, history("?limit=ten").status)
      assert.equal(422, history("?offset=-1").status)
    end)

    it("filters by agent_id and status", function()
      local done = place_ok()
      local failed = place_ok { mobile_number = "+15550100700" }
      local order = place_ok { agent_id = ORDER }
      assert.truthy(wait_status(failed, "failed", 2))
      assert.truthy(wait_status(done, "completed", 2))
      assert.same({ order }, ids(history("?agent_id=" .. ORDER)))
      assert.same({ failed }, ids(history("?status=failed")))
      local r = history("?status=completed&agent_id=" .. APPOINTMENT)
      assert.same({ done }, ids(r))
      assert.equal(0, history("?bulk_list_id=nothing").json.total)
    end)

    it("filters by start_date and end_date given with %2B offsets", function()
      local a = place_ok()
      socket.sleep(0.02)
      local b = place_ok()
      socket.sleep(0.02)
      local c = place_ok()
      local rows = history().json.calls
      local b_created = rows[2].created_at
      assert.equal(b, rows[2].id)
      local encoded = b_created:gsub("%+", "%%2B")
      assert.same({ c, b }, ids(history("?start_date=" .. encoded)))
      assert.same({ b, a }, ids(history("?end_date=" .. encoded)))
      assert.same({ b }, ids(history("?start_date=" .. encoded
        .. "&end_date=" .. encoded)))
      assert.equal(3, history("?start_date=2000-01-01T05:30:00%2B05:30").json.total)
      assert.equal(0, history("?start_date=2999-01-01T00:00:00%2B05:30").json.total)
      assert.equal(3, history("?end_date=2999-01-01T00:00:00Z").json.total)
    end)

    it("rejects a date whose '+' was not URL-encoded", function()
      local r = history("?start_date=2025-09-25T00:00:00+05:30")
      assert.equal(422, r.status)
      assert.same({ "query", "start_date" }, r.json.detail[1].loc)
      assert.matches("%2B", r.json.detail[1].msg, 1, true)
      assert.equal(422, history("?end_date=yesterday").status)
    end)
  end)

  describe("GET /agent/all", function()
    it("lists the fixture agents with a total", function()
      local r = api("GET", "/agent/all")
      assert.equal(200, r.status)
      assert.equal(3, r.json.total)
      local names = {}
      for _, a in ipairs(r.json.agents) do names[a.id] = a.agent_display_name end
      assert.same({ [APPOINTMENT] = "Appointment Reminder",
                    [ORDER] = "Order Status",
                    [PLAIN] = "General Follow-up" }, names)
    end)
  end)

  describe("GET /agent/{id}", function()
    it("returns one agent under the plural key, with @{{variables}}", function()
      local r = api("GET", "/agent/" .. APPOINTMENT)
      assert.equal(200, r.status)
      local a = r.json.agents
      assert.equal(APPOINTMENT, a.id)
      assert.equal("outbound", a.agent_type)
      local cfg = a.agent_config
      for _, var in ipairs { "callee_name", "company_name", "appointment_date" } do
        assert.matches("@{{" .. var .. "}}", cfg.agent_prompt, 1, true)
      end
      assert.matches("@{{callee_name}}", cfg.intro_message, 1, true)
      assert.same({ "callee_name", "company_name", "appointment_date" },
        cfg.custom_variables)
      local order = api("GET", "/agent/" .. ORDER).json.agents.agent_config
      assert.matches("@{{order_id}}", order.agent_prompt, 1, true)
      local plain = api("GET", "/agent/" .. PLAIN).json.agents.agent_config
      assert.is_nil(plain.agent_prompt:find("@{{", 1, true))
      assert.is_nil(plain.intro_message:find("@{{", 1, true))
    end)

    it("answers 404 for an unknown agent", function()
      local r = api("GET", "/agent/" .. UNKNOWN_ID)
      assert.equal(404, r.status)
      assert.same({ detail = "Agent not found" }, r.json)
    end)
  end)

  describe("GET /workspace/numbers", function()
    it("lists numbers with ids and pool ids", function()
      local r = api("GET", "/workspace/numbers")
      assert.equal(200, r.status)
      local list = r.json.workspace_numbers
      assert.equal(5, #list)
      local in_pool = 0
      for _, n in ipairs(list) do
        assert.matches("^%+%d+$", n.number)
        assert.equal("string", type(n.id))
        if n.number_pool_id == POOL then in_pool = in_pool + 1 end
      end
      assert.equal(3, in_pool)
      assert.equal("twilio", list[1].provider)
      assert.same({}, list[1].tags)
    end)

    it("pages with limit and offset, at most 100", function()
      local r = api("GET", "/workspace/numbers?limit=2&offset=1")
      assert.equal(2, #r.json.workspace_numbers)
      assert.equal(NUMBER_ID, r.json.workspace_numbers[1].id)
      assert.equal(422, api("GET", "/workspace/numbers?limit=101").status)
    end)
  end)

  describe("GET /workspace", function()
    it("returns the workspace and its credits", function()
      local info = api("GET", "/workspace").json.workspace_info
      assert.equal(3025, info.credits)
      assert.equal(0, info.locked_credits)
      assert.equal("redacted-api-key", info.api_key)
      assert.equal("string", type(info.id))
      assert.equal("string", type(info.name))
      assert.matches("%+00:00$", info.created_at)
    end)
  end)

  describe("PATCH /campaign/terminate/calls", function()
    it("cancels queued calls and ignores unknown ids", function()
      local later = naive_utc(60)
      local queued = place_ok { call_config = { call_time = { scheduled_at = later } },
        callback_url = receiver_url("cancel") }
      local r = api("PATCH", "/campaign/terminate/calls",
        { body = { call_ids = { queued, UNKNOWN_ID } } })
      assert.equal(200, r.status)
      assert.same({ message = "Calls terminated successfully!" }, r.json)
      assert.equal("cancelled", status_of(queued))
      local got = wait_deliveries("cancel", 2, 2)
      assert.truthy(got)
      assert.equal("cancelled", cjson.decode(got[2].body).data.status)
    end)

    it("answers 400 when nothing can be terminated", function()
      local id = place_ok()
      assert.truthy(wait_status(id, "completed", 2))
      local r = api("PATCH", "/campaign/terminate/calls",
        { body = { call_ids = { id, UNKNOWN_ID } } })
      assert.equal(400, r.status)
      assert.same({ detail = "No terminable calls found for the specified parameters" },
        r.json)
      assert.equal("completed", status_of(id))
      assert.equal(422, api("PATCH", "/campaign/terminate/calls",
        { body = {} }).status)
    end)

    it("can cancel a call waiting to retry", function()
      assert.equal(200, control("POST", "/config", { step_ms = 150 }).status)
      local id = place_ok { mobile_number = "+15550100701" }
      assert.truthy(wait_status(id, "retry", 2))
      local r = api("PATCH", "/campaign/terminate/calls",
        { body = { call_ids = { id } } })
      assert.equal(200, r.status)
      socket.sleep(0.4)
      assert.equal("cancelled", status_of(id))
    end)
  end)

  describe("PATCH /campaign/terminate", function()
    it("selects by agent_id and mobile_numbers", function()
      local later = naive_utc(60)
      local config = { call_time = { scheduled_at = later } }
      local a = place_ok { call_config = config }
      local b = place_ok { call_config = config, mobile_number = "+14155550123" }
      local c = place_ok { call_config = config, agent_id = ORDER }
      local r = api("PATCH", "/campaign/terminate",
        { body = { agent_id = APPOINTMENT, mobile_numbers = { "+14155550123" } } })
      assert.equal(200, r.status)
      assert.equal("registered", status_of(a))
      assert.equal("cancelled", status_of(b))
      assert.equal("registered", status_of(c))
      r = api("PATCH", "/campaign/terminate", { body = { agent_id = ORDER } })
      assert.equal(200, r.status)
      assert.equal("cancelled", status_of(c))
      r = api("PATCH", "/campaign/terminate", { body = { agent_id = ORDER } })
      assert.equal(400, r.status)
      assert.equal(422, api("PATCH", "/campaign/terminate", { body = {} }).status)
    end)
  end)

  describe("per-call webhooks", function()
    it("POSTs the envelope on every status change with callback headers and params", function()
      local id = place_ok {
        callback_url = receiver_url("calls", "?tenant=t1"),
        callback_args = { headers = { ["X-Webhook-Secret"] = "s3cret" },
                          params = { source = "api", version = "v 1" } },
      }
      local got = wait_deliveries("calls", 3, 3)
      assert.truthy(got)
      local seen = {}
      for i, d in ipairs(got) do
        assert.equal("POST", d.method)
        assert.same({ tenant = "t1", source = "api", version = "v 1" }, d.query)
        assert.equal("s3cret", d.headers["x-webhook-secret"])
        assert.is_nil(d.headers["content-type"])
        local env = cjson.decode(d.body)
        assert.equal("success", env.status)
        assert.equal("Call Details", env.message)
        assert.equal(id, env.data.call_id)
        seen[i] = env.data.status
      end
      assert.same({ "registered", "ongoing", "completed" }, seen)
      local final = cjson.decode(got[3].body).data
      assert.equal("outbound", final.call_direction)
      assert.is_true(final.call_duration > 0)
      assert.matches("%.mp3$", final.recording_url)
      assert.equal("string", type(final.transcript))
      assert.matches("Asha Rao", final.transcript)
      assert.equal(APPOINTMENT, final.agent_id)
      assert.equal(0, final.retry)
      assert.equal("+12025550141", final.from_number)
      assert.equal("+919876543210", final.to_number)
      assert.equal("XYZ Corp", final.custom_args_values.company_name)
    end)

    it("sends Content-Type only when the callback headers give it", function()
      place_ok { callback_url = receiver_url("typed"),
        callback_args = { headers = { ["Content-Type"] = "application/json" } } }
      local got = wait_deliveries("typed", 1, 2)
      assert.equal("application/json", got[1].headers["content-type"])
    end)

    it("retries failed deliveries at scaled delays", function()
      -- A call queued for later sends one envelope (registered).
      place_ok { callback_url = receiver_url("fail2-retry"),
        call_config = { call_time = { scheduled_at = naive_utc(60) } } }
      local got = wait_deliveries("fail2-retry", 3, 3)
      assert.truthy(got)
      assert.same({ 500, 500, 200 },
        { got[1].answered, got[2].answered, got[3].answered })
      local attempts = control("GET", "/webhooks").json.deliveries
      local registered = {}
      for _, a in ipairs(attempts) do
        if a.call_status == "registered" then registered[#registered + 1] = a end
      end
      assert.equal(3, #registered)
      assert.same({ 1, 2, 3 }, { registered[1].attempt, registered[2].attempt,
                                 registered[3].attempt })
      assert.same({ 500, 500, 200 }, { registered[1].status, registered[2].status,
                                       registered[3].status })
      -- +10 s and +60 s, times 0.01.
      local gap1 = clock(registered[2].time) - clock(registered[1].time)
      local gap2 = clock(registered[3].time) - clock(registered[2].time)
      assert.is_true(gap1 >= 0.08 and gap1 < 0.5, "first retry after " .. gap1)
      assert.is_true(gap2 >= 0.5 and gap2 < 1.2, "second retry after " .. gap2)
    end)

    it("gives up after 4 attempts", function()
      assert.equal(200, control("POST", "/config", { retry_scale = 0.002 }).status)
      place_ok { callback_url = receiver_url("fail9-never"),
        mobile_number = "+15550100702" }
      assert.truthy(wait_deliveries("fail9-never", 8, 3))
      socket.sleep(0.3)
      local got = deliveries("fail9-never")
      assert.equal(8, #got)
      local attempts = control("GET", "/webhooks").json.deliveries
      local highest = 0
      for _, a in ipairs(attempts) do highest = math.max(highest, a.attempt) end
      assert.equal(4, highest)
    end)

    it("delivers over HTTPS, verified against the sandbox CA", function()
      local tls_port = https_origin:match(":(%d+)$")
      place_ok { callback_url = https_origin .. "/_sandbox/receiver/tls-ip",
        mobile_number = "+15550100702" }
      place_ok { callback_url = "https://localhost:" .. tls_port
        .. "/_sandbox/receiver/tls-name", mobile_number = "+15550100702" }
      assert.truthy(wait_deliveries("tls-ip", 2, 2))
      assert.truthy(wait_deliveries("tls-name", 2, 2))
    end)

    it("refuses to deliver anywhere but loopback", function()
      place_ok { callback_url = "http://example.invalid/hook",
        mobile_number = "+15550100702" }
      local attempt = wait_for(function()
        return find(control("GET", "/webhooks").json.deliveries,
          function(a) return a.url == "http://example.invalid/hook" end)
      end, 2)
      assert.truthy(attempt)
      assert.equal(cjson.null, attempt.status)
      assert.matches("loopback", attempt.error)
    end)
  end)

  describe("agent event subscriptions (PATCH /agent/v1)", function()
    local function subscribe(agent_id, subs)
      return api("PATCH", "/agent/v1", { body = {
        operation = "edit_event_subscriptions", agent_id = agent_id,
        event_subscriptions = subs } })
    end

    it("delivers every event type, with string and array event_type", function()
      local r = subscribe(ORDER, {
        { event_type = "call_started", callback_url = receiver_url("ev-started"),
          headers = { Authorization = "Bearer tok" }, method_type = "PUT" },
        { event_type = { "call_completed", "recording_completed",
                         "platform_analysis_completed", "all_processing_completed" },
          callback_url = receiver_url("ev-rest"),
          headers = { ["Content-Type"] = "application/json" } },
      })
      assert.equal(200, r.status)
      assert.same({ message = "Agent updated successfully!", agent_id = ORDER },
        r.json)
      local id = place_ok { agent_id = ORDER,
        custom_args_values = { order_id = "ORD-1042" } }
      local started = wait_deliveries("ev-started", 1, 2)
      assert.truthy(started)
      assert.equal("PUT", started[1].method)
      assert.equal("Bearer tok", started[1].headers["authorization"])
      local s = cjson.decode(started[1].body)
      assert.equal("call_started", s.event_type)
      assert.equal(id, s.call_id)
      assert.equal("ACCEPTED", s.sub_status)
      assert.equal("Order Status", s.agent_name)
      assert.equal("ORD-1042", s.custom_args_values.order_id)
      local rest = wait_deliveries("ev-rest", 4, 2)
      assert.truthy(rest)
      local by_type = {}
      for _, d in ipairs(rest) do
        assert.equal("POST", d.method)
        local p = cjson.decode(d.body)
        assert.equal(id, p.call_id)
        by_type[p.event_type] = p
      end
      local done = by_type.call_completed
      assert.equal("completed", done.status)
      assert.is_true(done.call_duration > 0)
      assert.equal("outbound", done.call_type)
      assert.equal("+919876543210", done.to_number)
      assert.matches("ORD%-1042", done.transcript[3].bot)
      assert.matches("%.mp3$", by_type.recording_completed.recording_url)
      assert.equal("positive",
        by_type.platform_analysis_completed.analysis_data.sentiment)
      local all = by_type.all_processing_completed
      assert.matches("%.mp3$", all.recording_url)
      assert.truthy(all.transcript[1].bot)
      assert.same({}, all.client_analysis)
    end)

    it("sends call_completed for each attempt, retry included", function()
      subscribe(APPOINTMENT, { { event_type = { "call_completed" },
        callback_url = receiver_url("ev-attempts") } })
      place_ok { mobile_number = "+15550100701" }
      local got = wait_deliveries("ev-attempts", 2, 3)
      assert.truthy(got)
      local first = cjson.decode(got[1].body)
      assert.equal("retry", first.status)
      assert.equal("completed", cjson.decode(got[2].body).status)
    end)

    it("overwrites an event type subscribed again", function()
      subscribe(PLAIN, { { event_type = "call_started",
        callback_url = receiver_url("ev-old") } })
      subscribe(PLAIN, { { event_type = { "call_started" },
        callback_url = receiver_url("ev-new") } })
      place_ok { agent_id = PLAIN, custom_args_values = {} }
      assert.truthy(wait_deliveries("ev-new", 1, 2))
      socket.sleep(0.1)
      assert.equal(0, #deliveries("ev-old"))
    end)

    it("answers 404 for an unknown agent and 422 for bad subscriptions", function()
      local r = subscribe(UNKNOWN_ID, { { event_type = "call_started",
        callback_url = receiver_url("x") } })
      assert.equal(404, r.status)
      assert.same({ detail = "Agent not found" }, r.json)
      r = subscribe(ORDER, { { event_type = "call_exploded",
        callback_url = "not a url", method_type = "GET" } })
      assert.equal(422, r.status)
      assert.equal(3, #r.json.detail)
      r = api("PATCH", "/agent/v1", { body = { operation = "fly",
        agent_id = ORDER } })
      assert.equal(422, r.status)
    end)
  end)

  describe("faults by recipient number", function()
    local function fault(number)
      return place { mobile_number = number }
    end

    it("+15550100401 answers 401", function()
      local r = fault("+15550100401")
      assert.equal(401, r.status)
      assert.same({ detail = "Invalid or missing API key" }, r.json)
    end)

    it("+15550100402 answers 402", function()
      local r = fault("+15550100402")
      assert.equal(402, r.status)
      assert.same({ detail = "Insufficient credits" }, r.json)
    end)

    it("+15550100429 answers 429 with Retry-After: 2", function()
      local r = fault("+15550100429")
      assert.equal(429, r.status)
      assert.same({ detail = "Rate limit exceeded" }, r.json)
      assert.equal("2", r.headers["retry-after"])
    end)

    it("+15550100430 answers 429 with only retry-after-ms", function()
      local r = fault("+15550100430")
      assert.equal(429, r.status)
      assert.equal("1500", r.headers["retry-after-ms"])
      assert.is_nil(r.headers["retry-after"])
    end)

    it("+15550100500 answers 500", function()
      local r = fault("+15550100500")
      assert.equal(500, r.status)
      assert.same({ detail = "Internal server error" }, r.json)
    end)

    it("+15550100503 answers 503 with an HTTP-date Retry-After 3 s ahead", function()
      local r = fault("+15550100503")
      assert.equal(503, r.status)
      local ahead = imf_seconds(r.headers["retry-after"])
        - imf_seconds(r.headers["date"])
      assert.is_true(ahead >= 2 and ahead <= 4, "ahead by " .. ahead)
    end)

    it("+15550100201 answers the legacy shape and stores the call", function()
      local r = fault("+15550100201")
      assert.equal(200, r.status)
      assert.equal("Call initiated successfully", r.json["Call Status"])
      local data = r.json.data
      assert.matches(UUID4, data["Unique Call ID"])
      assert.equal("outbound", data["Call Direction"])
      assert.equal("registered", data["Call Status"])
      assert.equal("+12025550141", data["From Number"])
      assert.equal("+15550100201", data["To Number"])
      assert.matches("Z$", data["Initiated at"])
      assert.equal(APPOINTMENT, data["Agent ID"])
      assert.is_nil(r.json.status)
      assert.equal(200, details(data["Unique Call ID"]).status)
    end)

    it("+15550100301 redirects elsewhere without placing the call", function()
      local r = fault("+15550100301")
      assert.equal(302, r.status)
      assert.equal("http://127.0.0.2:" .. port
        .. "/ca/api/v0/calling/v2/outbound/individual", r.headers["location"])
      assert.equal(0, calls_to("+15550100301"))
    end)

    it("+15550100601 stores the call, then cuts the reply off mid-body", function()
      local status, err, headers, got = raw_place("+15550100601", 2)
      assert.equal(200, status)
      assert.equal("closed", err)
      assert.is_true(#got > 0)
      assert.is_true(#got < tonumber(headers["content-length"]))
      assert.matches("^{", got)
      assert.is_nil(cjson.decode(got))
      assert.truthy(headers["x-request-id"])
      assert.equal(1, calls_to("+15550100601"))
    end)

    it("+15550100602 stores the call and never answers", function()
      local started = socket.gettime()
      local status, err = raw_place("+15550100602", 0.5)
      assert.is_nil(status)
      assert.equal("timeout", err)
      assert.is_true(socket.gettime() - started < 2)
      assert.equal(1, calls_to("+15550100602"))
    end)

    it("+15550100603 answers 200 with malformed JSON and stores nothing", function()
      local r = fault("+15550100603")
      assert.equal(200, r.status)
      assert.equal('{"status":"success","data":{"call_id":', r.body)
      assert.is_nil(r.json)
      assert.equal(0, calls_to("+15550100603"))
    end)

    it("+15550100604 closes the connection without a byte", function()
      local status, err, headers = raw_place("+15550100604", 2)
      assert.is_nil(status)
      assert.truthy(err == "closed" or err:match("reset"), err)
      assert.is_nil(headers)
      assert.equal(0, calls_to("+15550100604"))
    end)

    it("+15550100605 answers normally after 1.5 s", function()
      local started = socket.gettime()
      local r = fault("+15550100605")
      local took = socket.gettime() - started
      assert.equal(200, r.status)
      assert.equal("success", r.json.status)
      assert.is_true(took >= 1.4 and took < 3, "took " .. took)
      assert.equal(1, calls_to("+15550100605"))
    end)

    it("comes after the key check and JSON parsing", function()
      local r = api("POST", "/calling/v2/outbound/individual",
        { key = "wrong", body = call_body { mobile_number = "+15550100500" } })
      assert.equal(401, r.status)
      r = api("POST", "/calling/v2/outbound/individual",
        { body = '{"mobile_number": "+15550100500"' })
      assert.equal(422, r.status)
      -- but before validation:
      r = api("POST", "/calling/v2/outbound/individual",
        { body = { mobile_number = "+15550100500" } })
      assert.equal(500, r.status)
    end)
  end)

  describe("faults by call-details id", function()
    -- GET call-details?id=<id> on a raw connection, for the faults that
    -- break HTTP.
    local function raw_details(id, timeout)
      local c = connect(timeout)
      assert(c:send(raw_request("GET", path_of(sb.url)
        .. "/calling/call-details?id=" .. id)))
      local status, err, headers, got = read_reply(c)
      c:close()
      return status, err, headers, got
    end

    it("fault-401, -429, -500 and -503 answer like the call faults", function()
      local r = details("fault-401")
      assert.equal(401, r.status)
      assert.same({ detail = "Invalid or missing API key" }, r.json)
      r = details("fault-429")
      assert.equal(429, r.status)
      assert.equal("2", r.headers["retry-after"])
      r = details("fault-500")
      assert.equal(500, r.status)
      assert.same({ detail = "Internal server error" }, r.json)
      r = details("fault-503")
      assert.equal(503, r.status)
      local ahead = imf_seconds(r.headers["retry-after"])
        - imf_seconds(r.headers["date"])
      assert.is_true(ahead >= 2 and ahead <= 4, "ahead by " .. ahead)
    end)

    it("fault-redirect redirects to 127.0.0.2", function()
      local r = details("fault-redirect")
      assert.equal(302, r.status)
      assert.equal("http://127.0.0.2:" .. port
        .. "/ca/api/v0/calling/call-details?id=fault-redirect",
        r.headers["location"])
    end)

    it("fault-cut cuts the reply off mid-body", function()
      local status, err, headers, got = raw_details("fault-cut", 2)
      assert.equal(200, status)
      assert.equal("closed", err)
      assert.is_true(#got > 0)
      assert.is_true(#got < tonumber(headers["content-length"]))
      assert.is_nil(cjson.decode(got))
    end)

    it("fault-never never answers", function()
      local started = socket.gettime()
      local status, err = raw_details("fault-never", 0.5)
      assert.is_nil(status)
      assert.equal("timeout", err)
      assert.is_true(socket.gettime() - started < 2)
    end)

    it("fault-malformed answers 200 with malformed JSON", function()
      local r = details("fault-malformed")
      assert.equal(200, r.status)
      assert.equal('{"status":"success","data":{"call_id":', r.body)
      assert.is_nil(r.json)
    end)

    it("fault-closed closes the connection without a byte", function()
      local status, err, headers = raw_details("fault-closed", 2)
      assert.is_nil(status)
      assert.truthy(err == "closed" or err:match("reset"), err)
      assert.is_nil(headers)
    end)

    it("fault-slow answers 404 after 1.5 s", function()
      local started = socket.gettime()
      local r = details("fault-slow")
      local took = socket.gettime() - started
      assert.equal(404, r.status)
      assert.same({ detail = "Call not found" }, r.json)
      assert.is_true(took >= 1.4 and took < 3, "took " .. took)
    end)

    it("comes after the key check", function()
      local r = api("GET", "/calling/call-details?id=fault-500",
        { key = "wrong" })
      assert.equal(401, r.status)
      assert.equal(404, details("fault-nothing").status)
    end)
  end)

  describe("keep-alive", function()
    it("serves several requests on one connection", function()
      local c = connect(2)
      local serials = {}
      for i = 1, 3 do
        assert(c:send(raw_request("GET", path_of(sb.url) .. "/workspace")))
        local status, err, headers, body = read_reply(c)
        assert.equal(200, status, err)
        assert.equal("credits", body:match('"(credits)"'))
        serials[i] = headers["x-sandbox-connection"]
      end
      c:close()
      assert.equal(serials[1], serials[2])
      assert.equal(serials[1], serials[3])
      local counts = control("GET", "/connections").json.connections
      assert.equal(3, counts[serials[1]])
    end)

    it("gives separate connections separate serials", function()
      local a = api("GET", "/workspace").headers["x-sandbox-connection"]
      local b = api("GET", "/workspace").headers["x-sandbox-connection"]
      assert.not_equal(a, b)
    end)
  end)

  describe("HTTPS", function()
    local function curl_status(args)
      local cmd = "curl -s -o /dev/null -w '%{http_code}' --max-time 5 "
        .. args .. " -H " .. shell_quote("X-API-KEY: " .. sb.key) .. " "
        .. shell_quote(sb.https_url .. "/workspace") .. " 2>/dev/null"
      local p = assert(io.popen(cmd))
      local out = p:read("*a")
      p:close()
      return out
    end

    it("answers on https_url with a certificate the sandbox CA verifies", function()
      assert.truthy(sb.https_url and sb.ca, "the env file lacks the HTTPS fields")
      assert.equal("200", curl_status("--cacert " .. shell_quote(sb.ca)))
    end)

    it("is not trusted without the sandbox CA", function()
      assert.equal("000",
        curl_status("--cacert /etc/ssl/certs/ca-certificates.crt"))
    end)
  end)

  describe("control endpoints", function()
    it("reset forgets calls, receivers, deliveries and config", function()
      control("POST", "/config", { step_ms = 1000 })
      place_ok { callback_url = receiver_url("gone") }
      assert.truthy(wait_deliveries("gone", 1, 2))
      local r = control("POST", "/reset")
      assert.equal(200, r.status)
      assert.equal(0, #control("GET", "/calls").json.calls)
      assert.equal(0, #deliveries("gone"))
      assert.equal(0, #control("GET", "/webhooks").json.deliveries)
      assert.equal(0, api("GET", "/calling/history").json.total)
      assert.is_true(control("GET", "/config").json.step_ms ~= 1000)
    end)

    it("validates config", function()
      assert.equal(422, control("POST", "/config", { step_ms = 0 }).status)
      assert.equal(422, control("POST", "/config", { retry_scale = -1 }).status)
      local r = control("POST", "/config", { step_ms = 20, retry_scale = 0.5 })
      assert.equal(20, r.json.step_ms)
      assert.equal(0.5, r.json.retry_scale)
    end)

    it("reports health without a key", function()
      local r = control("GET", "/health")
      assert.equal(200, r.status)
      assert.equal("ok", r.json.status)
    end)

    it("answers 404 JSON for unknown paths", function()
      local r = api("GET", "/calling/nothing")
      assert.equal(404, r.status)
      assert.equal("Not Found", r.json.detail)
      r = control("GET", "/nothing")
      assert.equal(404, r.status)
      assert.equal("Not Found", r.json.detail)
      assert.equal(404, request("GET", origin .. "/elsewhere").status)
      assert.equal(404, control("GET", "/recordings/" .. UNKNOWN_ID .. ".mp3").status)
    end)
  end)
end)
