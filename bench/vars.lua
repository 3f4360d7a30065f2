-- How the cost of client:prepare grows with the work: the standard call
-- with N custom variables (var1 .. varN) instead of 3.
--
--   lua bench/vars.lua SECONDS N      -> "us <microseconds per prepare>"

local lib = require "bench.lib"

local seconds, n = lib.args(10)
local client = lib.offline_client()
local params = lib.params(n)
lib.check(client:prepare(params))

-- About 100 variables' worth of work between two looks at the clock.
local batch = math.max(1, math.floor(1000 / (n + 10)))

local rate = lib.rate(seconds, batch, function()
  for _ = 1, batch do
    client:prepare(params)
  end
end)
lib.report("us", 1e6 / rate)
client:close()
