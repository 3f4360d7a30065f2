-- JSON for the sandbox. Decoding is lua-cjson's; encoding is done here
-- because Debian's lua-cjson 2.1.0 cannot tell an empty array from an empty
-- object, and Ringg's shapes hold both (`"tags": []`, `"client_analysis": {}`).
-- Object keys come out sorted, so replies are stable and easy to read.

local cjson = require "cjson.safe"

local concat, sort = table.concat, table.sort
local getmetatable, setmetatable = getmetatable, setmetatable
local ipairs, pairs, tostring, type = ipairs, pairs, tostring, type
local error = error

local json = {}

json.null = cjson.null

local array_mt = {}

-- Marks t as a JSON array even while it is empty.
function json.array(t)
  return setmetatable(t or {}, array_mt)
end

local function is_array(t)
  if getmetatable(t) == array_mt then return true end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

-- lua-cjson writes "/" as "\/"; legal, but not what Ringg sends. An
-- escaped slash is the only "\/" pair cjson can produce, as a slash is
-- always escaped, so dropping those backslashes is safe.
local function encode_string(s)
  return (cjson.encode(s):gsub("\\/", "/"))
end

local encode_value

local function encode_array(t, out)
  out[#out + 1] = "["
  for i = 1, #t do
    if i > 1 then out[#out + 1] = "," end
    encode_value(t[i], out)
  end
  out[#out + 1] = "]"
end

local function by_name(a, b)
  return tostring(a) < tostring(b)
end

local function encode_object(t, out)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  sort(keys, by_name)
  out[#out + 1] = "{"
  for i, k in ipairs(keys) do
    if i > 1 then out[#out + 1] = "," end
    out[#out + 1] = encode_string(tostring(k))
    out[#out + 1] = ":"
    encode_value(t[k], out)
  end
  out[#out + 1] = "}"
end

function encode_value(v, out)
  if type(v) == "table" then
    if is_array(v) then encode_array(v, out) else encode_object(v, out) end
    return
  end
  if type(v) == "string" then
    out[#out + 1] = encode_string(v)
    return
  end
  local text, err = cjson.encode(v)
  if not text then
    error("json: cannot encode " .. tostring(v) .. ": " .. err)
  end
  out[#out + 1] = text
end

json.encode_string = encode_string

function json.encode(v)
  local out = {}
  encode_value(v, out)
  return concat(out)
end

-- Returns the decoded value, or nil and a message.
function json.decode(text)
  if type(text) ~= "string" then return nil, "no text" end
  return cjson.decode(text)
end

return json
