-- Shows a fuzz input's Lua value as Lua source, to turn a finding into a
-- reproducer: `RINGG_FUZZ_DUMP=1 build/fuzz/fuzz_prepare crash-...`
-- prints what the input decoded to. Tables seen before (shared or
-- cyclic ones) are shown as references to their first appearance.

local format, rep = string.format, string.rep
local concat = table.concat
local next, rawlen, type, tostring = next, rawlen, type, tostring

local function scalar(v)
  if type(v) == "string" then
    return format("%q", v):gsub("\\\n", "\\n")
  elseif math.type(v) == "float" then
    if v ~= v then return "0/0" end
    if v == math.huge then return "math.huge" end
    if v == -math.huge then return "-math.huge" end
    return format("%.17g", v):find("[.eEn]") and format("%.17g", v)
      or format("%.17g", v) .. ".0"
  elseif type(v) == "userdata" and v == require("cjson").null then
    return "cjson.null"
  elseif type(v) == "number" or type(v) == "boolean" or v == nil then
    return tostring(v)
  end
  return "<" .. type(v) .. ">"
end


local function dump(v, indent, seen, path)
  if type(v) ~= "table" then return scalar(v) end
  if seen[v] then return "<same table as " .. seen[v] .. ">" end
  seen[v] = path
  local lines = {}
  local pad = rep("  ", indent + 1)
  if getmetatable(v) then lines[1] = pad .. "-- has a hostile metatable" end
  for k, x in next, v do
    local key = type(k) == "string" and k:find("^[%a_][%w_]*$") and k
      or "[" .. dump(k, indent + 1, seen, path .. "[key]") .. "]"
    lines[#lines + 1] = pad .. key .. " = "
      .. dump(x, indent + 1, seen, path .. "." .. tostring(k)) .. ","
  end
  if #lines == 0 then return "{}" end
  return "{ -- " .. rawlen(v) .. " in the array part\n" .. concat(lines, "\n")
    .. "\n" .. rep("  ", indent) .. "}"
end


return function(v)
  return dump(v, 0, {}, "params")
end
