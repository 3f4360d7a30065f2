-- Webhook receivers inside the sandbox, for tests: each name keeps the
-- deliveries it got. A name "failN-..." answers 500 to its first N
-- deliveries, to exercise retries.

local json = require "sandbox.json"
local util = require "sandbox.util"

local receiver = {}

local boxes = {}  -- name -> list of deliveries
local LIMIT = 10000  -- deliveries kept per name

function receiver.reset()
  boxes = {}
end

-- Records the current request for name; returns the status to answer.
function receiver.record(name)
  ngx.req.read_body()
  local box = boxes[name] or json.array()
  local failures = tonumber(name:match("^fail(%d+)%-")) or 0
  local status = #box < failures and 500 or 200
  boxes[name] = util.append_bounded(box, {
    method = ngx.req.get_method(),
    query = ngx.req.get_uri_args(100),
    headers = ngx.req.get_headers(100),
    body = ngx.req.get_body_data() or "",
    time = util.iso(util.now(), "Z"),
    answered = status,
  }, LIMIT)
  return status
end

-- The deliveries name got, oldest first.
function receiver.deliveries(name)
  return boxes[name] or json.array()
end

return receiver
