-- The fault matrix (spec/faults.lua): every sandbox fault and every
-- transport failure, crossed with call, a GET, start_call + poll and a
-- started GET + poll. Each cell must end in the exact kind, sent and
-- retryable of design.md, and leave no descriptor open once its client
-- is closed.

local faults = require "spec.faults"
local helpers = require "spec.helpers"


-- Checks a failing cell's error against what its row expects.
local function check_error(cell, value, err)
  local row, expect = cell.row, cell.expect
  assert.is_nil(value)
  assert.are.equal("table", type(err))
  assert.are.same({ expect.kind, expect.sent, expect.retryable },
                  { err.kind, err.sent, err.retryable })
  assert.are.equal("ringg: " .. err.kind .. ": " .. err.message,
                   tostring(err))
  assert.are.equal(row.status, err.status)
  if type(row.retry_after) == "table" then
    local low, high = row.retry_after[1], row.retry_after[2]
    assert.is_true(err.retry_after >= low and err.retry_after <= high,
                   "retry_after " .. tostring(err.retry_after))
  else
    assert.are.equal(row.retry_after, err.retry_after)
  end
  if cell.message then assert.matches(cell.message, err.message) end
  if not err.sent then
    assert.is_nil(err.message:find("may have been placed", 1, true))
  end
  if row.status then
    assert.is_string(err.body)
    assert.is_string(err.request_id)
    assert.are.equal(err.request_id, err.headers["x-request-id"])
  end
end


local function check_success(cell, value, err)
  if cell.column.family == "call" then
    assert.is_nil(err)
    assert.is_string(value.id)
  else
    assert.are.equal("table", type(value))
    assert.is_nil(err and err.kind)
  end
end


local function title(cell)
  local e = cell.expect
  if e.ok then return cell.name .. ": succeeds" end
  return ("%s: %s, sent = %s, retryable = %s"):format(cell.name, e.kind,
    tostring(e.sent), tostring(e.retryable))
end


describe("the fault matrix", function()

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  for _, cell in ipairs(faults.cells()) do
    it(title(cell), function()
      collectgarbage()
      local before = faults.fd_count()
      local started = helpers.now()
      local value, err = faults.run(cell)
      local took = helpers.now() - started
      collectgarbage()
      collectgarbage()
      assert.are.equal(before, faults.fd_count(), "descriptors left open")
      if cell.expect.ok then
        check_success(cell, value, err)
      else
        check_error(cell, value, err)
      end
      assert.is_true(took < 3, "took " .. took .. " s")
    end)
  end


  it("covers every sandbox fault and every transport failure", function()
    local seen = {}
    for _, cell in ipairs(faults.cells()) do
      seen[cell.row.name .. "/" .. cell.column.name] = true
    end
    for _, row in ipairs(faults.rows()) do
      for _, column in ipairs(faults.COLUMNS) do
        local want = row[column.family] ~= nil
        assert.are.equal(want, seen[row.name .. "/" .. column.name] == true)
      end
    end
    for _, number in pairs(helpers.FAULT) do
      -- the lifecycle numbers and the legacy shape are successes
      local listed = number:find("^%+155501007") ~= nil
        or number == helpers.FAULT.legacy
      for _, row in ipairs(faults.rows()) do
        listed = listed or row.number == number
      end
      assert.is_true(listed, number .. " is not in the matrix")
    end
  end)


  it("times out a reply that never comes after about `timeout`", function()
    local client = helpers.client{ timeout = 1 }
    local started = helpers.now()
    local _, err = client:call_details("fault-never")
    local took = helpers.now() - started
    client:close()
    assert.are.equal("timeout", err.kind)
    assert.is_true(took >= 0.9 and took < 2, "took " .. took)
  end)
end)


-- libcurl retries a request on a fresh connection when a reused one dies
-- before any byte of the reply. For a call that is a second POST, which
-- may place the call twice: the module must never repeat a call.
describe("a call on a reused connection closed without a reply", function()

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  -- Requests the sandbox has seen since the reset, this lookup included.
  local function requests_seen()
    local n = 0
    local counts = helpers.control("GET", "/connections").connections
    for _, count in pairs(counts) do n = n + count end
    return n
  end


  local function check(send)
    local client = helpers.client()
    local call = assert(send(client, "+919876543210"))
    local _, err = send(client, helpers.FAULT.closed)
    client:close()
    assert.are.equal("network", err.kind)
    assert.is_true(err.sent)
    assert.is_false(err.retryable)
    assert.is_string(call.headers["x-sandbox-connection"])
    assert.are.equal(3, requests_seen(), "the call was sent again")
  end


  it("is not sent again by call", function()
    check(function(client, number)
      return client:call(helpers.call_params(number))
    end)
  end)


  it("is not sent again by start_call", function()
    check(function(client, number)
      local value, err
      client:start_call(helpers.call_params(number), function(v, e)
        value, err = v, e
      end)
      local deadline = helpers.now() + 5
      while client:pending() > 0 and helpers.now() < deadline do
        client:poll(0.05)
      end
      return value, err
    end)
  end)
end)
