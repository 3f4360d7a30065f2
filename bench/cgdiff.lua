-- The cost of one operation, function by function, from two callgrind
-- profiles of the same program doing N and 2N operations: the
-- difference between them is N operations' worth, with the start-up
-- (loading Lua, libcurl, the module) cancelled out.
--
--   lua bench/cgdiff.lua SMALL.out LARGE.out N [TOP]
--
-- prints the total instructions per operation, then the TOP functions
-- (default 25) by exclusive and by inclusive instructions per operation.

local small, large, n, top = arg[1], arg[2], tonumber(arg[3]),
  tonumber(arg[4]) or 25
if not (small and large and n) then
  io.stderr:write("usage: lua bench/cgdiff.lua SMALL.out LARGE.out N [TOP]\n")
  os.exit(2)
end


-- The name callgrind_annotate gives a function, without its source file
-- (an inlined function can appear under two files), keeping the object
-- only for functions without a name.
local function key_of(name)
  local fn, object = name:match("^.-:(%S+)%s*(.*)$")
  if not fn then return name end
  if fn:match("^0x") then
    return fn .. " " .. object:gsub("^%[.*/", "["):gsub("%]$", "]")
  end
  return fn
end


-- Instructions per function. Exclusive counts of the names that map to
-- one key add up; inclusive ones overlap, so the largest is kept.
local function read_profile(file, inclusive)
  local cmd = ("callgrind_annotate --inclusive=%s --threshold=100 --auto=no %q "
    .. "2>/dev/null"):format(inclusive and "yes" or "no", file)
  local p = assert(io.popen(cmd))
  local costs, total = {}, nil
  for line in p:lines() do
    local count, rest = line:match("^%s*([%d,]+)%s+%(%s*[%d.]+%%%)%s+(.+)$")
    if count then
      count = tonumber((count:gsub(",", "")))
      if rest:match("PROGRAM TOTALS") then
        total = count
      else
        local key = key_of(rest)
        local old = costs[key] or 0
        costs[key] = inclusive and math.max(old, count) or old + count
      end
    end
  end
  p:close()
  assert(total, "no totals in " .. file .. " (is valgrind installed?)")
  return costs, total
end


-- Functions sorted by their cost per operation, largest first. With
-- `skip_above`, functions that hold (almost) everything are left out:
-- main, the interpreter's entry points, recursive calls ('2).
local function per_op(a, b, skip_above)
  local rows = {}
  for key, cost in pairs(b) do
    local d = (cost - (a[key] or 0)) / n
    if d >= 1 and not (skip_above and (d > skip_above
                                       or key:find("'%d"))) then
      rows[#rows + 1] = { key = key, cost = d }
    end
  end
  table.sort(rows, function(x, y) return x.cost > y.cost end)
  return rows
end


local function show(title, rows, total)
  print(title)
  for i = 1, math.min(top, #rows) do
    local r = rows[i]
    print(("%10.0f %5.1f%%  %s"):format(r.cost, 100 * r.cost / total,
                                        r.key))
  end
  print()
end


local a_excl, a_total = read_profile(small, false)
local b_excl, b_total = read_profile(large, false)
local total = (b_total - a_total) / n
print(("instructions per operation: %.0f"):format(total))
print()
show("exclusive (the function's own instructions) per operation:",
     per_op(a_excl, b_excl), total)
local a_incl = read_profile(small, true)
local b_incl = read_profile(large, true)
show("inclusive (with what it calls) per operation, without the entry "
     .. "points:", per_op(a_incl, b_incl, 0.97 * total), total)
