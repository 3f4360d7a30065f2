-- Prompt variables.
--
-- An agent's prompt refers to a call's `custom_args_values` as
-- `@{{name}}`. Ringg reports no error when the two disagree: the agent
-- just says the wrong thing. These helpers let a caller check before
-- placing a call.
--
-- Ringg does not document how it substitutes. A variable here is `@{{`,
-- optional blanks, a name `[A-Za-z_][A-Za-z0-9_]*`, optional blanks and
-- `}}`. Anything else between the braces, an extra opening brace
-- included (`@{{{name}}}`), leaves the text plain, as a literal
-- replacement of `@{{name}}` would; a surplus closing brace after a
-- variable is plain text.

local cjson = require "cjson.safe"

local null = cjson.null
local find, match = string.find, string.match

local M = {}


local NAME = "^[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*}}()"

-- Ringg fills this one from the call's `name` when it is not given.
local DEFAULTED = "callee_name"


-- Returns the distinct variable names of `text`, in order of first use.
function M.placeholders(text)
  if text == nil or text == null then return {} end
  if type(text) ~= "string" then
    error("bad argument #1 to 'placeholders' (string expected, got "
      .. type(text) .. ")", 2)
  end
  local names, seen, pos = {}, {}, 1
  while true do
    local s, e = find(text, "@{{", pos, true)
    if s == nil then break end
    local name, after = match(text, NAME, e + 1)
    if name then
      if not seen[name] then
        seen[name] = true
        names[#names + 1] = name
      end
      pos = after
    else
      -- not a variable; a later "@{{" inside it may still start one
      pos = s + 1
    end
  end
  return names
end


local function sorted_keys(set)
  local list = {}
  for k in pairs(set) do list[#list + 1] = k end
  table.sort(list)
  return list
end

-- Returns {needed, missing, unused} for the prompt texts `texts` (a list;
-- holes and nulls are skipped, so `{agent_prompt, intro_message}` works
-- when either is nil) and the call's `custom_args_values`, each a sorted
-- list of names. A value that is JSON null counts as not given.
function M.compare(texts, values)
  if type(texts) ~= "table" then
    error("bad argument #1 to 'compare' (table expected, got "
      .. type(texts) .. ")", 2)
  end
  if values == null then values = nil end
  if values ~= nil and type(values) ~= "table" then
    error("bad argument #2 to 'compare' (table expected, got "
      .. type(values) .. ")", 2)
  end
  local needed = {}
  -- pairs, not ipairs: order is irrelevant as the results are sorted
  for _, text in pairs(texts) do
    if text ~= null and type(text) ~= "string" then
      error("bad argument #1 to 'compare' (list of strings expected, got "
        .. type(text) .. " in it)", 2)
    end
    for _, name in ipairs(M.placeholders(text)) do needed[name] = true end
  end
  local given, missing, unused = {}, {}, {}
  for k, v in pairs(values or {}) do
    if type(k) == "string" and v ~= null then
      given[k] = true
      if not needed[k] then unused[k] = true end
    end
  end
  for name in pairs(needed) do
    if not given[name] and name ~= DEFAULTED then missing[name] = true end
  end
  return {
    needed = sorted_keys(needed),
    missing = sorted_keys(missing),
    unused = sorted_keys(unused),
  }
end


return M
