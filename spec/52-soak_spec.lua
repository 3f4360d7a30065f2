-- A short soak for `make test`: bench/soak.lua's run with 10,000 calls on
-- ONE client, a fault every tenth call (429, 500, malformed JSON, a reply
-- cut mid-body), blocking calls alternating with started batches. After
-- the first 10% resident memory and open descriptors must stay flat.
-- `lua5.4 bench/soak.lua` runs the full 100,000 by hand.

local helpers = require "spec.helpers"
local soak = require "bench.soak"

local CALLS = 10000


describe("a soak of " .. CALLS .. " calls on one client", function()
  local result

  lazy_setup(function()
    helpers.control("POST", "/reset")
    result = soak.run(CALLS, { every = 200 })
  end)

  lazy_teardown(function()
    helpers.control("POST", "/reset")
  end)


  it("ends every call as planned, each callback once", function()
    assert.are.same({}, result.tally.wrong)
    local tally = result.tally
    assert.are.same({ 9000, 250, 250, 250, 250 }, { tally.ok,
      tally.rate_limited, tally.server, tally.protocol, tally.network })
    assert.are.equal(CALLS, result.calls)
  end)


  it("keeps resident memory flat after the first 10%", function()
    local from, last = soak.marks(result)
    assert.are.equal(CALLS / 10, from.calls)
    assert.are.equal(CALLS, last.calls)
    local grew = soak.growth(result).bytes
    assert.is_true(grew < 1024 * 1024, "resident memory grew by " .. grew
                   .. " bytes")
  end)


  -- libcurl's pool of connections varies in size with timing (a started
  -- request may reuse a connection another just freed), so connections
  -- are only bounded; every other descriptor must stay exactly equal. A
  -- socket left open after the server closed it is not a connection.
  it("keeps open descriptors exactly equal after the first 10%", function()
    local from = soak.marks(result)
    for _, s in ipairs(result.samples) do
      if s.calls >= from.calls then
        assert.are.equal(from.others, s.others,
                         "descriptors at call " .. s.calls)
      end
      assert.is_true(s.connections <= soak.MAX_CONNECTIONS,
                     s.connections .. " connections at call " .. s.calls)
    end
    assert.is_true(from.connections >= 1)
    assert.are.equal(result.before, result.after)
  end)


  it("takes well under 25 s", function()
    assert.is_true(result.seconds < 25, "took " .. result.seconds .. " s")
  end)
end)
