-- Reading calls back and the lookups a caller needs, against the
-- sandbox: details, history and its pages, agents, numbers, workspace,
-- terminate, any other endpoint, prompt variables and reconciliation.

local helpers = require "spec.helpers"

local FAULT = helpers.FAULT
local call_params = helpers.call_params


-- Places `n` calls to distinct numbers; returns their ids in order.
local function place(client, n, extra)
  local ids = {}
  for i = 1, n do
    local number = ("+9198765%05d"):format(i)
    ids[i] = assert(client:call(call_params(number, extra))).id
  end
  return ids
end


-- Waits until the call reaches `status` (bounded).
local function wait_status(client, id, status)
  return helpers.wait_for(5, function()
    local call = client:call_details(id)
    return call and call.status == status and call
  end)
end


describe("reading", function()
  local client

  before_each(function()
    helpers.control("POST", "/reset")
    helpers.control("POST", "/config", { step_ms = 40 })
    client = helpers.client()
  end)

  after_each(function()
    client:close()
  end)


  describe("client:call_details()", function()
    it("returns one normalised record", function()
      local id = place(client, 1)[1]
      local call = assert(client:call_details(id))
      assert.are.equal(id, call.id)
      assert.are.equal(helpers.AGENT, call.agent_id)
      assert.are.equal("outbound", call.direction)
      assert.are.equal("+9198765" .. "00001", call.to_number)
      assert.is_table(call.raw)
      assert.are.equal(id, call.raw.id)
    end)

    it("follows a call to completion, with transcript and analysis",
       function()
      local id = place(client, 1)[1]
      assert(wait_status(client, id, "completed"))
      local call = assert(client:call_details(id, { analysis = true }))
      assert.are.equal("completed", call.status)
      assert.is_number(call.duration)
      assert.matches("^http", call.recording_url)
      assert.is_true(#call.transcript >= 2)
      assert.are.equal("bot", call.transcript[1].role)
      assert.is_string(call.transcript[1].text)
      assert.is_table(call.analysis.platform)
      local plain = assert(client:call_details(id))
      assert.is_nil(plain.analysis)
    end)

    it("gives not_found for an unknown call", function()
      local call, err = client:call_details(
        "00000000-0000-4000-8000-000000000000")
      assert.is_nil(call)
      assert.are.equal("not_found", err.kind)
      assert.are.equal(404, err.status)
      assert.is_false(err.retryable)
    end)

    it("checks the id before it goes into a URL", function()
      for _, bad in ipairs{ "", "a/b", "x y", "id?x=1", ("a"):rep(129) } do
        local call, err = client:call_details(bad)
        assert.is_nil(call)
        assert.are.equal("invalid", err.kind)
        assert.are.equal("call_id", err.errors[1].field)
        assert.is_false(err.sent)
      end
    end)
  end)


  describe("client:call_history()", function()
    it("returns a page with count and total", function()
      local ids = place(client, 5)
      local page = assert(client:call_history{ limit = 2, offset = 1 })
      assert.are.equal(2, page.count)
      assert.are.equal(5, page.total)
      assert.are.equal(2, page.limit)
      assert.are.equal(1, page.offset)
      assert.are.equal(2, #page.calls)
      -- newest first: offset 1 skips the last call placed
      assert.are.equal(ids[4], page.calls[1].id)
      assert.are.equal(ids[3], page.calls[2].id)
      assert.are.equal("Asha Verma", page.calls[1].name)
    end)

    it("normalises rows: audio_recording and transcript strings", function()
      local id = place(client, 1)[1]
      assert(wait_status(client, id, "completed"))
      local row = assert(client:call_history{}).calls[1]
      assert.are.equal(id, row.id)
      assert.are.equal("completed", row.status)
      assert.matches("^http", row.recording_url)
      assert.is_string(row.raw.audio_recording)
      assert.is_string(row.raw.transcript)  -- a JSON string in history
      assert.is_true(#row.transcript >= 2)
      assert.are.equal("bot", row.transcript[1].role)
    end)

    it("filters, with + in dates sent as %2B", function()
      place(client, 2)
      local page = assert(client:call_history{
        start_date = "2000-01-01T00:00:00+05:30",
        end_date = "2999-01-01T00:00:00+05:30",
        agent_id = helpers.AGENT, status = "registered" })
      assert.are.equal(2, page.total)
      local none = assert(client:call_history{
        start_date = "2999-01-01T00:00:00+00:00" })
      assert.are.equal(0, none.total)
      assert.are.same({}, none.calls)
    end)

    it("refuses unknown filters and wrong types", function()
      local page, err = client:call_history{ limt = 5 }
      assert.is_nil(page)
      assert.are.equal("invalid", err.kind)
      assert.are.equal("limt", err.errors[1].field)
      page, err = client:call_history{ limit = "5" }
      assert.is_nil(page)
      assert.are.equal("limit", err.errors[1].field)
    end)
  end)


  describe("client:each_call()", function()
    it("walks every page", function()
      local ids = place(client, 7)
      local seen = {}
      for call, err in client:each_call{ limit = 3 } do
        assert.is_nil(err)
        seen[#seen + 1] = call.id
      end
      assert.are.equal(7, #seen)
      for i = 1, 7 do
        assert.are.equal(ids[8 - i], seen[i])
      end
    end)

    it("gives the loop false, err once on failure, then ends", function()
      local broken = helpers.client{ api_key = "wrong-key" }
      local results = {}
      for call, err in broken:each_call{} do
        results[#results + 1] = { call = call, err = err }
      end
      broken:close()
      assert.are.equal(1, #results)
      assert.is_false(results[1].call)
      assert.are.equal("auth", results[1].err.kind)
    end)
  end)


  describe("lookups", function()
    it("lists agents and reads one", function()
      local agents = assert(client:agents())
      assert.is_true(#agents >= 3)
      local agent = assert(client:agent(helpers.AGENT))
      assert.are.equal(helpers.AGENT, agent.id)
      assert.matches("@{{company_name}}", agent.agent_config.agent_prompt)
      local none, err = client:agent("00000000-0000-4000-8000-000000000000")
      assert.is_nil(none)
      assert.are.equal("not_found", err.kind)
    end)

    it("lists workspace numbers with ids and pools", function()
      local numbers = assert(client:numbers{ limit = 2 })
      assert.are.equal(2, #numbers)
      assert.is_string(numbers[1].id)
      assert.is_string(numbers[1].number_pool_id)
      local all = assert(client:numbers())
      assert.is_true(#all >= #numbers)
    end)

    it("reads the workspace credits", function()
      local workspace = assert(client:workspace())
      assert.are.equal(3025, workspace.credits)
    end)

    it("reaches any other endpoint with client:request", function()
      local body, res = client:request("GET", "/agent/all")
      assert.is_table(body.agents)
      assert.are.equal(200, res.status)
      local none, err = client:request("GET", "/no/such/endpoint")
      assert.is_nil(none)
      assert.are.equal("not_found", err.kind)
      assert.has_error(function() client:request("GET", "no-slash") end)
      assert.has_error(function() client:request("BREW", "/x") end)
    end)

    it("retries reads after network failures, not writes", function()
      local socket = require "socket"
      local server = assert(socket.bind("127.0.0.1", 0))
      local _, port = server:getsockname()
      server:close()
      local down = helpers.client{
        base_url = ("http://127.0.0.1:%d/ca/api/v0"):format(port) }
      local _, err = down:workspace()
      assert.are.equal("network", err.kind)
      assert.is_true(err.retryable)
      down:close()
    end)
  end)


  describe("client:terminate()", function()
    it("cancels queued calls and says 400 when none can be", function()
      local id = place(client, 1, { call_config = { call_time = {
        scheduled_at = "2999-01-01T00:00:00" } } })[1]
      local body = assert(client:terminate{ call_ids = { id } })
      assert.are.equal("Calls terminated successfully!", body.message)
      assert.are.equal("cancelled", client:call_details(id).status)
      local again, err = client:terminate{ call_ids = { id } }
      assert.is_nil(again)
      assert.are.equal("rejected", err.kind)
      assert.are.equal(400, err.status)
      assert.matches("No terminable calls", err.message)
    end)

    it("checks the ids", function()
      local body, err = client:terminate{ call_ids = {} }
      assert.is_nil(body)
      assert.are.equal("invalid", err.kind)
      body, err = client:terminate{ call_ids = { "ok", "not/ok" } }
      assert.is_nil(body)
      assert.are.equal("call_ids[2]", err.errors[1].field)
    end)
  end)


  describe("prompt variables", function()
    it("lists what the prompt needs and what is unused", function()
      local report = assert(client:check_variables(helpers.AGENT,
        { company_name = "X", spare = 1 }))
      assert.are.same({ "appointment_date" }, report.missing)
      assert.are.same({ "spare" }, report.unused)
      assert.are.same({ "appointment_date", "callee_name", "company_name" },
                      report.needed)
    end)

    it("refuses a call missing a variable when asked to", function()
      local params = call_params(nil, { custom_args_values = {
        company_name = "X" } })
      local call, err = client:call(params, { check_variables = true })
      assert.is_nil(call)
      assert.are.equal("invalid", err.kind)
      assert.is_false(err.sent)
      assert.are.equal("custom_args_values.appointment_date",
                       err.errors[1].field)
      assert.are.same({}, helpers.control("GET", "/calls").calls)
      call = assert(client:call(call_params(), { check_variables = true }))
      assert.is_string(call.id)
    end)

    it("caches each agent's prompt", function()
      local checking = helpers.client{ check_variables = true }
      local before = helpers.control("GET", "/connections")
      for _ = 1, 3 do assert(checking:call(call_params())) end
      checking:close()
      local requests = 0
      for _, n in pairs(helpers.control("GET", "/connections").connections) do
        requests = requests + n
      end
      local earlier = 0
      for _, n in pairs(before.connections) do earlier = earlier + n end
      -- three calls and one agent read, plus the control request itself
      assert.are.equal(4, requests - earlier - 1)
    end)
  end)


  describe("reconciliation", function()
    it("finds a call whose reply was cut off", function()
      local since = os.date("!%Y-%m-%dT%H:%M:%S+00:00", os.time() - 60)
      local call, err = client:call(call_params(FAULT.cut_off))
      assert.is_nil(call)
      assert.is_true(err.sent)
      assert.is_false(err.retryable)
      local found = assert(client:find_calls{ mobile_number = FAULT.cut_off,
                                              since = since })
      assert.are.equal(1, #found)
      assert.are.equal(FAULT.cut_off, found[1].to_number)
      local none = assert(client:find_calls{ mobile_number = "+15550109999",
                                             since = since })
      assert.are.same({}, none)
    end)
  end)
end)
