-- Pair "assembly", side B: cjson.encode of the same params table, with
-- no validation at all: the least a Lua script can do to get a body.
--
--   lua bench/encode.lua SECONDS       -> "rate <encodes per second>"

local lib = require "bench.lib"
local cjson = require "cjson"

local seconds = lib.args()
local params = lib.params()
local encode = cjson.encode

local BATCH = 100

local rate = lib.rate(seconds, BATCH, function()
  for _ = 1, BATCH do
    encode(params)
  end
end)
lib.report("rate", rate)
