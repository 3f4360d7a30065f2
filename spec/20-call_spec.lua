-- client:call against the sandbox: both reply shapes, every error kind
-- with its sent and retryable values, keep-alive, timeouts, custom
-- transports and backoff.

local cjson = require "cjson"
local ringg = require "ringg"
local helpers = require "spec.helpers"

local FAULT = helpers.FAULT
local call_params = helpers.call_params


-- Places a call to `number` on a fresh client; returns call, err.
local function call_to(number, opts)
  local client = helpers.client(opts)
  local call, err = client:call(call_params(number))
  client:close()
  return call, err
end


-- The error of a call to `number`, checked for the key's absence.
local function failure(number, opts)
  local call, err = call_to(number, opts)
  assert.is_nil(call)
  assert.are.equal("table", type(err))
  assert.is_nil(tostring(err):find(helpers.sandbox().key, 1, true))
  return err
end


describe("client:call()", function()

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  it("places a call and normalises the reply", function()
    local call, err = call_to("+919876543210")
    assert.is_nil(err)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", call.id)
    assert.are.equal("registered", call.status)
    assert.are.equal("outbound", call.direction)
    assert.are.equal(helpers.AGENT, call.agent_id)
    assert.are.equal("Call initiated successfully", call.message)
    assert.matches("^%d%d%d%d%-%d%d%-%d%dT", call.initiated_at)
    assert.are.equal("XYZ Corp", call.custom_args_values.company_name)
    assert.are.equal(200, call.http_status)
    assert.are.equal("success", call.body.status)
    assert.is_string(call.headers["x-request-id"])
    local stored = helpers.control("GET", "/calls").calls
    assert.are.equal(1, #stored)
    assert.are.equal(call.id, stored[1].id)
  end)


  it("normalises the legacy reply shape to the same table", function()
    local call, err = call_to(FAULT.legacy)
    assert.is_nil(err)
    assert.matches("^%x+%-%x+%-%x+%-%x+%-%x+$", call.id)
    assert.are.equal("outbound", call.direction)
    assert.are.equal(helpers.AGENT, call.agent_id)
    assert.are.equal(FAULT.legacy, call.to_number)
    assert.is_string(call.from_number)
    assert.is_string(call.status)
    assert.are.equal("Call initiated successfully", call.message)
    assert.is_not_nil(call.body["Call Status"])
  end)


  it("sends nothing when the params are invalid", function()
    local client = helpers.client()
    local call, err = client:call(call_params("+91 98765 43210"))
    client:close()
    assert.is_nil(call)
    assert.are.equal("invalid", err.kind)
    assert.is_false(err.sent)
    assert.are.same({}, helpers.control("GET", "/calls").calls)
  end)


  describe("errors", function()
    it("401 is auth, sent, not retryable", function()
      local err = failure(FAULT.unauthorized)
      assert.are.equal("auth", err.kind)
      assert.are.equal(401, err.status)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      assert.are.equal("HTTP 401 Unauthorized: Invalid or missing API key",
                       err.message)
      assert.are.equal('{"detail":"Invalid or missing API key"}', err.body)
      assert.is_string(err.request_id)
      assert.are.equal(err.request_id, err.headers["x-request-id"])
    end)

    it("a wrong key is auth too", function()
      local err = failure("+919876543210", { api_key = "wrong-key" })
      assert.are.equal("auth", err.kind)
    end)

    it("402 is credits", function()
      local err = failure(FAULT.credits)
      assert.are.equal("credits", err.kind)
      assert.are.equal(402, err.status)
      assert.is_false(err.retryable)
    end)

    it("429 is rate_limited, retryable, with retry_after", function()
      local err = failure(FAULT.rate_limited)
      assert.are.equal("rate_limited", err.kind)
      assert.is_true(err.sent)
      assert.is_true(err.retryable)
      assert.are.equal(2, err.retry_after)
      assert.are.equal("ringg: rate_limited: HTTP 429 Too Many Requests: "
                       .. "Rate limit exceeded", tostring(err))
    end)

    it("reads retry-after-ms", function()
      local err = failure(FAULT.rate_limited_ms)
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal(1.5, err.retry_after)
    end)

    it("500 is server, not retryable for a call", function()
      local err = failure(FAULT.server)
      assert.are.equal("server", err.kind)
      assert.are.equal(500, err.status)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
    end)

    it("503 with an HTTP-date Retry-After gives seconds", function()
      local err = failure(FAULT.unavailable)
      assert.are.equal("server", err.kind)
      assert.is_true(err.retry_after >= 1 and err.retry_after <= 4,
                     "retry_after " .. tostring(err.retry_after))
    end)

    it("a 422 from the server keeps its field errors", function()
      local client = helpers.client()
      local body, err = client:request("POST",
        "/calling/v2/outbound/individual", { body = {
          name = "Asha", mobile_number = "12345", agent_id = helpers.AGENT } })
      client:close()
      assert.is_nil(body)
      assert.are.equal("rejected", err.kind)
      assert.are.equal(422, err.status)
      local fields = {}
      for _, e in ipairs(err.errors) do fields[#fields + 1] = e.field end
      table.sort(fields)
      assert.are.same({ "", "mobile_number" }, fields)
      assert.matches("^HTTP 422 Unprocessable Content: ", err.message)
    end)

    it("an unknown agent is not_found", function()
      local client = helpers.client()
      local call, err = client:call(call_params(nil, {
        agent_id = "00000000-0000-4000-8000-000000000000" }))
      client:close()
      assert.is_nil(call)
      assert.are.equal("not_found", err.kind)
      assert.are.equal("HTTP 404 Not Found: Agent not found", err.message)
    end)

    it("a redirect is not followed", function()
      local err = failure(FAULT.redirect)
      assert.are.equal("protocol", err.kind)
      assert.are.equal(302, err.status)
      assert.matches("redirect not followed", err.message)
      assert.is_false(err.retryable)
    end)

    it("malformed JSON is protocol", function()
      local err = failure(FAULT.malformed)
      assert.are.equal("protocol", err.kind)
      assert.are.equal("HTTP 200: the reply is not valid JSON", err.message)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
    end)

    it("a reply cut off mid-body may have placed the call", function()
      local err = failure(FAULT.cut_off)
      assert.are.equal("network", err.kind)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      assert.matches("the call may have been placed: look it up", err.message)
      assert.are.equal(1, #helpers.control("GET", "/calls").calls)
    end)

    it("a connection closed before any reply was still sent", function()
      local err = failure(FAULT.closed)
      assert.are.equal("network", err.kind)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
    end)

    it("a refused connection was not sent and may be retried", function()
      local socket = require "socket"
      local server = assert(socket.bind("127.0.0.1", 0))
      local _, port = server:getsockname()
      server:close()  -- nothing listens there now
      local err = failure("+919876543210", {
        base_url = ("http://127.0.0.1:%d/ca/api/v0"):format(port) })
      assert.are.equal("network", err.kind)
      assert.is_false(err.sent)
      assert.is_true(err.retryable)
      assert.is_nil(err.message:find("may have been placed", 1, true))
    end)
  end)


  describe("timeouts", function()
    it("end a reply that never comes in about `timeout` seconds", function()
      local started = helpers.now()
      local err = failure(FAULT.never, { timeout = 1 })
      local took = helpers.now() - started
      assert.are.equal("timeout", err.kind)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      assert.matches("look it up", err.message)
      assert.is_true(took >= 0.9 and took < 2, "took " .. took)
    end)

    it("let a slow reply through when it comes in time", function()
      local call, err = call_to(FAULT.slow, { timeout = 5 })
      assert.is_nil(err)
      assert.is_string(call.id)
    end)
  end)


  it("keeps one connection alive across calls", function()
    local client = helpers.client()
    local seen = {}
    for _ = 1, 10 do
      local call = assert(client:call(call_params()))
      seen[call.headers["x-sandbox-connection"]] = true
    end
    client:close()
    local connections = {}
    for id in pairs(seen) do connections[#connections + 1] = id end
    assert.are.equal(1, #connections)
    assert.are.equal(10, #helpers.control("GET", "/calls").calls)
  end)


  it("sends the documented headers", function()
    local client = helpers.client{ user_agent = "spec/1" }
    local body = assert(client:request("POST",
      "/calling/v2/outbound/individual", { body = call_params() }))
    client:close()
    assert.are.equal("success", body.status)
  end)


  describe("with a custom transport", function()
    local http = require "socket.http"
    local ltn12 = require "ltn12"

    -- A real transport: LuaSocket's HTTP client, as a user could write.
    local function luasocket_transport(req)
      local out = {}
      local _, status, headers = http.request{
        method = req.method, url = req.url, headers = req.headers,
        source = req.body and ltn12.source.string(req.body),
        sink = ltn12.sink.table(out),
      }
      if type(status) ~= "number" then return nil, status end
      return { status = status, headers = headers, body = table.concat(out) }
    end

    it("replaces libcurl and is called from Lua", function()
      local seen
      local client = helpers.client{ transport = function(req)
        seen = req
        req.headers["Content-Length"] = #req.body
        return luasocket_transport(req)
      end }
      local call, err = client:call(call_params())
      client:close()
      assert.is_nil(err)
      assert.is_string(call.id)
      assert.are.equal("POST", seen.method)
      assert.are.equal(helpers.sandbox().key, seen.headers["X-API-KEY"])
      assert.are.equal(30, seen.timeout)
    end)

    it("gives the same errors as libcurl", function()
      local client = helpers.client{ transport = function(req)
        req.headers["Content-Length"] = #req.body
        return luasocket_transport(req)
      end }
      local _, err = client:call(call_params(FAULT.rate_limited))
      client:close()
      assert.are.equal("rate_limited", err.kind)
      assert.are.equal(2, err.retry_after)
      assert.is_true(err.retryable)
    end)

    it("turns a transport failure into a network error", function()
      local client = helpers.client{ transport = function()
        return nil, "connection reset by peer"
      end }
      local _, err = client:call(call_params())
      assert.are.equal("network", err.kind)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      assert.matches("^connection reset by peer; the call may have been",
                     err.message)
      client = helpers.client{ transport = function()
        return nil, { message = "connect failed", kind = "network",
                      sent = false }
      end }
      _, err = client:call(call_params())
      client:close()
      assert.is_false(err.sent)
      assert.is_true(err.retryable)
      assert.are.equal("connect failed", err.message)
    end)

    it("runs no transport for invalid params", function()
      local ran = false
      local client = helpers.client{ transport = function() ran = true end }
      local _, err = client:call(call_params("nope"))
      client:close()
      assert.are.equal("invalid", err.kind)
      assert.is_false(ran)
    end)

    it("raises when the transport returns nonsense", function()
      local client = helpers.client{ transport = function()
        return { status = "200" }
      end }
      assert.has_error(function() client:call(call_params()) end,
                       "transport reply needs a numeric status")
      client:close()
    end)
  end)
end)


describe("ringg.backoff()", function()
  it("honours retry_after", function()
    assert.are.equal(2, ringg.backoff(1, { retry_after = 2 }))
    assert.are.equal(0, ringg.backoff(5, { retry_after = 0 }))
  end)

  it("doubles from 0.5 s up to 8 s, with jitter", function()
    for attempt, base in ipairs{ 0.5, 1, 2, 4, 8, 8, 8 } do
      local seen = {}
      for _ = 1, 50 do
        local wait = ringg.backoff(attempt, { kind = "server" })
        assert.is_true(wait >= base / 2 and wait <= base,
                       ("attempt %d: %g"):format(attempt, wait))
        seen[wait] = true
      end
      assert.is_not_nil(next(seen, next(seen)), "no jitter")
    end
  end)

  it("raises on a bad attempt number", function()
    assert.has_error(function() ringg.backoff(0) end,
                     "backoff expects an attempt number >= 1")
  end)
end)
