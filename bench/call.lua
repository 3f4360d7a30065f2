-- Pairs "one at a time" and "pure Lua", side A: client:call on the
-- standard call, one after another on one client (its easy handle keeps
-- the connection alive); each reply is decoded and normalised into the
-- call table, and checked.
--
--   lua bench/call.lua SECONDS          -> "rate <calls per second>"

local lib = require "bench.lib"

local seconds = lib.args()
local client = lib.client()
local params = lib.params()

local rate, ops = lib.rate(seconds, 1, function()
  local call = lib.check(client:call(params))
  if call.id == nil then error("a call without an id") end
end)
lib.report("rate", rate)
lib.report("ops", ops)
client:close()
