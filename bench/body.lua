-- Writes the JSON body of the standard call, as client:prepare makes
-- it, to a file: what the C baselines send.
--
--   lua bench/body.lua FILE

local lib = require "bench.lib"

local file = assert(arg[1], "usage: lua bench/body.lua FILE")
local client = lib.offline_client()
local req = lib.check(client:prepare(lib.params()))
client:close()
local f = assert(io.open(file, "wb"))
f:write(req.body)
f:close()
