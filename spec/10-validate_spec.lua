-- Validation of call parameters: every rule of design.md's table, valid
-- and invalid, with the exact field paths and messages.

local ringg = require "ringg"

local AGENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
local POOL = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"
local REMOVE = {}  -- marks a field to leave out

-- A valid call with the given changes applied (nested tables replace).
local function params(changes)
  local p = {
    name = "Mr Rajesh Kumar",
    mobile_number = "+919876543210",
    agent_id = AGENT,
    number_pool_id = POOL,
  }
  for k, v in pairs(changes or {}) do
    if v == REMOVE then p[k] = nil else p[k] = v end
  end
  return p
end

-- The problems validate() reports, as "field: message" lines.
local function problems(p)
  local ok, err = ringg.validate(p)
  if ok then return {} end
  assert.are.equal("invalid", err.kind)
  local lines = {}
  for i, e in ipairs(err.errors) do
    lines[i] = e.field .. ": " .. e.message
  end
  return lines
end

local function accepts(changes)
  local ok, err = ringg.validate(params(changes))
  assert.is_nil(err)
  assert.is_true(ok)
end

local function rejects(changes, expected)
  assert.are.same(expected, problems(params(changes)))
end


describe("ringg.validate()", function()

  it("accepts the call of the README", function()
    accepts{
      custom_args_values = { company_name = "XYZ Corp",
                             appointment_date = "2025-01-20" },
      smart_formatter = { extract_first_name = true, transliteration = true,
        transliteration_language = { source = "en", target = "hi" } },
      call_config = { max_call_length = 300,
                      call_time = { timezone = "Asia/Kolkata" } },
      callback_url = "https://example.com/ringg/callback",
    }
  end)


  it("returns an error of kind invalid that sent nothing", function()
    local ok, err = ringg.validate(params{ name = REMOVE })
    assert.is_nil(ok)
    assert.are.equal("invalid", err.kind)
    assert.is_false(err.sent)
    assert.is_false(err.retryable)
    assert.are.equal("invalid call: name: required field is missing",
                     err.message)
    assert.are.equal("ringg: invalid: invalid call: name: required field "
                     .. "is missing", tostring(err))
  end)


  it("reports every problem at once, in schema order", function()
    local ok, err = ringg.validate{ agent_id = "nope", mobile_number = "1" }
    assert.is_nil(ok)
    assert.are.same({
      "name: required field is missing",
      "mobile_number: expected an E.164 number (+ and 7 to 15 digits), "
        .. "got \"1\"",
      "agent_id: expected a UUID (8-4-4-4-12 hex digits), got \"nope\"",
      "number_pool_id: required: give one of number_pool_id, "
        .. "from_number_id or from_number",
    }, problems{ agent_id = "nope", mobile_number = "1" })
    assert.are.equal("invalid call: name: required field is missing (and 3 "
                     .. "more problems)", err.message)
  end)


  it("raises when params is not a table", function()
    assert.has_error(function() ringg.validate("x") end)
    assert.has_error(function() ringg.validate(nil) end)
  end)


  describe("name", function()
    it("accepts UTF-8 names up to 256 bytes", function()
      accepts{ name = "राजेश कुमार" }
      accepts{ name = ("a"):rep(256) }
    end)

    it("rejects blank, long, non-UTF-8 and control characters", function()
      rejects({ name = "" }, { "name: expected text, got \"\"" })
      rejects({ name = "  \t" }, { "name: expected text, got only spaces" })
      rejects({ name = ("a"):rep(257) },
              { "name: expected at most 256 bytes, got 257" })
      rejects({ name = "Ra\xffjesh" },
              { "name: expected UTF-8 text, got byte 0xFF at position 3" })
      rejects({ name = "\xed\xa0\x80" },  -- a UTF-16 surrogate
              { "name: expected UTF-8 text, got byte 0xED at position 1" })
      rejects({ name = "\xc0\xaf" },  -- overlong
              { "name: expected UTF-8 text, got byte 0xC0 at position 1" })
      rejects({ name = "Raj\nesh" }, { "name: expected no control "
              .. "characters, got byte 0x0A at position 4" })
      rejects({ name = 42 }, { "name: expected a string, got the number 42" })
    end)
  end)


  describe("mobile_number", function()
    it("accepts E.164: + then 7 to 15 digits, the first not 0", function()
      accepts{ mobile_number = "+1234567" }
      accepts{ mobile_number = "+123456789012345" }
    end)

    it("suggests removing spaces", function()
      rejects({ mobile_number = "+91 98765 43210" }, {
        "mobile_number: expected an E.164 number (+ and 7 to 15 digits), "
          .. "got \"+91 98765 43210\"; remove spaces: +919876543210" })
    end)

    it("suggests removing other separators", function()
      rejects({ mobile_number = "+1 (555) 010-0123" }, {
        "mobile_number: expected an E.164 number (+ and 7 to 15 digits), "
          .. "got \"+1 (555) 010-0123\"; remove separators: +15550100123" })
    end)

    it("suggests + for a 00 prefix and a country code for none", function()
      rejects({ mobile_number = "00919876543210" }, {
        "mobile_number: expected an E.164 number (+ and 7 to 15 digits), "
          .. "got \"00919876543210\"; write + instead of 00: "
          .. "+919876543210" })
      rejects({ mobile_number = "9876543210" }, {
        "mobile_number: expected an E.164 number (+ and 7 to 15 digits), "
          .. "got \"9876543210\"; start with + and the country code" })
    end)

    it("rejects too short, too long and a leading 0", function()
      local what = "mobile_number: expected an E.164 number (+ and 7 to 15 "
        .. "digits), got "
      rejects({ mobile_number = "+123456" }, { what .. "\"+123456\"" })
      rejects({ mobile_number = "+1234567890123456" },
              { what .. "\"+1234567890123456\"" })
      rejects({ mobile_number = "+0123456789" }, { what .. "\"+0123456789\"" })
      rejects({ mobile_number = REMOVE },
              { "mobile_number: required field is missing" })
    end)
  end)


  describe("agent_id, version_id, parent_call_id", function()
    it("accept UUIDs in either case", function()
      accepts{ agent_id = AGENT:upper(), version_id = AGENT,
               parent_call_id = "550e8400-e29b-41d4-a716-446655440000" }
    end)

    it("reject other text, and suggest dashes", function()
      rejects({ agent_id = "830f767a397e4b3982ff235cd344e2f9" }, {
        "agent_id: expected a UUID (8-4-4-4-12 hex digits), got "
          .. "\"830f767a397e4b3982ff235cd344e2f9\"; add dashes: " .. AGENT })
      rejects({ version_id = "830f767a-397e-4b39-82ff-235cd344e2fg" }, {
        "version_id: expected a UUID (8-4-4-4-12 hex digits), got "
          .. "\"830f767a-397e-4b39-82ff-235cd344e2fg\"" })
      rejects({ parent_call_id = true }, {
        "parent_call_id: expected a string, got true" })
    end)
  end)


  describe("caller source", function()
    local none = { number_pool_id = REMOVE }

    it("accepts exactly one of the three", function()
      accepts{}
      accepts{ number_pool_id = REMOVE, from_number_id = "num-1" }
      accepts{ number_pool_id = REMOVE, from_number = "+15550100123" }
    end)

    it("accepts lists of ids and numbers", function()
      accepts{ number_pool_id = REMOVE, from_number_id = { "a", "b" } }
      accepts{ number_pool_id = REMOVE,
               from_number = { "+15550100123", "+15550100124" } }
    end)

    it("rejects none", function()
      rejects(none, { "number_pool_id: required: give one of "
        .. "number_pool_id, from_number_id or from_number" })
    end)

    it("rejects more than one", function()
      rejects({ from_number = "+15550100123" }, { "from_number: give only "
        .. "one of number_pool_id, from_number_id and from_number, got 2" })
      rejects({ from_number_id = "x", from_number = "+15550100123" }, {
        "from_number_id: give only one of number_pool_id, from_number_id "
          .. "and from_number, got 3" })
    end)

    it("rejects bad ids, empty lists and duplicates", function()
      rejects({ number_pool_id = "" }, { "number_pool_id: expected an id "
        .. "(1 to 128 printable characters, no spaces), got \"\"" })
      rejects({ number_pool_id = ("p"):rep(129) }, { "number_pool_id: "
        .. "expected an id (1 to 128 printable characters, no spaces), got "
        .. "\"" .. ("p"):rep(40) .. "\"..." })
      rejects({ number_pool_id = REMOVE, from_number_id = {} }, {
        "from_number_id: expected a non-empty list, got an empty table" })
      rejects({ number_pool_id = REMOVE, from_number_id = { "a", "a" } }, {
        "from_number_id[2]: duplicate of entry [1]" })
      rejects({ number_pool_id = REMOVE, from_number = { "+15550100123",
        "555" } }, { "from_number[2]: expected an E.164 number (+ and 7 to "
        .. "15 digits), got \"555\"" })
      rejects({ number_pool_id = REMOVE, from_number = { x = 1 } }, {
        "from_number: expected a non-empty list, got a table with other "
          .. "keys" })
    end)
  end)


  describe("custom_args_values", function()
    it("accepts strings, finite numbers and booleans", function()
      accepts{ custom_args_values = { a = "x", b = 1, c = 2.5, d = false,
                                      _e9 = "", ["x" .. ("y"):rep(63)] = 1 } }
      accepts{ custom_args_values = {} }
    end)

    it("rejects bad names, nested tables and other values", function()
      rejects({ custom_args_values = { ["9a"] = 1, ["a-b"] = 2,
                                       [("z"):rep(65)] = 3 } }, {
        "custom_args_values.9a: expected a variable name of letters, "
          .. "digits and _ (not starting with a digit, at most 64 bytes)",
        "custom_args_values.a-b: expected a variable name of letters, "
          .. "digits and _ (not starting with a digit, at most 64 bytes)",
        "custom_args_values." .. ("z"):rep(65) .. ": expected a variable "
          .. "name of letters, digits and _ (not starting with a digit, at "
          .. "most 64 bytes)",
      })
      rejects({ custom_args_values = { a = { 1 }, b = print, c = 1 / 0,
                                       d = "\xff" } }, {
        "custom_args_values.a: expected a string, number or boolean, got a "
          .. "table (nested tables are not allowed)",
        "custom_args_values.b: expected a string, number or boolean, got a "
          .. "function",
        "custom_args_values.c: expected a finite number, got infinity",
        "custom_args_values.d: expected UTF-8 text, got byte 0xFF at "
          .. "position 1",
      })
    end)

    it("rejects a list", function()
      rejects({ custom_args_values = { "a" } }, { "custom_args_values: "
        .. "expected a table of named fields, got a list" })
    end)
  end)


  describe("smart_formatter", function()
    it("accepts its three fields", function()
      accepts{ smart_formatter = { extract_first_name = false,
        transliteration = true,
        transliteration_language = { source = "en", target = "hin" } } }
    end)

    it("rejects other types, codes and fields", function()
      rejects({ smart_formatter = { extract_first_name = "yes",
        transliteration_language = { source = "EN", target = "h" },
        translit = true } }, {
        "smart_formatter.extract_first_name: expected true or false, got "
          .. "\"yes\"",
        "smart_formatter.transliteration_language.source: expected a "
          .. "language code of 2 or 3 lower-case letters, got \"EN\"",
        "smart_formatter.transliteration_language.target: expected a "
          .. "language code of 2 or 3 lower-case letters, got \"h\"",
        "smart_formatter.translit: unknown field 'translit' (did you mean "
          .. "'transliteration'?)",
      })
    end)
  end)


  describe("call_config", function()
    it("accepts the documented example", function()
      accepts{ call_config = {
        idle_timeout_warning = 10, idle_timeout_end = 15,
        max_call_length = 300,
        call_retry_config = { retry_count = 3, retry_busy = 30,
                              retry_not_picked = 30, retry_failed = 0 },
        call_time = { call_start_time = "08:00", call_end_time = "20:00",
                      timezone = "Asia/Kolkata",
                      scheduled_at = "2025-11-24T01:55:00" } } }
    end)

    it("accepts date-times with seconds, fractions and offsets", function()
      for _, when in ipairs{ "2024-02-29T23:59", "2025-01-01T00:00:59.5Z",
                             "2025-06-30T12:00:00+05:30",
                             "2025-06-30T12:00-08:00" } do
        accepts{ call_config = { call_time = { scheduled_at = when } } }
      end
      accepts{ call_config = { call_time = { timezone = "UTC" } } }
      accepts{ call_config = { call_time = {
        timezone = "America/Argentina/Buenos_Aires" } } }
    end)

    it("rejects numbers that are not positive whole seconds", function()
      rejects({ call_config = { idle_timeout_warning = 0,
        max_call_length = 2.5,
        call_retry_config = { retry_count = -1 } } }, {
        "call_config.idle_timeout_warning: expected a positive whole number "
          .. "of seconds, got the number 0",
        "call_config.max_call_length: expected a positive whole number of "
          .. "seconds, got the number 2.5",
        "call_config.call_retry_config.retry_count: expected a whole number "
          .. ">= 0, got the number -1",
      })
    end)

    it("wants idle_timeout_end after idle_timeout_warning", function()
      rejects({ call_config = { idle_timeout_warning = 10,
                                idle_timeout_end = 10 } }, {
        "call_config.idle_timeout_end: expected more than "
          .. "idle_timeout_warning (10), got 10" })
    end)

    it("rejects bad times, zones and dates", function()
      local when = "call_config.call_time.scheduled_at: expected a date and "
        .. "time \"YYYY-MM-DDTHH:MM[:SS]\" with an optional Z or +HH:MM, got "
      rejects({ call_config = { call_time = { call_start_time = "8:00",
        call_end_time = "24:00", timezone = "Kolkata" } } }, {
        "call_config.call_time.call_start_time: expected a 24-hour time "
          .. "\"HH:MM\", got \"8:00\"",
        "call_config.call_time.call_end_time: expected a 24-hour time "
          .. "\"HH:MM\", got \"24:00\"",
        "call_config.call_time.timezone: expected an IANA time zone such as "
          .. "\"Asia/Kolkata\" or \"UTC\", got \"Kolkata\"",
      })
      for _, bad in ipairs{ "2025-02-29T10:00", "2025-13-01T10:00",
                            "2025-04-31T10:00", "2025-01-01 10:00",
                            "2025-01-01T10:00:60", "2025-01-01T10:00+5:30",
                            "2025-01-01T10:00:00.Z", "2025-01-01" } do
        rejects({ call_config = { call_time = { scheduled_at = bad } } },
                { when .. ("%q"):format(bad) })
      end
    end)
  end)


  describe("voice_id and call_category", function()
    it("accept an id and a short label", function()
      accepts{ voice_id = "voice-uuid-here", call_category = "renewal reminder" }
    end)

    it("reject blank and long labels", function()
      rejects({ call_category = " " },
              { "call_category: expected text, got only spaces" })
      rejects({ call_category = ("c"):rep(65) },
              { "call_category: expected at most 64 bytes, got 65" })
      rejects({ voice_id = "a b" }, { "voice_id: expected an id (1 to 128 "
        .. "printable characters, no spaces), got \"a b\"" })
    end)
  end)


  describe("callback_url and callback_args", function()
    it("accept an http(s) URL and flat headers and params", function()
      accepts{ callback_url = "HTTPS://user@example.com:8443/cb?x=1#f",
               callback_args = {
                 headers = { ["X-API-Key"] = "sk_coffee",
                             ["Content-Type"] = "application/json" },
                 params = { source = "api", version = 1, debug = true } } }
      accepts{ callback_url = "http://127.0.0.1:9/hook" }
    end)

    it("reject other schemes, no host, spaces and long URLs", function()
      local what = "callback_url: expected an absolute http:// or https:// "
        .. "URL with a host and no spaces, got "
      for _, bad in ipairs{ "ftp://x", "https://", "https:///path",
                            "https://a b", "/relative", "https://:80/" } do
        rejects({ callback_url = bad }, { what .. ("%q"):format(bad) })
      end
      rejects({ callback_url = "https://x/" .. ("a"):rep(2040) },
              { "callback_url: expected at most 2048 bytes, got 2050" })
    end)

    it("refuse header names that are not tokens and CR/LF/NUL", function()
      rejects({ callback_args = { headers = { ["Bad Name"] = "v",
        ["X-A"] = "a\r\nInjected: 1", ["X-B"] = "a\0b", ["X-C"] = 1 } } }, {
        "callback_args.headers.Bad Name: expected a header name (an HTTP "
          .. "token: letters, digits and !#$%&'*+-.^_`|~)",
        "callback_args.headers.X-A: expected a header value without CR, LF "
          .. "or NUL, got one with CR at byte 2",
        "callback_args.headers.X-B: expected a header value without CR, LF "
          .. "or NUL, got one with NUL at byte 2",
        "callback_args.headers.X-C: expected a string, got the number 1",
      })
    end)

    it("reject nested params and unknown parts", function()
      rejects({ callback_args = { params = { a = {} }, query = {} } }, {
        "callback_args.params.a: expected a string, number or boolean, got "
          .. "a table (nested tables are not allowed)",
        "callback_args.query: unknown field 'query'",
      })
    end)
  end)


  describe("extra_body", function()
    it("accepts new fields", function()
      accepts{ extra_body = { new_flag = true, nested = { a = { 1, 2 } } } }
    end)

    it("may not override a validated field", function()
      rejects({ extra_body = { mobile_number = "+15550100123" } }, {
        "extra_body.mobile_number: extra_body may not override "
          .. "'mobile_number': set it directly" })
    end)

    it("refuses values JSON cannot hold and deep nesting", function()
      local deep = {}
      local t = deep
      for _ = 1, 40 do t.next = {} t = t.next end
      local lines = problems(params{ extra_body = { f = print, d = deep } })
      assert.are.equal(2, #lines)
      assert.matches("^extra_body%.d%.next%.next.*: expected at most 32 "
                     .. "nested tables$", lines[1])
      assert.are.equal("extra_body.f: expected a string, number, boolean, "
        .. "table or cjson.null, got a function", lines[2])
    end)
  end)


  describe("unknown fields", function()
    it("are errors at every level, with suggestions", function()
      rejects({ agnet_id = AGENT, callback = "x" }, {
        "agnet_id: unknown field 'agnet_id' (did you mean 'agent_id'?)",
        "callback: unknown field 'callback' (did you mean 'callback_url'?)",
      } )
    end)

    it("point prompt variables to custom_args_values", function()
      rejects({ callee_nme = "x", order_id = "1" }, {
        "callee_nme: unknown field 'callee_nme' (did you mean "
          .. "'callee_name'? prompt variables go in custom_args_values)",
        "order_id: unknown field 'order_id' (prompt variables go in "
          .. "custom_args_values)",
      })
    end)

    it("report list entries and other keys", function()
      local lines = problems(params{ [1] = "y", [true] = 1 })
      table.sort(lines)
      assert.are.same({
        ": expected named fields only, got a key of type boolean",
        "[1]: expected named fields only, got a list entry",
      }, lines)
    end)
  end)


  it("does not run metamethods of the caller's tables", function()
    local touched = false
    local p = setmetatable(params{}, { __index = function()
      touched = true
    end })
    accepts{}
    assert.is_true((ringg.validate(p)))
    assert.is_false(touched)
  end)
end)
