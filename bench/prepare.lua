-- Pair "assembly", side A: client:prepare on the standard call, which
-- validates every field and writes the JSON body and request table.
--
--   lua bench/prepare.lua SECONDS      -> "rate <prepares per second>"

local lib = require "bench.lib"

local seconds = lib.args()
local client = lib.offline_client()
local params = lib.params()
lib.check(client:prepare(params))

local BATCH = 100

local rate = lib.rate(seconds, BATCH, function()
  for _ = 1, BATCH do
    client:prepare(params)
  end
end)
lib.report("rate", rate)
client:close()
