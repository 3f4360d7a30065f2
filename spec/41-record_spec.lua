local cjson = require "cjson.safe"
local fixtures = require "busted.fixtures"
local record = require "ringg.record"

local null = cjson.null

local function load(name)
  return assert(cjson.decode(fixtures.read("fixtures/records/" .. name)))
end

-- On Lua 5.4 a count must have the integer subtype; LuaJIT has none.
local function is_integer(v)
  if math.type then return math.type(v) == "integer" end
  return type(v) == "number" and v == math.floor(v)
end

-- The record without `raw`, for assert.same.
local function fields(rec)
  local out = {}
  for k, v in pairs(rec) do
    if k ~= "raw" then out[k] = v end
  end
  return out
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end


describe("ringg.record", function()


  describe("transcript()", function()

    it("returns turns from an array of single-key objects", function()
      assert.same({
        {role = "bot", text = "Hello, how can I help you today?"},
        {role = "user", text = "I need information about my order"},
      }, record.transcript({
        {bot = "Hello, how can I help you today?"},
        {user = "I need information about my order"},
      }))
    end)

    it("maps every speaker name to bot or user, in any case", function()
      assert.same({
        {role = "bot", text = "a"}, {role = "bot", text = "b"},
        {role = "bot", text = "c"}, {role = "user", text = "d"},
        {role = "user", text = "e"}, {role = "user", text = "f"},
      }, record.transcript({
        {assistant = "a"}, {agent = "b"}, {Bot = "c"},
        {customer = "d"}, {human = "e"}, {USER = "f"},
      }))
    end)

    it("ignores keys beside the speaker key", function()
      assert.same({{role = "user", text = "yes"}},
        record.transcript({{user = "yes", timestamp = 12.5}}))
    end)

    it("skips elements that are not turns", function()
      assert.same({{role = "bot", text = "hi"}, {role = "user", text = "yo"}},
        record.transcript({
          null, {bot = "hi"}, "stray", {bot = "x", user = "y"},
          {note = "n"}, {bot = null}, {user = "yo"},
        }))
    end)

    it("returns turns from a JSON-encoded array", function()
      assert.same({
        {role = "bot", text = "Hi there!"},
        {role = "bot", text = "is valuable to us."},
      }, record.transcript(
        '[{"bot": "Hi there!"}, {"bot": "is valuable to us."}]'))
    end)

    it("returns turns from role/content and role/text objects", function()
      assert.same({
        {role = "bot", text = "Hello"},
        {role = "user", text = "Hi"},
        {role = "user", text = "Bye"},
      }, record.transcript({
        {role = "assistant", content = "Hello"},
        {role = "user", content = "Hi"},
        {role = "customer", text = "Bye"},
      }))
    end)

    it("passes an unknown role through unchanged", function()
      assert.same({{role = "System", text = "call ended"}},
        record.transcript({{role = "System", content = "call ended"}}))
    end)

    it("prefers content to text and skips turns without either", function()
      assert.same({{role = "bot", text = "c"}},
        record.transcript({
          {role = "bot", content = "c", text = "t"},
          {role = "user", content = null},
          {role = "user", content = {"parts"}},
        }))
    end)

    it("splits plain text on speaker labels", function()
      assert.same({
        {role = "bot", text = "Good morning"},
        {role = "user", text = "Morning"},
        {role = "bot", text = "Your order ships\ntomorrow."},
      }, record.transcript(
        "Bot: Good morning\r\nUser:   Morning  \n\n"
        .. "assistant: Your order ships\n   tomorrow.\n"))
    end)

    it("keeps text before the first label as an unknown turn", function()
      assert.same({
        {role = "unknown", text = "[connected]"},
        {role = "user", text = "Hello?"},
      }, record.transcript("[connected]\nUser: Hello?"))
    end)

    it("starts a turn's text on the line after an empty label", function()
      assert.same({
        {role = "bot", text = "Hello\nthere"},
        {role = "user", text = ""},
      }, record.transcript("Bot:\nHello\nthere\nUser:"))
    end)

    it("reads long runs of blanks in linear time", function()
      local blanks = string.rep(" ", 100000)
      local turns = record.transcript("Bot: a" .. blanks .. "b\n" .. blanks
        .. "\nUser:" .. blanks .. "c" .. blanks)
      assert.same({
        {role = "bot", text = "a" .. blanks .. "b"},
        {role = "user", text = "c"},
      }, turns)
    end)

    it("returns unlabelled text as one unknown turn", function()
      assert.same({{role = "unknown", text = "Hello, this is...\nBye."}},
        record.transcript("  Hello, this is...\nBye.\n"))
    end)

    it("does not take an unknown label for a speaker", function()
      assert.same({{role = "unknown", text = "Note: call me later"}},
        record.transcript("Note: call me later"))
    end)

    it("reads text that only starts like JSON as text", function()
      assert.same({{role = "unknown", text = "[silence] then Bot: hi"}},
        record.transcript("[silence] then Bot: hi"))
    end)

    it("returns an empty list for an empty array", function()
      assert.same({}, record.transcript({}))
      assert.same({}, record.transcript("[]"))
    end)

    it("returns nil when there is no transcript", function()
      assert.is_nil(record.transcript(nil))
      assert.is_nil(record.transcript(null))
      assert.is_nil(record.transcript(""))
      assert.is_nil(record.transcript(" \n\t"))
    end)

    it("returns nil for shapes it does not know", function()
      assert.is_nil(record.transcript(42))
      assert.is_nil(record.transcript(true))
      assert.is_nil(record.transcript(print))
      assert.is_nil(record.transcript({bot = "not in a list"}))
      assert.is_nil(record.transcript('{"bot": "not in a list"}'))
      assert.is_nil(record.transcript({{note = "a"}, {note = "b"}}))
      assert.is_nil(record.transcript('["a", "b"]'))
    end)

  end)


  describe("call()", function()

    it("normalises call details", function()
      local data = load("call_details.json").data
      local rec = record.call(data)
      assert.same({
        id = "0e1d2c3b-4a59-4687-9766-554433221100",
        status = "completed",
        sub_status = "ACCEPTED",
        direction = "outbound",
        agent_id = "2c9d7e41-0f6a-4b3c-8d5e-91a0b7c6d2f3",
        name = "Oliver",
        from_number = "+14155550188",
        to_number = "+447700900123",
        custom_args_values = {callee_name = "Oliver", slot = "Thursday"},
        initiated_at = "2026-01-20T14:05:00Z",
        recording_url = "https://recordings.example.net/calls/0e1d2c3b.mp3",
        transcript = {
          {role = "bot", text = "Hi Oliver, calling about your delivery slot."},
          {role = "user", text = "Thursday works."},
        },
        analysis = {
          platform = {summary = "Slot confirmed.", sentiment = "positive",
                      key_points = {"Thursday"}},
          client = {slot_confirmed = true},
        },
      }, fields(rec))
      assert.equal(data, rec.raw)
    end)

    it("reads a JSON-encoded transcription_url and drops nulls", function()
      local rec = record.call(load("call_details_stringified.json").data)
      assert.equal("failed", rec.status)
      assert.is_nil(rec.sub_status)
      assert.is_nil(rec.recording_url)
      assert.same({
        {role = "bot", text = "Hi Oliver?"},
        {role = "user", text = "Wrong number."},
      }, rec.transcript)
    end)

    it("does not take a transcription_url link for a transcript", function()
      local rec = record.call({
        id = "c1", transcription_url = "https://example.net/t/c1.json",
      })
      assert.is_nil(rec.transcript)
    end)

    it("prefers transcript to transcription_url", function()
      local rec = record.call({
        id = "c1", transcript = {{bot = "a"}},
        transcription_url = {{bot = "b"}},
      })
      assert.same({{role = "bot", text = "a"}}, rec.transcript)
    end)

    it("normalises a call-history row", function()
      local row = load("history.json").calls[1]
      local rec = record.call(row)
      assert.same({
        id = "6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d",
        status = "completed",
        direction = "outbound",
        agent_id = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a",
        agent_name = "Reminder bot",
        name = "priya",
        from_number = "+912261234567",
        to_number = "+918800112233",
        created_at = "2026-01-11T08:30:12.004511+00:00",
        duration = 12,
        recording_url = "https://media.example.org/recordings/6a5b4c3d.mp3",
        transcript = {
          {role = "bot", text = "Hi Priya, a quick reminder."},
          {role = "user", text = "Okay."},
        },
        cost = 0.2,
      }, fields(rec))
      assert.equal(row, rec.raw)
    end)

    it("prefers from_number to from_numbers", function()
      local rec = record.call({
        id = "c1", from_number = "+15550001", from_numbers = {"+15550002"},
      })
      assert.equal("+15550001", rec.from_number)
    end)

    it("prefers recording_url to audio_recording", function()
      local rec = record.call({
        id = "c1", recording_url = "https://a.example/1.mp3",
        audio_recording = "https://b.example/1.mp3",
      })
      assert.equal("https://a.example/1.mp3", rec.recording_url)
    end)

    it("prefers the top-level agent fields to the agent object", function()
      local rec = record.call({
        id = "c1", agent_id = "a1", agent_name = "One",
        agent = {id = "a2", agent_name = "Two"},
      })
      assert.equal("a1", rec.agent_id)
      assert.equal("One", rec.agent_name)
    end)

    it("normalises the per-call callback data", function()
      local rec = record.call({
        call_id = "c2", call_direction = "inbound", status = "completed",
        call_duration = 120.5, recording_url = "https://r.example/c2.mp3",
        transcript = "Hello, this is...", agent_id = "a1", retry = 0,
        from_number = "+15550001", to_number = "+15550002",
        custom_args_values = {callee_name = "John"},
      })
      assert.same({
        id = "c2", status = "completed", direction = "inbound",
        duration = 120.5, recording_url = "https://r.example/c2.mp3",
        transcript = {{role = "unknown", text = "Hello, this is..."}},
        agent_id = "a1", retry_count = 0, from_number = "+15550001",
        to_number = "+15550002", custom_args_values = {callee_name = "John"},
      }, fields(rec))
    end)

    it("normalises an agent event payload", function()
      local rec = record.call({
        event_type = "call_completed", call_id = "c3", status = "retry",
        call_type = "webcall", called_on = "2026-02-03T09:12:40Z",
        transcript = {{bot = "Hi"}}, call_cost = 0.15, retry_count = 1,
        agent_name = "Agent", version_id = "v1", sub_status = "ACCEPTED",
      })
      assert.same({
        id = "c3", status = "retry", direction = "webcall",
        initiated_at = "2026-02-03T09:12:40Z",
        transcript = {{role = "bot", text = "Hi"}}, cost = 0.15,
        retry_count = 1, agent_name = "Agent", sub_status = "ACCEPTED",
      }, fields(rec))
    end)

    it("takes id before call_id and call_status before status", function()
      local rec = record.call({
        id = "one", call_id = "two", call_status = "ongoing", status = "x",
      })
      assert.equal("one", rec.id)
      assert.equal("ongoing", rec.status)
      assert.equal("two", record.call({call_id = "two"}).id)
    end)

    it("passes an unknown status through unchanged", function()
      assert.equal("Voicemail_Left",
        record.call({id = "c1", status = "Voicemail_Left"}).status)
    end)

    it("returns every count as an integer", function()
      local rec = record.call({id = "c1", retry = 2.0})
      assert.equal(2, rec.retry_count)
      assert.is_true(is_integer(rec.retry_count))
      rec = record.call({id = "c1", retry_count = "3"})
      assert.equal(3, rec.retry_count)
      assert.is_true(is_integer(rec.retry_count))
      rec = record.call(assert(cjson.decode('{"id":"c1","retry":0}')))
      assert.is_true(is_integer(rec.retry_count))
    end)

    it("drops a count that is not a whole non-negative number", function()
      assert.is_nil(record.call({id = "c1", retry = 1.5}).retry_count)
      assert.is_nil(record.call({id = "c1", retry = -1}).retry_count)
      assert.is_nil(record.call({id = "c1", retry = "many"}).retry_count)
    end)

    it("reads numbers given as strings and drops non-numbers", function()
      local rec = record.call({id = "c1", call_duration = "7.5",
                               call_cost = "0.25"})
      assert.equal(7.5, rec.duration)
      assert.equal(0.25, rec.cost)
      rec = record.call({id = "c1", call_duration = 0 / 0,
                         call_cost = math.huge})
      assert.is_nil(rec.duration)
      assert.is_nil(rec.cost)
    end)

    it("turns every JSON null into an absent field", function()
      local raw = {
        id = null, call_id = null, call_status = null, status = null,
        call_sub_status = null, call_direction = null, call_type = null,
        agent_id = null, agent_name = null, agent = null, callee_name = null,
        name = null, from_number = null, from_numbers = null, to_number = null,
        custom_args_values = null, initiated_at = null,
        initiation_time = null, called_on = null, created_at = null,
        call_duration = null, recording_url = null, audio_recording = null,
        transcript = null, transcription_url = null, call_cost = null,
        retry = null, retry_count = null, next_attempt_time = null,
        platform_analysis = null, client_analysis = null,
        analysis_data = null, analysis = null,
      }
      local rec = record.call(raw)
      assert.same({}, fields(rec))
      assert.equal(raw, rec.raw)
    end)

    it("falls back past a null to the other spelling", function()
      local rec = record.call({
        id = null, call_id = "c1", recording_url = null,
        audio_recording = "https://r.example/1.mp3",
        from_number = null, from_numbers = {"+15550002"},
      })
      assert.equal("c1", rec.id)
      assert.equal("https://r.example/1.mp3", rec.recording_url)
      assert.equal("+15550002", rec.from_number)
    end)

    it("drops nulls inside custom_args_values", function()
      local rec = record.call({
        id = "c1", custom_args_values = {a = "1", b = null},
      })
      assert.same({a = "1"}, rec.custom_args_values)
    end)

    it("treats empty strings and wrong types as absent", function()
      local rec = record.call({
        id = "", call_id = "c1", status = "", to_number = 15550001,
        custom_args_values = "callee_name=John", agent = "a1",
      })
      assert.same({id = "c1"}, fields(rec))
    end)

    it("leaves the input untouched", function()
      local data = load("call_details.json").data
      local before = deep_copy(data)
      record.call(data)
      assert.same(before, data)
    end)

    it("errors on a non-table", function()
      assert.has_error(function() record.call("c1") end,
        "bad argument #1 to 'call' (table expected, got string)")
      assert.has_error(function() record.call() end,
        "bad argument #1 to 'call' (table expected, got nil)")
    end)

  end)


  describe("call() analysis", function()

    it("reads platform_analysis and client_analysis", function()
      assert.same({platform = {summary = "s"}, client = {score = 3}},
        record.call({
          id = "c1", platform_analysis = {summary = "s"},
          client_analysis = {score = 3},
        }).analysis)
    end)

    it("files analysis_data under platform by default", function()
      assert.same({platform = {summary = "s"}}, record.call({
        id = "c1", event_type = "platform_analysis_completed",
        analysis_data = {summary = "s"},
      }).analysis)
    end)

    it("files analysis_data of a client event under client", function()
      assert.same({client = {score = 3}}, record.call({
        id = "c1", event_type = "client_analysis_completed",
        analysis_data = {score = 3, extra = null},
      }).analysis)
    end)

    it("splits an analysis that holds both parts", function()
      assert.same({platform = {summary = "s"}, client = {score = 3}},
        record.call({
          id = "c1", analysis = {
            platform_analysis = {summary = "s"},
            client_analysis = {score = 3},
          },
        }).analysis)
    end)

    it("files any other analysis under platform", function()
      assert.same({platform = {summary = "s"}}, record.call({
        id = "c1", analysis = {summary = "s"},
      }).analysis)
      assert.same({platform = "short text"}, record.call({
        id = "c1", analysis = "short text",
      }).analysis)
    end)

    it("keeps the named parts before analysis_data", function()
      assert.same({platform = {summary = "named"}}, record.call({
        id = "c1", platform_analysis = {summary = "named"},
        analysis_data = {summary = "data"},
      }).analysis)
    end)

  end)


  describe("strip_nulls()", function()

    it("returns a copy without nulls at any depth", function()
      local v = {a = null, b = {c = null, d = {1, null, 2}}, e = "x"}
      local out = record.strip_nulls(v)
      assert.same({b = {d = {1, 2}}, e = "x"}, out)
      assert.equal(null, v.a)
      assert.equal(null, v.b.d[2])
    end)

    it("closes up arrays", function()
      local out = record.strip_nulls({null, "a", null, "b"})
      assert.same({"a", "b"}, out)
      assert.equal(2, #out)
    end)

    it("returns non-tables as they are and null as nil", function()
      assert.equal("x", record.strip_nulls("x"))
      assert.equal(3, record.strip_nulls(3))
      assert.is_false(record.strip_nulls(false))
      assert.is_nil(record.strip_nulls(null))
    end)

  end)


end)
