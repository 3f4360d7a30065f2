-- The sandbox's own endpoints under /_sandbox (no API key): reset and
-- config for tests, views of what happened, recordings, and the webhook
-- receivers.

local config = require "sandbox.config"
local json = require "sandbox.json"
local receiver = require "sandbox.receiver"
local reply = require "sandbox.reply"
local shapes = require "sandbox.shapes"
local store = require "sandbox.store"
local webhook = require "sandbox.webhook"

local control = {}

local connections = {}  -- connection serial (text) -> requests seen

-- Counts the request against its connection, so tests can see keep-alive
-- reuse from the outside.
function control.note_request()
  local serial = ngx.var.connection
  connections[serial] = (connections[serial] or 0) + 1
end

local function settings()
  return { step_ms = config.step_ms, retry_scale = config.retry_scale,
           port = config.port, https_port = config.https_port }
end

local function reset()
  store.reset()
  webhook.reset()
  receiver.reset()
  config.reset()
  connections = {}
  return reply.ok { reset = true, config = settings() }
end

local function set_config()
  ngx.req.read_body()
  local body = json.decode(ngx.req.get_body_data())
  if type(body) ~= "table" then return reply.detail(422, "Malformed JSON") end
  local problems = {}
  local step, scale = body.step_ms, body.retry_scale
  if step ~= nil and not (type(step) == "number" and step >= 1
      and step <= 3600000) then
    problems[#problems + 1] = reply.problem({ "body", "step_ms" },
      "expected milliseconds from 1 to 3600000")
  end
  if scale ~= nil and not (type(scale) == "number" and scale >= 0
      and scale <= 100) then
    problems[#problems + 1] = reply.problem({ "body", "retry_scale" },
      "expected a factor from 0 to 100")
  end
  if #problems > 0 then return reply.invalid(problems) end
  config.step_ms = step or config.step_ms
  config.retry_scale = scale or config.retry_scale
  return reply.ok(settings())
end

local function calls()
  local list = json.array()
  for i, call in ipairs(store.all()) do list[i] = shapes.sandbox_view(call) end
  return reply.ok { calls = list }
end

local function recording(id)
  if not store.get(id) then return reply.detail(404, "Recording not found") end
  -- An MP3 frame header and a little padding: enough to look like audio.
  local bytes = "ID3\3\0\0\0\0\0\0" .. "\255\251\144\100" .. ("\0"):rep(28)
  ngx.header["Content-Type"] = "audio/mpeg"
  ngx.header["Content-Length"] = #bytes
  ngx.print(bytes)
  return ngx.exit(ngx.OK)
end

local function receive(name)
  local status = receiver.record(name)
  return reply.send(status, { received = status == 200 })
end

local function deliveries(name)
  return reply.ok { deliveries = receiver.deliveries(name) }
end

local ROUTES = {
  { "POST", "^/reset$", reset },
  { "POST", "^/config$", set_config },
  { "GET", "^/config$", function() return reply.ok(settings()) end },
  { "GET", "^/calls$", calls },
  { "GET", "^/webhooks$", function()
      return reply.ok { deliveries = json.array(webhook.attempts()) }
    end },
  { "GET", "^/subscriptions$", function()
      return reply.ok { subscriptions = webhook.subscriptions() }
    end },
  { "GET", "^/connections$", function()
      return reply.ok { connections = connections }
    end },
  { "GET", "^/health$", function()
      return reply.ok { status = "ok", config = settings() }
    end },
  { "GET", "^/recordings/([%w%-]+)%.mp3$", recording },
  { "POST", "^/receiver/([%w_.%-]+)$", receive },
  { "PUT", "^/receiver/([%w_.%-]+)$", receive },
  { "PATCH", "^/receiver/([%w_.%-]+)$", receive },
  { "GET", "^/receiver/([%w_.%-]+)$", deliveries },
}

function control.handle(path)
  local method = ngx.req.get_method()
  for _, route in ipairs(ROUTES) do
    local route_method, pattern, handler = route[1], route[2], route[3]
    local capture = path:match(pattern)
    if capture and route_method == method then return handler(capture) end
  end
  return reply.detail(404, "Not Found")
end

return control
