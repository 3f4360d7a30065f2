-- The properties fuzz_prepare checks for every parameters table it
-- decodes. Returns the check function; it raises when one fails.
--
-- ringg.validate and client:prepare never raise and agree. A refusal is
-- an error of kind "invalid" listing its problems. An accepted call's
-- body is strict JSON (and cjson reads it) holding exactly the fields
-- given, extra_body's merged in: strings byte for byte, integers digit
-- for digit, floats reading back the same. The required fields of an
-- accepted call also pass checks written here independently of the C.

local cjson = require "cjson.safe"
local ringg = require "ringg"
local json = require "strict_json"

local next, rawget, rawlen, type, tostring = next, rawget, rawlen, type,
  tostring
local floor, abs, mtype = math.floor, math.abs, math.type
local format = string.format

local KEY = "fuzz-key-6f1d2a"
local BASE = "http://127.0.0.1:9/ca/api/v0"
local CALL_URL = BASE .. "/calling/v2/outbound/individual"
local NULL = cjson.null

local client = ringg.new{ api_key = KEY, base_url = BASE }


local function fail(fmt, ...)
  error(format(fmt, ...), 0)
end


-- Whether t's keys are exactly 1..n for some n > 0, read raw.
local function is_list(t)
  local n, seen = rawlen(t), 0
  if n == 0 then return false end
  for k in next, t do
    if mtype(k) ~= "integer" or k < 1 or k > n then return false end
    seen = seen + 1
  end
  return seen == n
end


local same


local function same_number(p, j, path)
  if type(j) ~= "table" or j.kind ~= "number" then
    fail("%s: the number %s was not written as one", path, tostring(p))
  end
  local want
  if mtype(p) == "integer" then
    want = format("%d", p)
  elseif p == floor(p) and abs(p) < 2^63 then
    want = format("%.0f", p)
  end
  if want and j.text ~= want then
    fail("%s: %s written as %s", path, want, j.text)
  elseif not want and tonumber(j.text) ~= p then
    fail("%s: %.17g written as %s, which reads back differently", path, p,
         j.text)
  end
end


local function same_table(p, j, path, depth)
  if depth > 200 then fail("%s: nested beyond any accepted depth", path) end
  if type(j) ~= "table" then fail("%s: a table written as a scalar", path) end
  if is_list(p) then
    if j.kind ~= "array" or j.n ~= rawlen(p) then
      fail("%s: a list of %d written as %s of %s", path, rawlen(p),
           tostring(j.kind), tostring(j.n))
    end
    for i = 1, j.n do
      same(rawget(p, i), j.items[i], format("%s[%d]", path, i), depth + 1)
    end
    return
  end
  if j.kind ~= "object" then fail("%s: a map written as an array", path) end
  local n = 0
  for k, v in next, p do
    if type(k) ~= "string" then
      fail("%s: a key of type %s was accepted", path, type(k))
    end
    if j.members[k] == nil then
      fail("%s: the accepted key %q is missing from the body", path, k)
    end
    same(v, j.members[k], path .. "." .. k, depth + 1)
    n = n + 1
  end
  if n ~= j.n then fail("%s: %d keys given, %d written", path, n, j.n) end
end


