-- Pair "16 in flight", side A, and the in-flight table: start_call and
-- poll with N calls in flight on one client whose max_in_flight is N.
-- After each poll, new calls top the count back up to N; each callback
-- gets its reply decoded and normalised, and checks it.
--
--   lua bench/inflight.lua SECONDS [N=16]   -> "rate <calls per second>"

local lib = require "bench.lib"

local seconds, n = lib.args(16)
local client = lib.client{ max_in_flight = n }
local params = lib.params()
local done = 0

local function on_reply(call, err)
  lib.check(call, err)
  done = done + 1
end

-- Tops the calls in flight up to n, then waits for at least one reply.
local function step()
  for _ = client:pending() + 1, n do
    lib.check(client:start_call(params, on_reply))
  end
  client:poll(1)
end

local now = lib.now
local stop = now() + seconds / 10
while now() < stop do step() end
local start, first = now(), done
stop = start + seconds
local t
repeat
  step()
  t = now()
until t >= stop
lib.report("rate", (done - first) / (t - start))
lib.report("ops", done - first)
-- Lets the calls still in flight finish, so that none is cancelled.
stop = now() + 10
while client:pending() > 0 and now() < stop do client:poll(1) end
client:close()
