-- Request assembly: client:prepare gives the exact request, and the JSON
-- body is exact (escapes, UTF-8, integers, floats, field order).

local cjson = require "cjson"
local ringg = require "ringg"

local AGENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
local KEY = "sentinel-key-4d1c9e"
local BASE = "http://127.0.0.1:9/ca/api/v0"
local HAS_INTEGERS = math.type ~= nil

local function client()
  return ringg.new{ api_key = KEY, base_url = BASE }
end

local function call_with(fields)
  local p = { name = "Asha", mobile_number = "+919876543210",
              agent_id = AGENT, number_pool_id = "pool-1" }
  for k, v in pairs(fields or {}) do p[k] = v end
  return p
end

local function body_of(fields)
  local c = client()
  local req, err = c:prepare(call_with(fields))
  c:close()
  assert.is_nil(err)
  return req.body
end


describe("client:prepare()", function()

  it("returns method, url, headers, body and timeout", function()
    local c = ringg.new{ api_key = KEY, base_url = BASE .. "/",
                         user_agent = "campaign/2", timeout = 12 }
    local req = assert(c:prepare(call_with()))
    c:close()
    assert.are.equal("POST", req.method)
    assert.are.equal(BASE .. "/calling/v2/outbound/individual", req.url)
    assert.are.same({
      ["X-API-KEY"] = KEY,
      ["Content-Type"] = "application/json",
      ["Accept"] = "application/json",
      ["User-Agent"] = "lua-ringg/" .. ringg.VERSION .. " campaign/2",
    }, req.headers)
    assert.are.equal(12, req.timeout)
    assert.are.equal('{"name":"Asha","mobile_number":"+919876543210",'
      .. '"agent_id":"' .. AGENT .. '","number_pool_id":"pool-1"}', req.body)
  end)


  it("writes only the fields given, in schema order", function()
    local body = body_of{
      callback_args = { params = { b = 2, a = "1" } },
      callback_url = "https://example.com/cb",
      call_config = { call_time = { timezone = "UTC",
                                    call_start_time = "08:00" },
                      max_call_length = 60 },
      custom_args_values = { zeta = "z", alpha = "a" },
      smart_formatter = { transliteration = true },
      voice_id = "v1",
    }
    assert.are.equal('{"name":"Asha","mobile_number":"+919876543210",'
      .. '"agent_id":"' .. AGENT .. '","number_pool_id":"pool-1",'
      .. '"custom_args_values":{"alpha":"a","zeta":"z"},'
      .. '"smart_formatter":{"transliteration":true},'
      .. '"call_config":{"max_call_length":60,"call_time":'
      .. '{"call_start_time":"08:00","timezone":"UTC"}},'
      .. '"voice_id":"v1","callback_url":"https://example.com/cb",'
      .. '"callback_args":{"params":{"a":"1","b":2}}}', body)
  end)


  it("escapes strings as RFC 8259 wants and keeps UTF-8", function()
    local text = 'quote " backslash \\ slash / tab \t nl \n cr \r '
      .. 'bs \b ff \f nul \0 esc \27 del \127 हिन्दी 😀'
    local body = body_of{ custom_args_values = { note = text } }
    assert.matches('"note":"quote \\" backslash \\\\ slash / tab \\t nl '
      .. '\\n cr \\r bs \\b ff \\f nul \\u0000 esc \\u001b del \127 हिन्दी '
      .. '😀"', body, 1, true)
    assert.are.equal(text, cjson.decode(body).custom_args_values.note)
  end)


  it("prints integers exactly and floats that read back", function()
    local values = { small = 7, negative = -42, zero = 0, float = 0.1,
                     third = 1 / 3, tiny = 5e-324, large_float = 1.5e300 }
    if HAS_INTEGERS then
      values.big = math.tointeger(1234567890123456789)
      values.max = math.maxinteger
      values.min = math.mininteger
    end
    values.exact = 2 ^ 53  -- an integral float: no exponent, every digit
    local body = body_of{ custom_args_values = values }
    assert.matches('"small":7', body, 1, true)
    assert.matches('"negative":-42', body, 1, true)
    assert.matches('"exact":9007199254740992', body, 1, true)
    assert.matches('"float":0.1,', body, 1, true)
    local decoded = cjson.decode(body).custom_args_values
    for _, name in ipairs{ "float", "third", "tiny", "large_float" } do
      assert.are.equal(values[name], decoded[name])
    end
    if HAS_INTEGERS then
      assert.matches('"big":1234567890123456789', body, 1, true)
      assert.matches('"max":9223372036854775807', body, 1, true)
      assert.matches('"min":-9223372036854775808', body, 1, true)
    end
  end)


  it("round-trips every field through cjson.decode", function()
    local params = call_with{
      custom_args_values = { company_name = "XYZ Corp", n = 3, ok = true },
      smart_formatter = { extract_first_name = true, transliteration = true,
        transliteration_language = { source = "en", target = "hi" } },
      call_config = { idle_timeout_warning = 10, idle_timeout_end = 15,
        max_call_length = 300,
        call_retry_config = { retry_count = 3, retry_busy = 30,
                              retry_not_picked = 30, retry_failed = 30 },
        call_time = { call_start_time = "08:00", call_end_time = "20:00",
                      timezone = "Asia/Kolkata",
                      scheduled_at = "2025-11-24T01:55:00" } },
      callback_url = "https://example.com/cb",
      callback_args = { headers = { ["X-Token"] = "t" },
                        params = { source = "api" } },
      call_category = "renewal_reminder", version_id = AGENT,
    }
    assert.are.same(params, cjson.decode(body_of(params)))
  end)


  it("merges extra_body after the checked fields", function()
    local body = body_of{ extra_body = { zz = { 1, "two", false },
      aa = cjson.null, mm = {} } }
    local tail = ',"aa":null,"mm":{},"zz":[1,"two",false]}'
    assert.are.equal(tail, body:sub(-#tail))
  end)


  it("sends from_number lists as JSON arrays", function()
    local c = client()
    local req = assert(c:prepare{ name = "Asha", agent_id = AGENT,
      mobile_number = "+919876543210",
      from_number = { "+15550100123", "+15550100124" } })
    c:close()
    assert.matches('"from_number":["+15550100123","+15550100124"]}',
                   req.body, 1, true)
  end)


  it("returns nil and the validation error for bad params", function()
    local c = client()
    local req, err = c:prepare(call_with{ mobile_number = "12" })
    c:close()
    assert.is_nil(req)
    assert.are.equal("invalid", err.kind)
    assert.are.equal("mobile_number", err.errors[1].field)
  end)
end)


describe("ringg.new()", function()

  it("raises on programmer mistakes", function()
    local function new_error(opts)
      local ok, err = pcall(ringg.new, opts)
      assert.is_false(ok)
      return err
    end
    assert.matches("option 'api_key' is required",
                   new_error{ base_url = BASE })
    assert.matches("api_key must be a non%-empty string without spaces",
                   new_error{ api_key = "a b" })
    assert.matches("api_key must be", new_error{ api_key = "a\r\nX: y" })
    assert.matches("option 'api_key' must be a string",
                   new_error{ api_key = 42 })
    assert.matches("base_url must be an http:// or https:// URL",
                   new_error{ api_key = KEY, base_url = "ftp://x" })
    assert.matches("option 'timeout' must be a number of seconds > 0",
                   new_error{ api_key = KEY, timeout = 0 })
    assert.matches("option 'connect_timeout' must be",
                   new_error{ api_key = KEY, connect_timeout = -1 })
    assert.matches("user_agent must not contain control characters",
                   new_error{ api_key = KEY, user_agent = "x\ny" })
    assert.matches("unknown option 'timout' %(did you mean 'timeout'%?%)",
                   new_error{ api_key = KEY, timout = 1 })
    assert.matches("option 'transport' must be a function",
                   new_error{ api_key = KEY, transport = 1 })
    assert.matches("max_in_flight", new_error{ api_key = KEY,
                                               max_in_flight = 0 })
  end)


  it("accepts plain http only for loopback hosts", function()
    for _, url in ipairs{ "http://127.0.0.1:8080/x", "http://127.9.9.9/",
                          "http://localhost:1/api", "http://[::1]:80/",
                          "HTTP://LOCALHOST", "https://api.example.com" } do
      ringg.new{ api_key = KEY, base_url = url }:close()
    end
    for _, url in ipairs{ "http://example.com/", "http://128.0.0.1/",
                          "http://127.0.0.1.evil.com/",
                          "http://localhost.evil.com/",
                          "http://user@10.0.0.1/" } do
      local ok, err = pcall(ringg.new, { api_key = KEY, base_url = url })
      assert.is_false(ok, url)
      assert.matches("plain http:// is allowed only for loopback hosts",
                     err)
    end
  end)


  it("has the version and the default base URL", function()
    assert.matches("^%d+%.%d+%.%d+$", ringg.VERSION)
    assert.are.equal(ringg.VERSION, ringg._VERSION)
    assert.are.equal("https://prod-api.ringg.ai/ca/api/v0",
                     ringg.DEFAULT_BASE_URL)
  end)
end)


describe("client:close()", function()

  it("is idempotent and shows in tostring, which hides the key", function()
    local c = client()
    assert.matches("^ringg client %(0x%x+%)$", tostring(c))
    assert.is_nil(tostring(c):find(KEY, 1, true))
    c:close()
    c:close()
    assert.are.equal("ringg client (closed)", tostring(c))
  end)


  it("makes later use an error", function()
    local c = client()
    c:close()
    assert.has_error(function() c:prepare(call_with()) end,
                     "attempt to use a closed client")
  end)


  if _VERSION == "Lua 5.4" then
    it("runs at the end of a <close> block", function()
      local chunk = assert(load([[
        local ringg, opts = ...
        local kept
        do
          local c <close> = ringg.new(opts)
          kept = c
        end
        return tostring(kept)
      ]]))
      assert.are.equal("ringg client (closed)",
                       chunk(ringg, { api_key = KEY, base_url = BASE }))
    end)
  end
end)
