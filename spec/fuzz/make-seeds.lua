-- Writes the seed corpora of the fuzz targets under spec/fuzz/corpus/:
-- real calls (encoded in fuzz_prepare.c's operation format), the reply
-- shapes Ringg documents (in fuzz_reply.c's layout) and the webhook
-- fixtures. Run from the top of the tree: lua5.4 spec/fuzz/make-seeds.lua
-- (`make fuzz-seeds`). The corpora are kept in the tree; rerun this when
-- the formats or the documented shapes change.

local cjson = require "cjson"

local char, pack, format = string.char, string.pack, string.format
local concat, sort = table.concat, table.sort

local DIR = "spec/fuzz/corpus/"
local AGENT = "830f767a-397e-4b39-82ff-235cd344e2f9"
local POOL = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"


local function write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end


--
-- fuzz_prepare: parameters tables as operations
--

local OPEN, CLOSE, STRING, INTEGER, SMALL, FLOAT, BOOLEAN, NULL, WHOLE =
  0, 1, 2, 4, 5, 6, 7, 8, 13

-- A key: an integer 1..64 is one byte; a string is 192, its length, its
-- bytes.
local function key(k)
  if math.type(k) == "integer" and k >= 1 and k <= 64 then
    return char(127 + k)
  end
  assert(type(k) == "string" and #k < 256, "key out of the format")
  return char(192, #k) .. k
end


local encode


local function encode_value(out, k, v)
  if type(v) == "table" then
    out[#out + 1] = char(OPEN) .. key(k)
    encode(out, v)
    out[#out + 1] = char(CLOSE)
  elseif v == cjson.null then
    out[#out + 1] = char(NULL) .. key(k)
  elseif type(v) == "string" then
    assert(#v < 256, "string out of the format")
    out[#out + 1] = char(STRING) .. key(k) .. char(#v) .. v
  elseif type(v) == "boolean" then
    out[#out + 1] = char(BOOLEAN) .. key(k) .. char(v and 1 or 0)
  elseif math.type(v) == "integer" and v >= -128 and v <= 127 then
    out[#out + 1] = char(SMALL) .. key(k) .. char(v % 256)
  elseif math.type(v) == "integer" then
    out[#out + 1] = char(INTEGER) .. key(k) .. pack("<i8", v)
  elseif v == math.floor(v) and v >= -128 and v <= 127 then
    out[#out + 1] = char(WHOLE) .. key(k) .. char(math.floor(v) % 256)
  else
    out[#out + 1] = char(FLOAT) .. key(k) .. pack("<d", v)
  end
end


-- Keys in a fixed order, so the seeds do not change from run to run.
function encode(out, t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, function(a, b)
    if type(a) ~= type(b) then return type(a) < type(b) end
    return a < b
  end)
  for _, k in ipairs(keys) do encode_value(out, k, t[k]) end
end


-- A valid call to the sandbox's fixtures, changed by 'extra' (false
-- removes a field).
local function call(extra)
  local p = {
    name = "Asha Verma", mobile_number = "+919876543210",
    agent_id = AGENT, number_pool_id = POOL,
    custom_args_values = { company_name = "XYZ Corp",
                           appointment_date = "2025-01-20" },
  }
  for k, v in pairs(extra or {}) do
    if v == false then p[k] = nil else p[k] = v end
  end
  return p
end


local function nested(levels)
  local t = { leaf = "x" }
  for i = 1, levels do t = { ["level" .. i] = t, list = { 1, 2.5 } } end
  return t
end


local CALLS = {
  minimal = call(),
  full = call{
    smart_formatter = { extract_first_name = true, transliteration = true,
      transliteration_language = { source = "en", target = "hi" } },
    call_config = { idle_timeout_warning = 10, idle_timeout_end = 20,
      max_call_length = 300,
      call_retry_config = { retry_count = 2, retry_busy = 5,
                            retry_not_picked = 10, retry_failed = 0 },
      call_time = { call_start_time = "09:30", call_end_time = "18:00",
                    timezone = "Asia/Kolkata",
                    scheduled_at = "2025-01-20T10:00:00+05:30" } },
    voice_id = "voice-7", call_category = "reminders",
    version_id = "5d7cdc09-1111-4a2b-9c3d-0123456789ab",
    parent_call_id = "a31f36c4-c8ea-4c4b-9ad6-743dabacafbd",
    callback_url = "https://example.com/ringg/callback?x=1",
    callback_args = { headers = { ["X-Token"] = "secret-1" },
                      params = { campaign = "spring", batch = 7,
                                 test = false } },
  },
  from_numbers = call{ number_pool_id = false,
    from_number = { "+12025550141", "+12025550142" } },
  from_number_ids = call{ number_pool_id = false,
    from_number_id = { "5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a91" } },
  numbers_in_args = call{ custom_args_values = {
    count = 42, big = 9007199254740993, ratio = 0.1, whole = 3.0,
    negative = -17, yes = true, unicode = "\u{e9}t\u{e9} \u{65e5}",
    quote = "a\"b\\c\n" } },
  extra_body = call{ extra_body = { campaign_tag = "spring",
    meta = nested(6), flags = { true, false, cjson.null } } },
  mistakes = {
    name = " ", mobile_number = "+91 98765 43210", agent_id =
    "830f767a397e4b3982ff235cd344e2f9", nmae = "x", company_name = "y",
    from_number = { "+12025550141", "+12025550141" },
    number_pool_id = POOL, callback_url = "ftp://example.com",
    call_config = { idle_timeout_warning = 30, idle_timeout_end = 10,
                    call_time = { call_start_time = "24:00",
                                  scheduled_at = "2023-02-29T10:00" } },
  },
}


--
-- fuzz_reply: mode byte, status line, header lines, body
--

local MODE = { call = 0, read = 1, write = 2 }

local function reply(mode, status, headers, body)
  local lines = { char(MODE[mode]) .. status }
  for _, h in ipairs(headers) do lines[#lines + 1] = h end
  lines[#lines + 1] = ""
  return concat(lines, "\r\n") .. "\r\n" .. (body or "")
end

local JSON = "content-type: application/json"

local REPLIES = {
  call_ok = reply("call", "200", { JSON, "x-request-id: req-1" },
    '{"status":"success","data":{"call_id":"c-1","call_direction":'
    .. '"outbound","call_status":"registered","initiated_at":'
    .. '"2025-01-20T10:00:00.123456","agent_id":"' .. AGENT .. '",'
    .. '"custom_args_values":{"company_name":"XYZ"}},'
    .. '"message":"Call initiated successfully"}'),
  call_legacy = reply("call", "200", { JSON },
    '{"Call Status":"Call initiated","data":{"Unique Call ID":"c-2",'
    .. '"From Number":"+12025550141","To Number":"+919876543210",'
    .. '"Agent ID":"' .. AGENT .. '","Call Direction":"outbound"}}'),
  call_refused_in_200 = reply("call", "200", { JSON },
    '{"status":"error","message":"agent not found"}'),
  unprocessable = reply("call", "422", { JSON },
    '{"detail":[{"loc":["body","mobile_number"],"msg":"expected an '
    .. 'E.164 number","type":"value_error"},{"loc":["body",'
    .. '"from_number",1],"msg":"duplicate"}]}'),
  unauthorized = reply("read", "401", { JSON },
    '{"detail":"Invalid or missing API key"}'),
  credits = reply("call", "402", { JSON },
    '{"detail":"Insufficient credits"}'),
  rate_limited = reply("call", "429", { JSON, "Retry-After: 2" },
    '{"detail":"Rate limit exceeded"}'),
  rate_limited_ms = reply("read", "429", { "retry-after-ms: 1500" }, ""),
  unavailable = reply("read", "503",
    { "Retry-After: Wed, 21 Oct 2037 07:28:00 GMT", "X-Request-Id: r",
      "X-Request-Id: r2" }, '{"error":{"message":"down"}}'),
  server = reply("write", "500", { JSON },
    '{"detail":"Internal server error"}'),
  redirect = reply("call", "302", { "Location: http://127.0.0.2/x" }, ""),
  malformed = reply("call", "200", { JSON },
    '{"status":"success","data":{"call_id":'),
  not_object = reply("read", "200", { JSON }, "[1,2,3]"),
  no_content = reply("write", "204", {}, ""),
  no_body = char(MODE.read) .. "200\r\nx: y\r\n",
  history = reply("read", "200", { JSON },
    '{"calls":[{"id":"c-3","call_status":"completed","transcript":'
    .. '"[{\\"bot\\": \\"Hi\\"}]","created_at":"2025-01-20T10:00:00'
    .. '+00:00"}],"limit":10,"offset":0,"count":1,"total":1}'),
  odd_status = char(MODE.call) .. "=" .. pack("<d", 404.5) .. "\n\n{}",
}


local function main()
  for _, target in ipairs{ "prepare", "reply", "webhook" } do
    assert(os.execute("mkdir -p " .. DIR .. target))
  end
  for name, params in pairs(CALLS) do
    local out = {}
    encode(out, params)
    write(DIR .. "prepare/" .. name, concat(out))
  end
  for name, data in pairs(REPLIES) do
    write(DIR .. "reply/" .. name, data)
  end
  local p = assert(io.popen("ls spec/fixtures/webhooks"))
  for file in p:lines() do
    local f = assert(io.open("spec/fixtures/webhooks/" .. file, "rb"))
    write(DIR .. "webhook/" .. file:gsub("%.json$", ""), f:read("a"))
    f:close()
  end
  p:close()
  print(format("seeds written under %s", DIR))
end


main()
