-- The calls placed since the last reset, in memory. The sandbox runs one
-- nginx worker, so this module's tables are the only copy.

local store = {}

-- Calls kept at most. Past it the oldest quarter is forgotten at once, so
-- a long benchmark cannot grow the worker without bound.
store.LIMIT = 50000

local by_id, in_order = {}, {}

local function forget_oldest()
  local drop = math.floor(#in_order / 4)
  local kept = {}
  for i, call in ipairs(in_order) do
    if i <= drop then by_id[call.id] = nil else kept[#kept + 1] = call end
  end
  in_order = kept
end

function store.add(call)
  by_id[call.id] = call
  in_order[#in_order + 1] = call
  if #in_order > store.LIMIT then forget_oldest() end
end

-- The call with this id, or nil. Timers compare what it returns with the
-- call they hold: once the call is forgotten it no longer matches and they
-- stop.
function store.get(id)
  return by_id[id]
end

-- Every call, oldest first.
function store.all()
  return in_order
end

function store.reset()
  by_id, in_order = {}, {}
end

return store