-- Raises unless the JSON value j (strict_json's form) is the Lua value p.
function same(p, j, path, depth)
  local tp = type(p)
  if p == NULL then
    if j ~= json.null then fail("%s: cjson.null not written as null", path) end
  elseif tp == "string" or tp == "boolean" then
    if j ~= p then fail("%s: %q written as %q", path, tostring(p),
                        tostring(j)) end
  elseif tp == "number" then
    same_number(p, j, path)
  elseif tp == "table" then
    same_table(p, j, path, depth)
  else
    fail("%s: a value of type %s was accepted", path, tp)
  end
end


-- What the body must hold: the parameters, extra_body's members merged.
local function expected_body(params)
  local want = {}
  for k, v in next, params do
    if k ~= "extra_body" then want[k] = v end
  end
  local extra = rawget(params, "extra_body")
  if extra ~= nil then
    if type(extra) ~= "table" then fail("a non-table extra_body accepted") end
    for k, v in next, extra do
      if want[k] ~= nil then fail("extra_body overrode %q", tostring(k)) end
      want[k] = v
    end
  end
  return want
end


local function is_e164(s)
  return type(s) == "string" and #s >= 8 and #s <= 16
    and s:find("^%+[1-9]%d+$") ~= nil
end


local UUID = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-"
  .. "%x%x%x%x%x%x%x%x%x%x%x%x$"

-- The rules of design.md for the required fields, written again here.
local function check_required(p)
  local name = rawget(p, "name")
  if type(name) ~= "string" or #name == 0 or #name > 256
      or not name:find("[^ \t\r\n\v\f]") or not utf8.len(name)
      or name:find("%c") then
    fail("accepted a bad name %q", tostring(name))
  end
  if not is_e164(rawget(p, "mobile_number")) then
    fail("accepted a bad mobile_number %q",
         tostring(rawget(p, "mobile_number")))
  end
  local agent = rawget(p, "agent_id")
  if type(agent) ~= "string" or not agent:find(UUID) then
    fail("accepted a bad agent_id %q", tostring(agent))
  end
  local sources = 0
  for _, k in next, { "number_pool_id", "from_number_id", "from_number" } do
    if rawget(p, k) ~= nil then sources = sources + 1 end
  end
  if sources ~= 1 then fail("accepted %d caller sources", sources) end
  local url = rawget(p, "callback_url")
  if url ~= nil and (type(url) ~= "string" or #url > 2048
      or not url:lower():find("^https?://[^/?#]")) then
    fail("accepted a bad callback_url %q", tostring(url))
  end
end


local function check_accepted(params, req)
  if req.method ~= "POST" or req.url ~= CALL_URL then
    fail("prepare gave %s %s", tostring(req.method), tostring(req.url))
  end
  local h = req.headers
  if type(h) ~= "table" or h["X-API-KEY"] ~= KEY
      or h["Content-Type"] ~= "application/json" then
    fail("prepare gave wrong headers")
  end
  if type(req.body) ~= "string" then fail("prepare gave no body") end
  if type(cjson.decode(req.body)) ~= "table" then
    fail("cjson cannot read the body: %s", req.body)
  end
  local ok, body = pcall(json.read, req.body)
  if not ok then fail("%s in the body %s", body, req.body) end
  same_table(expected_body(params), body, "body", 0)
  check_required(params)
end


local function check_refused(err, other)
  if type(err) ~= "table" or err.kind ~= "invalid" then
    fail("a refusal that is not an invalid error: %s", tostring(err))
  end
  if type(err.message) ~= "string" or err.sent ~= false
      or err.retryable ~= false then
    fail("an invalid error with bad fields: %s", tostring(err.message))
  end
  if tostring(err) ~= "ringg: invalid: " .. err.message then
    fail("tostring(err) is %q", tostring(err))
  end
  local errors = err.errors
  if type(errors) ~= "table" or rawlen(errors) < 1 or rawlen(errors) > 100 then
    fail("err.errors is not a list of 1 to 100 problems")
  end
  for i = 1, rawlen(errors) do
    local e = errors[i]
    if type(e) ~= "table" or type(e.field) ~= "string"
        or type(e.message) ~= "string" then
      fail("err.errors[%d] is not {field, message}", i)
    end
  end
  if other.message ~= err.message or rawlen(other.errors) ~= rawlen(errors)
  then
    fail("validate and prepare disagree: %q / %q", other.message,
         err.message)
  end
end


local dump = os.getenv("RINGG_FUZZ_DUMP") and require "dump"


return function(params)
  if dump then io.stderr:write("params = ", dump(params), "\n") end
  local ok, valid, verr = pcall(ringg.validate, params)
  if not ok then fail("ringg.validate raised: %s", tostring(valid)) end
  local pok, req, perr = pcall(client.prepare, client, params)
  if not pok then fail("client:prepare raised: %s", tostring(req)) end
  if (valid == true) ~= (req ~= nil) then
    fail("validate says %s, prepare says %s", tostring(valid),
         tostring(req))
  end
  if dump then
    io.stderr:write(req and "accepted: " .. req.body .. "\n"
                    or "refused: " .. tostring(perr) .. "\n")
  end
  if req then
    check_accepted(params, req)
  else
    check_refused(perr, verr)
  end
end
