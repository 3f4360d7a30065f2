-- The handlers of the OpenResty example (nginx.conf.in, README.md).
--
--   POST /calls          places a call; answers {"call_id": ...} or
--                        {"error": {kind, message, ...}}
--   POST /ringg/webhook  receives Ringg's webhooks: checks the shared
--                        secret, drops repeated deliveries, answers at
--                        once and handles the event in a timer
--   GET /ringg/events    the events handled so far (for debugging)
--   GET /health          the Lua and ringg versions nginx runs
--
-- Settings come from the environment (nginx's `env` directives):
-- RINGG_API_KEY (required), RINGG_BASE_URL, RINGG_WEBHOOK_SECRET,
-- RINGG_WEBHOOK_HEADER (default X-Ringg-Secret) and RINGG_PUBLIC_URL
-- (where Ringg reaches this server; when set, calls that name no
-- callback_url get this server's webhook, with the secret header).

local cjson = require "cjson.safe"
local ringg = require "ringg"
local ringg_ngx = require "ringg.ngx"

local ngx = ngx
local ceil = math.ceil

local M = {}

-- How long a webhook key is remembered: Ringg retries a delivery for a
-- few minutes, a day leaves room.
local DEDUPE_TTL = 24 * 3600
-- How many events /ringg/events keeps.
local KEEP_EVENTS = 1000

-- The HTTP status /calls answers for each kind of error.
local STATUS_OF = {
  invalid = 422,
  rate_limited = 429,
  timeout = 504,
}

local settings  -- read by init, in nginx's master process
local client    -- one per worker, made on first use


local function getenv(name, default)
  local value = os.getenv(name)
  if value == nil or value == "" then return default end
  return value
end


-- Runs in init_by_lua: reads the settings, and makes (then drops) a
-- client, so that a bad key or base URL stops nginx from starting.
function M.init()
  settings = {
    api_key = getenv "RINGG_API_KEY",
    base_url = getenv("RINGG_BASE_URL", ringg.DEFAULT_BASE_URL),
    secret = getenv "RINGG_WEBHOOK_SECRET",
    header = getenv("RINGG_WEBHOOK_HEADER", "X-Ringg-Secret"),
    public_url = getenv "RINGG_PUBLIC_URL",
  }
  if not settings.api_key then
    error("ringg_example: set RINGG_API_KEY", 0)
  end
  ringg_ngx.client{
    api_key = settings.api_key, base_url = settings.base_url,
  }:close()
end


local function get_client()
  if not client then
    client = ringg_ngx.client{
      api_key = settings.api_key, base_url = settings.base_url,
    }
  end
  return client
end


local function answer(status, body, headers)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  for name, value in pairs(headers or {}) do ngx.header[name] = value end
  ngx.print(cjson.encode(body), "\n")
end


local function answer_error(err)
  local headers
  if err.retry_after then
    headers = { ["Retry-After"] = tostring(ceil(err.retry_after)) }
  end
  return answer(STATUS_OF[err.kind] or 502, { error = {
    kind = err.kind, message = err.message, status = err.status,
    retry_after = err.retry_after, sent = err.sent,
    retryable = err.retryable, errors = err.errors,
  } }, headers)
end


-- The JSON object in the request body, or nil.
local function json_body()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  local value = body and cjson.decode(body)
  if type(value) == "table" and body:match("^%s*{") then return value end
end


function M.calls()
  if ngx.req.get_method() ~= "POST" then
    return answer(405, { error = { message = "use POST" } },
                  { Allow = "POST" })
  end
  local params = json_body()
  if not params then
    return answer(400, { error = { kind = "invalid",
      message = "expected a JSON object with the call's fields" } })
  end
  local base = settings.public_url
  if base and settings.secret and params.callback_url == nil
      and params.callback_args == nil then
    params.callback_url = base .. "/ringg/webhook"
    params.callback_args = {
      headers = { [settings.header] = settings.secret },
    }
  end
  local call, err = get_client():call(params)
  if not call then return answer_error(err) end
  return answer(200, { call_id = call.id, status = call.status })
end


--
-- Webhooks
--

-- Stores the event for /ringg/events; a real server would update its
-- own records here.
local function handle(premature, key, event)
  if premature then return end
  local dict = ngx.shared.ringg_events
  local n = dict:incr("count", 1, 0)
  dict:set("event:" .. n, cjson.encode{
    key = key, call_id = event.call_id, type = event.type,
    status = event.status, received_at = ngx.now(),
  })
  dict:delete("event:" .. (n - KEEP_EVENTS))
end


function M.webhook()
  if not settings.secret then
    return answer(503, { error = "RINGG_WEBHOOK_SECRET is not set" })
  end
  if not ringg.webhook.verify(ngx.req.get_headers(), settings.header,
                              settings.secret) then
    return answer(401, { error = "bad or missing " .. settings.header })
  end
  ngx.req.read_body()
  local event, err = ringg.webhook.parse(ngx.req.get_body_data() or "")
  if not event then return answer(400, { error = err.message }) end
  local key = ringg.webhook.key(event)
  local seen = ngx.shared.ringg_webhooks
  local added, why = seen:add(key, true, DEDUPE_TTL)
  if not added then
    if why ~= "exists" then
      -- Out of room: a failure answer makes Ringg deliver it again.
      return answer(503, { error = "cannot record the delivery" })
    end
    ngx.shared.ringg_events:incr("duplicates", 1, 0)
    return answer(200, { received = true, duplicate = true })
  end
  -- The work runs after the answer, so Ringg is not kept waiting.
  local scheduled = ngx.timer.at(0, handle, key, event)
  if not scheduled then
    seen:delete(key)
    return answer(503, { error = "busy, deliver again" })
  end
  return answer(200, { received = true, duplicate = false })
end


function M.events()
  local dict = ngx.shared.ringg_events
  local count = dict:get("count") or 0
  local list = {}
  for i = math.max(1, count - KEEP_EVENTS + 1), count do
    list[#list + 1] = dict:get("event:" .. i)
  end
  -- The events are stored as JSON text already.
  ngx.header["Content-Type"] = "application/json"
  ngx.print('{"events":[', table.concat(list, ","), '],"duplicates":',
            dict:get("duplicates") or 0, "}\n")
end


function M.health()
  return answer(200, {
    lua = _VERSION,
    jit = jit and jit.version,
    ringg = ringg.VERSION,
    core = package.searchpath("ringg.core", package.cpath),
  })
end


return M
