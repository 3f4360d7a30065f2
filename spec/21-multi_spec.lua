-- Many calls in flight: start_call and poll on one curl multi handle.
-- Every callback must run exactly once, inside poll (or close), whatever
-- the outcome.

local helpers = require "spec.helpers"

local FAULT = helpers.FAULT
local call_params = helpers.call_params


-- A callback that records each run under `name` in `runs`.
local function recorder(runs, name)
  return function(call, err)
    runs[name] = runs[name] or {}
    table.insert(runs[name], { call = call, err = err })
  end
end


local drain = helpers.drain


describe("client:start_call() and client:poll()", function()

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  it("runs each callback exactly once, whatever the outcome", function()
    local client = helpers.client{ timeout = 1 }
    local runs = {}
    local numbers = { ok = "+919876543210", limited = FAULT.rate_limited,
                      server = FAULT.server, never = FAULT.never,
                      cut = FAULT.cut_off, legacy = FAULT.legacy }
    for name, number in pairs(numbers) do
      assert(client:start_call(call_params(number), recorder(runs, name)))
    end
    assert.are.equal(6, client:pending())
    assert.are.same({}, runs)  -- nothing runs before poll
    drain(client, 5)
    client:close()
    for name in pairs(numbers) do
      assert.are.equal(1, #runs[name], name)
    end
    assert.is_string(runs.ok[1].call.id)
    assert.is_string(runs.legacy[1].call.id)
    assert.are.equal("rate_limited", runs.limited[1].err.kind)
    assert.are.equal(2, runs.limited[1].err.retry_after)
    assert.are.equal("server", runs.server[1].err.kind)
    assert.are.equal("timeout", runs.never[1].err.kind)
    assert.is_false(runs.never[1].err.retryable)
    assert.are.equal("network", runs.cut[1].err.kind)
  end)


  it("returns validation errors at once and runs no callback", function()
    local client = helpers.client()
    local ran = false
    local handle, err = client:start_call(call_params("12"), function()
      ran = true
    end)
    assert.is_nil(handle)
    assert.are.equal("invalid", err.kind)
    assert.are.equal(0, client:pending())
    client:poll(0)
    client:close()
    assert.is_false(ran)
  end)


  it("reports a refused connection as not sent", function()
    local socket = require "socket"
    local server = assert(socket.bind("127.0.0.1", 0))
    local _, port = server:getsockname()
    server:close()
    local client = helpers.client{
      base_url = ("http://127.0.0.1:%d/ca/api/v0"):format(port) }
    local runs = {}
    client:start_call(call_params(), recorder(runs, "refused"))
    drain(client, 3)
    client:close()
    assert.are.equal(1, #runs.refused)
    assert.are.equal("network", runs.refused[1].err.kind)
    assert.is_false(runs.refused[1].err.sent)
    assert.is_true(runs.refused[1].err.retryable)
  end)


  it("never blocks in poll(0), and waits in poll(t)", function()
    local client = helpers.client()
    local runs = {}
    client:start_call(call_params(FAULT.slow), recorder(runs, "slow"))
    local started = helpers.now()
    for _ = 1, 20 do
      assert.are.equal(1, client:poll(0))
    end
    local spent = helpers.now() - started
    assert.is_true(spent < 0.2, "20 polls took " .. spent)
    started = helpers.now()
    client:poll(0.3)
    spent = helpers.now() - started
    assert.is_true(spent >= 0.25 and spent < 0.6, "poll(0.3) took " .. spent)
    drain(client, 3)
    client:close()
    assert.are.equal(1, #runs.slow)
    assert.is_string(runs.slow[1].call.id)
  end)


  it("returns from poll(t) as soon as a callback is due", function()
    local client = helpers.client()
    local runs = {}
    client:start_call(call_params(), recorder(runs, "fast"))
    local started = helpers.now()
    client:poll(5)
    local spent = helpers.now() - started
    client:close()
    assert.are.equal(1, #runs.fast)
    assert.is_true(spent < 1, "poll(5) took " .. spent)
  end)


  it("cancels a call: its callback runs once with kind cancelled",
     function()
    local client = helpers.client()
    local runs = {}
    local slow = client:start_call(call_params(FAULT.slow),
                                   recorder(runs, "slow"))
    local fast = client:start_call(call_params(), recorder(runs, "fast"))
    client:poll(0.05)
    assert.is_true(slow:cancel())
    assert.is_false(slow:cancel())
    assert.are.equal(nil, runs.slow)  -- runs in the next poll
    drain(client, 3)
    assert.is_false(fast:cancel())
    client:close()
    assert.are.equal(1, #runs.slow)
    assert.are.equal("cancelled", runs.slow[1].err.kind)
    assert.are.equal(1, #runs.fast)
    assert.matches("^ringg.handle %(done%)$", tostring(slow))
  end)


  it("cancels everything on close, running the callbacks there", function()
    local client = helpers.client()
    local runs = {}
    for i = 1, 3 do
      client:start_call(call_params(FAULT.slow), recorder(runs, i))
    end
    client:poll(0.05)
    client:close()
    for i = 1, 3 do
      assert.are.equal(1, #runs[i])
      assert.are.equal("cancelled", runs[i][1].err.kind)
      assert.is_true(runs[i][1].err.sent)
      assert.is_false(runs[i][1].err.retryable)
    end
  end)


  it("calls queued behind the cap are cancelled as never sent", function()
    local client = helpers.client{ max_in_flight = 1 }
    local runs = {}
    client:start_call(call_params(FAULT.slow), recorder(runs, "first"))
    client:start_call(call_params(), recorder(runs, "queued"))
    client:close()
    assert.are.equal("cancelled", runs.queued[1].err.kind)
    assert.is_false(runs.queued[1].err.sent)
    assert.is_true(runs.queued[1].err.retryable)
  end)


  it("re-raises a callback's error after running the others", function()
    local client = helpers.client()
    local runs = {}
    client:start_call(call_params(), function() error("boom in callback") end)
    client:start_call(call_params(), recorder(runs, "a"))
    client:start_call(call_params(), recorder(runs, "b"))
    local deadline = helpers.now() + 3
    local raised
    while client:pending() > 0 and helpers.now() < deadline do
      local ok, err = pcall(client.poll, client, 0.05)
      if not ok then raised = err end
    end
    assert.matches("boom in callback", raised)
    assert.are.equal(1, #runs.a)
    assert.are.equal(1, #runs.b)
    assert.are.equal(0, client:pending())
    -- the client still works afterwards
    client:start_call(call_params(), recorder(runs, "after"))
    drain(client, 3)
    client:close()
    assert.are.equal(1, #runs.after)
  end)


  it("lets a callback start another call, but not poll", function()
    local client = helpers.client()
    local runs = {}
    local poll_error
    client:start_call(call_params(), function()
      client:start_call(call_params(), recorder(runs, "second"))
      local ok, err = pcall(client.poll, client, 0)
      poll_error = not ok and err
    end)
    drain(client, 3)
    client:close()
    assert.are.equal(1, #runs.second)
    assert.matches("poll called from inside a callback", poll_error)
  end)


  it("lets a callback close the client", function()
    local client = helpers.client()
    local runs = {}
    client:start_call(call_params(), function()
      client:close()
    end)
    client:start_call(call_params(FAULT.slow), recorder(runs, "slow"))
    local deadline = helpers.now() + 3
    while tostring(client) ~= "ringg client (closed)" do
      assert(helpers.now() < deadline)
      client:poll(0.05)
    end
    assert.are.equal(1, #runs.slow)
    assert.are.equal("cancelled", runs.slow[1].err.kind)
  end)


  it("caps transfers in flight and reuses connections", function()
    local client = helpers.client{ max_in_flight = 2 }
    local connections, count = {}, 0
    for _ = 1, 12 do
      client:start_call(call_params(), function(call)
        connections[call.headers["x-sandbox-connection"]] = true
        count = count + 1
      end)
    end
    drain(client, 5)
    client:close()
    assert.are.equal(12, count)
    local distinct = 0
    for _ in pairs(connections) do distinct = distinct + 1 end
    assert.is_true(distinct >= 1 and distinct <= 2,
                   distinct .. " connections")
    assert.are.equal(12, #helpers.control("GET", "/calls").calls)
  end)


  it("serves reads on the same queue with client:start", function()
    local client = helpers.client()
    local got
    client:start("GET", "/workspace", nil, function(body, res)
      got = { body = body, res = res }
    end)
    drain(client, 3)
    client:close()
    assert.are.equal(3025, got.body.workspace_info.credits)
    assert.are.equal(200, got.res.status)
  end)


  it("refuses start_call with a custom transport", function()
    local client = helpers.client{ transport = function() end }
    assert.has_error(function()
      client:start_call(call_params(), function() end)
    end, "start_call needs the libcurl transport; with a custom transport, "
      .. "use call")
    client:close()
  end)
end)
