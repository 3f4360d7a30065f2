-- Context for the pair "assembly": ringg.validate on the standard call,
-- which checks every field and writes the JSON body like prepare, but
-- builds no request table ({method, url, headers, body, timeout}).
--
--   lua bench/validate.lua SECONDS     -> "rate <validations per second>"

local lib = require "bench.lib"
local ringg = require "ringg"

local seconds = lib.args()
local params = lib.params()
local validate = ringg.validate
assert(validate(params))

local BATCH = 100

local rate = lib.rate(seconds, BATCH, function()
  for _ = 1, BATCH do
    validate(params)
  end
end)
lib.report("rate", rate)
