-- Resident memory of a process that keeps one client busy: after FIRST
-- calls and after SECOND calls (client:call against the fixed-reply
-- server), each read from /proc/self/statm after a full collection. A
-- difference near zero says nothing piles up per call.
--
--   lua bench/memory.lua FIRST SECOND
--     -> "rss_first <KiB>", "rss_second <KiB>", "lua_first <KiB>", ...

local lib = require "bench.lib"

local first = tonumber(arg[1]) or 10000
local second = tonumber(arg[2]) or 100000

-- The page size, from getconf (statm counts pages).
local function page_kib()
  local p = io.popen("getconf PAGESIZE 2>/dev/null")
  local size = p and tonumber(p:read("*l")) or 4096
  if p then p:close() end
  return size / 1024
end

local PAGE_KIB = page_kib()

local function resident_kib()
  local f = assert(io.open("/proc/self/statm", "r"))
  local _, resident = f:read("*l"):match("^(%d+)%s+(%d+)")
  f:close()
  return tonumber(resident) * PAGE_KIB
end

local client = lib.client()
local params = lib.params()
local done = 0

-- Places calls until `upto` have been placed; returns the resident and
-- the Lua heap sizes in KiB.
local function run_to(upto)
  for _ = done + 1, upto do
    lib.check(client:call(params))
  end
  done = upto
  collectgarbage("collect")
  collectgarbage("collect")
  return resident_kib(), collectgarbage("count")
end

local rss1, lua1 = run_to(first)
local rss2, lua2 = run_to(second)
lib.report("calls_first", first)
lib.report("calls_second", second)
lib.report("rss_first", rss1)
lib.report("rss_second", rss2)
lib.report("lua_first", lua1)
lib.report("lua_second", lua2)
client:close()
