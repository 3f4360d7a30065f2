-- A strict JSON reader (RFC 8259) for the fuzz checks. Unlike cjson it
-- keeps what a check needs to see: numbers stay as their text, objects
-- and arrays stay apart even when empty, duplicate names are an error,
-- and strings must be UTF-8. Errors are raised as "JSON error at ...".
--
-- read(text) -> value, where an object is {kind = "object", members =
-- {name = value}, n = count}, an array {kind = "array", items = {...},
-- n = count}, a number {kind = "number", text = "..."}, null is
-- M.null, and strings and booleans are themselves.

local byte, char, find, sub = string.byte, string.char, string.find,
  string.sub
local concat = table.concat
local tonumber, error = tonumber, error

local M = {}

M.null = setmetatable({}, { __name = "JSON null" })

local ESCAPES = {
  [34] = '"', [92] = "\\", [47] = "/", [98] = "\b", [102] = "\f",
  [110] = "\n", [114] = "\r", [116] = "\t",
}


local function fail(at, what)
  error(("JSON error at byte %d: %s"):format(at, what), 0)
end


local function skip(s, i)
  local _, e = find(s, "^[ \t\r\n]*", i)
  return e + 1
end


-- The code point of the escape "\u" and four hex digits at i (the
-- backslash), or nil.
local function hex4(s, i)
  local digits = s:match("^\\u(%x%x%x%x)", i)
  return digits and tonumber(digits, 16)
end


-- Reads the escape at i (the backslash); returns its text and the
-- position after it.
local function read_escape(s, i)
  local e = byte(s, i + 1)
  if ESCAPES[e] then return ESCAPES[e], i + 2 end
  local cp = hex4(s, i)
  if not cp then fail(i, "bad escape") end
  if cp >= 0xDC00 and cp <= 0xDFFF then fail(i, "lone low surrogate") end
  if cp >= 0xD800 and cp <= 0xDBFF then
    local low = hex4(s, i + 6)
    if not low or low < 0xDC00 or low > 0xDFFF then
      fail(i, "lone high surrogate")
    end
    return utf8.char(0x10000 + (cp - 0xD800) * 0x400 + (low - 0xDC00)),
      i + 12
  end
  return utf8.char(cp), i + 6
end


local function read_string(s, i)
  local parts, j = {}, i + 1
  while true do
    local _, e = find(s, '^[^"\\%z\1-\31]*', j)
    parts[#parts + 1] = sub(s, j, e)
    j = e + 1
    local c = byte(s, j)
    if c == 34 then break end
    if c == 92 then
      parts[#parts + 1], j = read_escape(s, j)
    elseif c == nil then
      fail(j, "unterminated string")
    else
      fail(j, ("raw control character 0x%02X in a string"):format(c))
    end
  end
  local text = concat(parts)
  if not utf8.len(text) then fail(i, "a string that is not UTF-8") end
  return text, j + 1
end


local function read_number(s, i)
  local j = i
  if byte(s, j) == 45 then j = j + 1 end
  local _, e = find(s, "^0", j)
  if not e then _, e = find(s, "^[1-9]%d*", j) end
  if not e then fail(j, "bad number") end
  j = e + 1
  _, e = find(s, "^%.%d+", j)
  if e then j = e + 1 elseif byte(s, j) == 46 then fail(j, "bad fraction") end
  _, e = find(s, "^[eE][-+]?%d+", j)
  if e then j = e + 1 elseif find(s, "^[eE]", j) then
    fail(j, "bad exponent")
  end
  return { kind = "number", text = sub(s, i, j - 1) }, j
end


local read_value


local function read_array(s, i)
  local items, n, j = {}, 0, skip(s, i + 1)
  if byte(s, j) == 93 then
    return { kind = "array", items = items, n = 0 }, j + 1
  end
  while true do
    n = n + 1
    items[n], j = read_value(s, j)
    local c = byte(s, j)
    if c == 93 then return { kind = "array", items = items, n = n }, j + 1 end
    if c ~= 44 then fail(j, "expected ',' or ']'") end
    j = skip(s, j + 1)
  end
end


local function read_object(s, i)
  local members, n, j = {}, 0, skip(s, i + 1)
  if byte(s, j) == 125 then
    return { kind = "object", members = members, n = 0 }, j + 1
  end
  while true do
    if byte(s, j) ~= 34 then fail(j, "expected a name") end
    local name
    name, j = read_string(s, j)
    if members[name] ~= nil then fail(j, "duplicate name " .. name) end
    j = skip(s, j)
    if byte(s, j) ~= 58 then fail(j, "expected ':'") end
    n = n + 1
    members[name], j = read_value(s, skip(s, j + 1))
    local c = byte(s, j)
    if c == 125 then
      return { kind = "object", members = members, n = n }, j + 1
    end
    if c ~= 44 then fail(j, "expected ',' or '}'") end
    j = skip(s, j + 1)
  end
end


local LITERALS = { t = { "true", true }, f = { "false", false },
                   n = { "null", M.null } }


-- Reads the value at i (no blanks before it); returns it and the
-- position after the blanks that follow it.
function read_value(s, i)
  local c = byte(s, i)
  local v, j
  if c == 123 then v, j = read_object(s, i)
  elseif c == 91 then v, j = read_array(s, i)
  elseif c == 34 then v, j = read_string(s, i)
  elseif c == 45 or (c and c >= 48 and c <= 57) then
    v, j = read_number(s, i)
  else
    local literal = LITERALS[char(c or 0)]
    if not literal or sub(s, i, i + #literal[1] - 1) ~= literal[1] then
      fail(i, "unexpected character")
    end
    v, j = literal[2], i + #literal[1]
  end
  return v, skip(s, j)
end


function M.read(text)
  local v, j = read_value(text, skip(text, 1))
  if j <= #text then fail(j, "text after the value") end
  return v
end


return M
