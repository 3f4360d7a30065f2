local fixtures = require "busted.fixtures"
local webhook = require "ringg.webhook"

local CALL = "b41e9d02-6c3a-47f5-8e1b-2d0c9f7a6e53"
local AGENT = "2c9d7e41-0f6a-4b3c-8d5e-91a0b7c6d2f3"

local function body(name)
  return fixtures.read("fixtures/webhooks/" .. name .. ".json")
end

local function parse(name)
  local event, err = webhook.parse(body(name))
  assert.is_nil(err)
  return event
end

local function is_integer(v)
  if math.type then return math.type(v) == "integer" end
  return type(v) == "number" and v == math.floor(v)
end

-- Asserts that parse(text) fails with a protocol error saying `message`.
local function rejects(text, message)
  local event, err = webhook.parse(text)
  assert.is_nil(event)
  assert.equal("protocol", err.kind)
  assert.equal(message, err.message)
end


describe("ringg.webhook", function()


  describe("parse()", function()

    it("returns a call_status event from the callback envelope", function()
      local event = parse("call_status_completed")
      assert.equal("call_status", event.type)
      assert.equal("7f3c2a10-5b8e-4d21-9c4f-0a6e1b2d3c4e", event.call_id)
      assert.equal("completed", event.status)
      assert.equal("https://recordings.example.net/calls/7f3c2a10.mp3",
        event.recording_url)
      assert.same({
        {role = "bot", text = "Good morning, am I speaking with Meera?"},
        {role = "user", text = "Yes, speaking."},
        {role = "bot",
         text = "I am calling about order ORD-2231.\nIt ships tomorrow."},
      }, event.transcript)
      assert.same({callee_name = "Meera", order_id = "ORD-2231"},
        event.custom_args_values)
      assert.equal(AGENT, event.agent_id)
      assert.is_nil(event.analysis)
    end)

    it("keeps the envelope as raw and its data as the call's raw", function()
      local event = parse("call_status_completed")
      assert.equal("Call Details", event.raw.message)
      assert.equal("success", event.raw.status)
      assert.equal(event.raw.data, event.call.raw)
    end)

    it("fills the call record from the envelope data", function()
      local call = parse("call_status_completed").call
      assert.equal("outbound", call.direction)
      assert.equal(96.4, call.duration)
      assert.equal("+14155550123", call.from_number)
      assert.equal("+919812345670", call.to_number)
      assert.equal(0, call.retry_count)
      assert.is_true(is_integer(call.retry_count))
    end)

    it("turns the nulls of a retry callback into absent fields", function()
      local event = parse("call_status_retry")
      assert.equal("retry", event.status)
      assert.is_nil(event.recording_url)
      assert.is_nil(event.transcript)
      assert.is_nil(event.call.duration)
      assert.equal(1, event.call.retry_count)
      assert.equal("2026-02-03T10:45:00+05:30", event.call.next_attempt_time)
    end)

    it("returns a call_started event", function()
      local event = parse("call_started")
      assert.equal("call_started", event.type)
      assert.equal(CALL, event.call_id)
      assert.is_nil(event.status)
      assert.equal("ACCEPTED", event.call.sub_status)
      assert.equal("Invoice Follow-up", event.call.agent_name)
      assert.equal(AGENT, event.agent_id)
      assert.same({callee_name = "Arjun", invoice_no = "INV-77"},
        event.custom_args_values)
      assert.is_nil(event.transcript)
      assert.equal("v2", event.raw.version_slug)
    end)

    it("returns a call_completed event", function()
      local event = parse("call_completed")
      assert.equal("call_completed", event.type)
      assert.equal(CALL, event.call_id)
      assert.equal("completed", event.status)
      assert.same({
        {role = "bot", text = "Hello Arjun, this is about invoice INV-77."},
        {role = "user", text = "I paid it yesterday."},
        {role = "bot", text = "Thank you, I will note that."},
      }, event.transcript)
      local call = event.call
      assert.equal("outbound", call.direction)
      assert.equal(42.5, call.duration)
      assert.equal(0.35, call.cost)
      assert.equal("2026-02-03T09:12:40.118203Z", call.initiated_at)
      assert.equal("+912240001234", call.from_number)
      assert.equal("+919900112233", call.to_number)
      assert.is_nil(call.retry_count)
    end)

    it("returns a call_completed event for a retried attempt", function()
      local event = parse("call_completed_attempt")
      assert.equal("call_completed", event.type)
      assert.equal("retry", event.status)
      assert.equal(2, event.call.retry_count)
      assert.is_true(is_integer(event.call.retry_count))
      assert.is_nil(event.call.cost)
      assert.equal(0, event.call.duration)
      assert.same({
        {role = "bot", text = "Hello, is this Farah?"},
        {role = "user", text = "Who is calling?"},
      }, event.transcript)
    end)

    it("returns a recording_completed event", function()
      local event = parse("recording_completed")
      assert.equal("recording_completed", event.type)
      assert.equal(CALL, event.call_id)
      assert.is_nil(event.status)
      assert.equal("https://recordings.example.net/v1/recordings/b41e9d02.mp3",
        event.recording_url)
      assert.is_nil(event.agent_id)
      assert.equal(44.1, event.raw.recording_duration)
    end)

    it("returns a platform_analysis_completed event", function()
      local event = parse("platform_analysis_completed")
      assert.equal("platform_analysis_completed", event.type)
      assert.same({platform = {
        summary = "Customer says the invoice was paid yesterday.",
        classification = "already_paid",
        key_points = {"invoice INV-77", "paid yesterday"},
        sentiment = "neutral",
        call_disconnect_reason = "agent_hangup",
        action_items = {},
      }}, event.analysis)
      assert.is_nil(event.call.cost)
    end)

    it("returns a client_analysis_completed event", function()
      local event = parse("client_analysis_completed")
      assert.equal("client_analysis_completed", event.type)
      assert.same({client = {
        payment_claimed = true, claimed_date = "2026-02-02",
      }}, event.analysis)
    end)

    it("returns an all_processing_completed event", function()
      local event = parse("all_processing_completed")
      assert.equal("all_processing_completed", event.type)
      assert.equal(CALL, event.call_id)
      assert.equal("completed", event.status)
      assert.equal("https://recordings.example.net/v1/recordings/b41e9d02.mp3",
        event.recording_url)
      assert.same({
        {role = "bot", text = "Hello Arjun, this is about invoice INV-77."},
        {role = "user", text = "I paid it yesterday."},
      }, event.transcript)
      assert.same({
        platform = {summary = "Customer says the invoice was paid.",
                    sentiment = "neutral"},
        client = {payment_claimed = true, claimed_date = "2026-02-02"},
      }, event.analysis)
      assert.equal(AGENT, event.agent_id)
    end)

    it("passes an unknown event type through", function()
      local event = parse("unknown_event")
      assert.equal("voicemail_detected", event.type)
      assert.equal(CALL, event.call_id)
      assert.equal(AGENT, event.agent_id)
      assert.equal(3.2, event.raw.detected_after_seconds)
    end)

    it("reads a flat object without event_type as a call_status", function()
      local event = assert(webhook.parse(
        '{"call_id": "c1", "status": "ongoing"}'))
      assert.equal("call_status", event.type)
      assert.equal("c1", event.call_id)
      assert.equal("ongoing", event.status)
    end)

    it("reads a body whose data is null as the call itself", function()
      local event = assert(webhook.parse('{"call_id": "c1", "data": null}'))
      assert.equal("call_status", event.type)
      assert.equal("c1", event.call_id)
      rejects('{"status": "success", "data": null}', "no call_id in payload")
    end)

    it("fails on an empty body", function()
      rejects("", "empty body")
      rejects(" \r\n\t", "empty body")
    end)

    it("fails on invalid JSON", function()
      rejects("{", "invalid JSON: "
        .. "Expected object key string but found T_END at character 2")
      rejects("call_id=c1", "invalid JSON: "
        .. "Expected value but found invalid token at character 1")
      rejects('{"call_id": "c1",}', "invalid JSON: "
        .. "Expected object key string but found T_OBJ_END at character 18")
    end)

    it("fails on JSON that is not an object", function()
      rejects("[]", "expected a JSON object, got array")
      rejects(' [{"call_id": "c1"}]', "expected a JSON object, got array")
      rejects('"call_id"', "expected a JSON object, got string")
      rejects("42", "expected a JSON object, got number")
      rejects("true", "expected a JSON object, got boolean")
      rejects("null", "expected a JSON object, got null")
    end)

    it("fails when the envelope data is not an object", function()
      rejects('{"status": "success", "data": "c1"}',
        '"data" is not an object')
      rejects('{"status": "success", "data": [{"call_id": "c1"}]}',
        '"data" is not an object')
    end)

    it("fails on an event_type that is not a non-empty string", function()
      rejects('{"event_type": ["call_completed"], "call_id": "c1"}',
        '"event_type" is not a non-empty string')
      rejects('{"event_type": "", "call_id": "c1"}',
        '"event_type" is not a non-empty string')
    end)

    it("fails without a call id", function()
      rejects("{}", "no call_id in payload")
      rejects('{"event_type": "call_started"}', "no call_id in payload")
      rejects('{"event_type": "call_started", "call_id": null}',
        "no call_id in payload")
      rejects('{"event_type": "call_started", "call_id": ""}',
        "no call_id in payload")
      rejects('{"status": "success", "data": {"status": "completed"}}',
        "no call_id in payload")
    end)

    it("returns an error that prints its kind and message", function()
      local _, err = webhook.parse("")
      assert.equal("ringg: protocol: empty body", tostring(err))
    end)

    it("errors on a body that is not a string", function()
      assert.has_error(function() webhook.parse() end,
        "bad argument #1 to 'parse' (string expected, got nil)")
      assert.has_error(function() webhook.parse({call_id = "c1"}) end,
        "bad argument #1 to 'parse' (string expected, got table)")
    end)

  end)


  describe("verify()", function()

    local SECRET = "s3cr3t-token-value"

    it("returns true for the right value", function()
      assert.is_true(webhook.verify({["X-Webhook-Secret"] = SECRET},
        "X-Webhook-Secret", SECRET))
    end)

    it("ignores the case of the header name", function()
      assert.is_true(webhook.verify({["x-webhook-secret"] = SECRET},
        "X-Webhook-Secret", SECRET))
      assert.is_true(webhook.verify({["X-WEBHOOK-SECRET"] = SECRET},
        "x-webhook-secret", SECRET))
    end)

    it("does not ignore the case of the value", function()
      assert.is_false(webhook.verify({["x-webhook-secret"] = SECRET:upper()},
        "x-webhook-secret", SECRET))
    end)

    it("returns false for a wrong value of the same length", function()
      for _, value in ipairs{"s3cr3t-token-valuE", "t3cr3t-token-value",
                             "s3cr3t-tokenXvalue"} do
        assert.is_false(webhook.verify({["x-webhook-secret"] = value},
          "x-webhook-secret", SECRET))
      end
    end)

    it("returns false for a value of another length", function()
      local function check(value)
        return webhook.verify({["x-webhook-secret"] = value},
          "x-webhook-secret", SECRET)
      end
      assert.is_false(check(SECRET:sub(1, -2)))
      assert.is_false(check(SECRET .. "x"))
      assert.is_false(check(SECRET .. "\0"))
      assert.is_false(check(""))
      assert.is_false(check("x"))
    end)

    it("returns false when the header is missing", function()
      assert.is_false(webhook.verify({}, "x-webhook-secret", SECRET))
      assert.is_false(webhook.verify({authorization = SECRET},
        "x-webhook-secret", SECRET))
    end)

    it("returns false for a repeated header", function()
      assert.is_false(webhook.verify({["x-webhook-secret"] = {SECRET, SECRET}},
        "x-webhook-secret", SECRET))
      assert.is_false(webhook.verify({["x-webhook-secret"] = {SECRET, "x"}},
        "x-webhook-secret", SECRET))
      assert.is_false(webhook.verify({
        ["X-Webhook-Secret"] = SECRET, ["x-webhook-secret"] = SECRET,
      }, "x-webhook-secret", SECRET))
    end)

    it("accepts a list holding a single value", function()
      assert.is_true(webhook.verify({["x-webhook-secret"] = {SECRET}},
        "x-webhook-secret", SECRET))
      assert.is_false(webhook.verify({["x-webhook-secret"] = {}},
        "x-webhook-secret", SECRET))
    end)

    it("returns false for a value that is not a string", function()
      assert.is_false(webhook.verify({["x-webhook-secret"] = 42},
        "x-webhook-secret", "42"))
      assert.is_false(webhook.verify({["x-webhook-secret"] = true},
        "x-webhook-secret", SECRET))
    end)

    it("compares a bearer token as a whole value", function()
      local headers = {Authorization = "Bearer " .. SECRET}
      assert.is_true(webhook.verify(headers, "authorization",
        "Bearer " .. SECRET))
      assert.is_false(webhook.verify(headers, "authorization", SECRET))
    end)

    it("errors on arguments of the wrong type", function()
      assert.has_error(function()
        webhook.verify("x-webhook-secret: x", "x-webhook-secret", SECRET)
      end, "bad argument #1 to 'verify' (table expected, got string)")
      assert.has_error(function()
        webhook.verify({}, nil, SECRET)
      end, "bad argument #2 to 'verify' (header name expected, got nil)")
      assert.has_error(function()
        webhook.verify({}, "", SECRET)
      end, "bad argument #2 to 'verify' "
        .. "(header name expected, got empty string)")
      assert.has_error(function()
        webhook.verify({}, "x-webhook-secret", 42)
      end, "bad argument #3 to 'verify' (secret expected, got number)")
      assert.has_error(function()
        webhook.verify({}, "x-webhook-secret", "")
      end, "bad argument #3 to 'verify' (secret expected, got empty string)")
    end)

  end)


  describe("key()", function()

    it("returns call id and event type for agent events", function()
      for _, name in ipairs{
        "call_started", "call_completed", "recording_completed",
        "platform_analysis_completed", "client_analysis_completed",
        "all_processing_completed",
      } do
        assert.equal(CALL .. ":" .. name, webhook.key(parse(name)))
      end
    end)

    it("returns call id and type for an unknown event type", function()
      assert.equal(CALL .. ":voicemail_detected",
        webhook.key(parse("unknown_event")))
    end)

    it("adds the status to a call_status key", function()
      local id = "7f3c2a10-5b8e-4d21-9c4f-0a6e1b2d3c4e"
      assert.equal(id .. ":call_status:completed",
        webhook.key(parse("call_status_completed")))
      assert.equal(id .. ":call_status:retry",
        webhook.key(parse("call_status_retry")))
    end)

    it("gives the same key to a repeated delivery", function()
      assert.equal(webhook.key(parse("call_completed")),
        webhook.key(parse("call_completed")))
    end)

    it("leaves the status out of a call_status key without one", function()
      local event = assert(webhook.parse('{"data": {"call_id": "c1"}}'))
      assert.equal("c1:call_status", webhook.key(event))
    end)

    it("errors on something that is not a parsed event", function()
      assert.has_error(function() webhook.key() end,
        "bad argument #1 to 'key' (event expected, got nil)")
      assert.has_error(function() webhook.key({type = "call_started"}) end,
        "bad argument #1 to 'key' (event without call_id or type)")
      assert.has_error(function() webhook.key({call_id = "c1"}) end,
        "bad argument #1 to 'key' (event without call_id or type)")
    end)

  end)


end)
