-- The properties fuzz_reply checks for every reply it decodes. Returns
-- the check function; it raises when one fails.
--
-- client:classify(mode, reply) raises only for a status that is not a
-- number from 100 to 999 (a transport's mistake). Otherwise it returns
-- a call (mode "call": an id, http_status, headers, body) or a decoded
-- body and {status, headers} (the other modes), for 2xx replies only;
-- or nil and an error whose kind, status, sent, retryable and
-- retry_after follow the contract, and whose body is the reply's.

local ringg = require "ringg.core"

local next, type, tostring, pcall = next, type, tostring, pcall
local floor = math.floor
local format = string.format

local client = ringg.new{ api_key = "fuzz-key-6f1d2a",
                          base_url = "http://127.0.0.1:9/ca/api/v0" }

local KINDS = {
  invalid = true, auth = true, credits = true, not_found = true,
  rejected = true, rate_limited = true, server = true, timeout = true,
  network = true, protocol = true, cancelled = true,
}


local function fail(fmt, ...)
  error(format(fmt, ...), 0)
end


-- The kind an HTTP failure status must give.
local function kind_of(status)
  if status == 401 or status == 403 then return "auth" end
  if status == 402 then return "credits" end
  if status == 404 then return "not_found" end
  if status == 429 then return "rate_limited" end
  if status >= 400 and status < 500 then return "rejected" end
  if status >= 500 and status < 600 then return "server" end
  return "protocol"
end


-- A 2xx call reply whose own "status" is not "success" is a refusal:
-- it reads as an HTTP 400.
local function check_error(mode, err, status, reply)
  if type(err) ~= "table" or not KINDS[err.kind] then
    fail("not an error table: %s", tostring(err))
  end
  if type(err.message) ~= "string" then fail("an error without message") end
  if tostring(err) ~= "ringg: " .. err.kind .. ": " .. err.message then
    fail("tostring(err) is %q", tostring(err))
  end
  if type(err.sent) ~= "boolean" or type(err.retryable) ~= "boolean" then
    fail("sent or retryable is not a boolean")
  end
  local ra = err.retry_after
  if ra ~= nil and (type(ra) ~= "number" or not (ra >= 0)) then
    fail("retry_after is %s", tostring(ra))
  end
  local refused = mode == "call" and status >= 200 and status < 300
    and err.status == 400 and err.kind == "rejected"
  if err.status ~= nil and err.status ~= status and not refused then
    fail("err.status is %s for status %s", tostring(err.status), status)
  end
  if err.body ~= nil and err.body ~= (reply.body or "") then
    fail("err.body is not the reply's body")
  end
  if (status < 200 or status >= 300) and err.kind ~= kind_of(status) then
    fail("status %d gave kind %s", status, err.kind)
  end
end


local function check_result(mode, a, b, status)
  if status < 200 or status >= 300 then
    fail("status %d was taken as a success", status)
  end
  if type(a) ~= "table" then fail("a result that is not a table") end
  if mode == "call" then
    if type(a.id) ~= "string" or a.http_status ~= status
        or type(a.headers) ~= "table" or type(a.body) ~= "table" then
      fail("a call without id, http_status, headers or body")
    end
  elseif type(b) ~= "table" or b.status ~= status
      or type(b.headers) ~= "table" then
    fail("a result without {status, headers}")
  end
end


-- Headers read from libcurl's bytes: lower-case string names, string
-- values.
local function check_raw_headers(headers)
  if type(headers) ~= "table" then fail("push_headers gave no table") end
  for k, v in next, headers do
    if type(k) ~= "string" or k == "" or k:find("[A-Z]")
        or type(v) ~= "string" then
      fail("push_headers gave %q = %q", tostring(k), tostring(v))
    end
  end
end


return function(mode, reply, raw)
  if raw then check_raw_headers(reply.headers) end
  local s = reply.status
  local in_range = s >= 100 and s <= 999
  local ok, a, b = pcall(client.classify, client, mode, reply)
  if not ok then
    if in_range then fail("classify raised: %s", tostring(a)) end
    return
  end
  if not in_range then
    fail("status %s was not refused", tostring(s))
  end
  local status = floor(s)
  if a == nil then
    check_error(mode, b, status, reply)
  else
    check_result(mode, a, b, status)
  end
end
