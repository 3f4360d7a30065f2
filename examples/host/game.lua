-- The game script that examples/host/host runs.
--
-- The host calls tick(n) 50 times a second. Every EVENT_EVERY ticks a
-- simulated player reaches a new level, and the game phones them about
-- it with client:start_call; each tick then drives the calls in flight
-- with client:poll(0), which never waits. A reply, an error or a
-- timeout all arrive the same way: the call's callback, run inside
-- poll, on the game's own thread.
--
-- The first calls go to the sandbox's fault numbers, so that a run shows
-- the loop keeping its pace while a reply takes 1.5 s, while another
-- never comes (the client gives up after CALL_TIMEOUT seconds), and while
-- a third is refused with 429.
--
-- Environment: RINGG_SANDBOX_URL and RINGG_SANDBOX_KEY (or RINGG_BASE_URL
-- and RINGG_API_KEY), GAME_CALL_TIMEOUT (seconds, default 2).

local ringg = require "ringg"

local EVENT_EVERY = 10
local AGENT_ID = "5d7cdc09-1111-4a2b-9c3d-0123456789ab"
local POOL_ID = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"

-- Who gets the first calls: slow reply, no reply, rate limited
local FIRST_NUMBERS = { "+15550100605", "+15550100602", "+15550100429" }

local game = {}
local client
local limit = 0        -- calls to place in all
local tick = 0         -- the current tick
local calls = {}       -- per call: number, player, start, stop, result...
local callbacks = 0


local function number_for(i)
  return FIRST_NUMBERS[i] or ("+9198765%05d"):format(i)
end


-- The callback of call `entry`: runs once, inside client:poll.
local function on_reply(entry)
  return function(call, err)
    callbacks = callbacks + 1
    entry.callbacks = entry.callbacks + 1
    entry.stop = tick
    if call then
      entry.result, entry.call_id = "ok", call.id
      print(("tick %d: %s was called (call %s)"):format(tick, entry.player,
            call.id))
    else
      entry.result = err.kind
      print(("tick %d: calling %s failed: %s"):format(tick, entry.player,
            tostring(err)))
    end
  end
end


-- A game event: player `i` reached a level, so the game calls them.
local function level_up(i)
  local player, level = "player" .. i, 1 + i % 7
  local entry = { number = number_for(i), player = player, start = tick,
                  callbacks = 0 }
  calls[i] = entry
  local handle, err = client:start_call({
    name = player,
    mobile_number = entry.number,
    agent_id = AGENT_ID,
    number_pool_id = POOL_ID,
    custom_args_values = { level = level },
  }, on_reply(entry))
  if not handle then
    -- rejected before sending: the callback will never run
    error(("call to %s: %s"):format(player, tostring(err)))
  end
end


function game.setup(config)
  local url = os.getenv("RINGG_SANDBOX_URL") or os.getenv("RINGG_BASE_URL")
  local key = os.getenv("RINGG_SANDBOX_KEY") or os.getenv("RINGG_API_KEY")
  if not url or not key then
    error("set RINGG_SANDBOX_URL and RINGG_SANDBOX_KEY "
          .. "(spec/sandbox/sandbox start writes them to build/sandbox/env)")
  end
  client = ringg.new{
    api_key = key, base_url = url,
    timeout = tonumber(os.getenv("GAME_CALL_TIMEOUT")) or 2,
    connect_timeout = 1,
  }
  limit = config.calls
end


function game.tick(n)
  tick = n
  local placed = #calls
  if n % EVENT_EVERY == 0 and placed < limit then
    level_up(placed + 1)
  end
  return client:poll(0)
end


-- Closes the client (cancelling anything still in flight) and returns
-- what the host prints. Lists each call on stdout as
-- "call <i> <number> <start tick> <end tick> <result> <call id or ->".
function game.finish()
  client:close()
  local per_call = {}
  for i, c in ipairs(calls) do
    per_call[i] = c.callbacks
    print(("call %d %s %d %s %s %s"):format(i, c.number, c.start,
          c.stop or "-", c.result or "-", c.call_id or "-"))
  end
  return { started = #calls, callbacks = callbacks, per_call = per_call }
end


return game
