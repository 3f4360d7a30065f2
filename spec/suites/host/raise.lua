-- A game script for spec/suites/host.sh whose call callback raises: the
-- error travels out of client:poll and tick, and the host must report
-- it and stop with status 1.

local ringg = require "ringg"

local game = {}
local client


function game.setup()
  client = ringg.new{
    api_key = os.getenv("RINGG_SANDBOX_KEY"),
    base_url = os.getenv("RINGG_SANDBOX_URL"),
    timeout = 2,
  }
end


function game.tick(n)
  if n == 3 then
    assert(client:start_call({
      name = "player1", mobile_number = "+919876500001",
      agent_id = "5d7cdc09-1111-4a2b-9c3d-0123456789ab",
      number_pool_id = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69",
    }, function()
      error("boom from a callback")
    end))
  end
  return client:poll(0)
end


function game.finish()
  client:close()
  return { started = 1, callbacks = 0, per_call = {} }
end


return game
