-- Prints the value of a Lua expression over the JSON document on standard
-- input, for the suite's checks: `t` is the document, `null` JSON's null,
-- `count(list, f)` how many items f accepts. Prints nothing when the
-- input is not JSON, the expression fails or its value is nil.
--
--   lua5.4 json.lua 't.error.kind' <reply.json

local cjson = require "cjson"

local function count(list, accept)
  local n = 0
  for _, item in ipairs(type(list) == "table" and list or {}) do
    if accept(item) then n = n + 1 end
  end
  return n
end

local decoded, t = pcall(cjson.decode, io.read("a"))
if not decoded then t = nil end
local env = setmetatable({ t = t, null = cjson.null, count = count },
                         { __index = _G })
local expr = assert(load("return " .. arg[1], "=expr", "t", env))
local ok, value = pcall(expr)
-- cjson gives floats: print whole numbers without ".0"
if math.type(value) == "float" and value == math.floor(value) then
  value = math.tointeger(value) or value
end
if ok and value ~= nil then print(tostring(value)) end
