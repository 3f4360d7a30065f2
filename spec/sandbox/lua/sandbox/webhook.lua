-- Webhook delivery: the per-call callback_url envelope and agent event
-- subscriptions. Each delivery runs in timers, is retried on anything but
-- a 2xx at +10 s, +1 min and +2 min (4 attempts in all, as Ringg
-- documents), and every attempt is logged for GET /_sandbox/webhooks.
-- Delays and the 30 s timeout are multiplied by config.retry_scale.

local config = require "sandbox.config"
local httpc = require "sandbox.httpc"
local json = require "sandbox.json"
local shapes = require "sandbox.shapes"
local util = require "sandbox.util"

local max = math.max

local webhook = {}

local RETRY_DELAYS = { 10, 60, 120 }
local TIMEOUT = 30
local LOG_LIMIT = 20000

local attempts = {}       -- every delivery attempt, oldest first
local subscriptions = {}  -- agent id -> event type -> {url, method, headers}
-- Bumped by reset, so deliveries still in flight from before it neither
-- log nor retry.
local generation = 0

function webhook.reset()
  attempts, subscriptions = {}, {}
  generation = generation + 1
end

function webhook.attempts()
  return attempts
end

local function log_attempt(job, n, status, err)
  attempts = util.append_bounded(attempts, {
    url = job.url,
    method = job.method,
    event = job.event,
    call_status = job.call_status,
    call_id = job.call_id,
    attempt = n,
    status = status or json.null,
    error = err or json.null,
    time = util.iso(util.now(), "Z"),
  }, LOG_LIMIT)
end

local attempt

local function schedule(delay, job, n)
  local ok, err = ngx.timer.at(delay, attempt, job, n, generation)
  if not ok then ngx.log(ngx.ERR, "webhook timer: ", err) end
end

function attempt(premature, job, n, gen)
  if premature or gen ~= generation then return end
  local status, err = httpc.request {
    url = job.url, method = job.method, headers = job.headers,
    body = job.body, timeout = max(TIMEOUT * config.retry_scale, 1),
  }
  if gen ~= generation then return end
  log_attempt(job, n, status, err)
  local delivered = status and status >= 200 and status < 300
  if not delivered and RETRY_DELAYS[n] then
    schedule(RETRY_DELAYS[n] * config.retry_scale, job, n + 1)
  end
end

-- Starts delivering job = {url, method, headers, body, event, call_id}.
local function deliver(job)
  schedule(0, job, 1)
end

-- callback_args.params as a query string, merged into the URL's own.
-- Names are sorted so the URL is the same on every delivery.
function webhook.callback_target(url, params)
  local names = {}
  for name in pairs(params or {}) do names[#names + 1] = name end
  if #names == 0 then return url end
  table.sort(names)
  local parts = {}
  for i, name in ipairs(names) do
    parts[i] = ngx.escape_uri(name) .. "="
      .. ngx.escape_uri(tostring(params[name]))
  end
  local base, fragment = url:match("^([^#]*)(.*)$")
  local sep = base:find("?", 1, true) and "&" or "?"
  if base:sub(-1) == "?" or base:sub(-1) == "&" then sep = "" end
  return base .. sep .. table.concat(parts, "&") .. fragment
end

-- Replaces the agent's subscriptions for each event type named in subs
-- (event_type may be one name or an array of names).
function webhook.subscribe(agent_id, subs)
  local by_event = subscriptions[agent_id] or {}
  subscriptions[agent_id] = by_event
  for _, sub in ipairs(subs) do
    local names = type(sub.event_type) == "string" and { sub.event_type }
      or sub.event_type
    for _, name in ipairs(names) do
      by_event[name] = {
        url = sub.callback_url,
        method = type(sub.method_type) == "string" and sub.method_type:upper()
          or "POST",
        headers = type(sub.headers) == "table" and sub.headers or {},
      }
    end
  end
end

function webhook.subscriptions()
  return subscriptions
end

-- Agent events each status brings, in the order Ringg sends them.
local EVENTS_ON = {
  ongoing = { "call_started" },
  retry = { "call_completed" },
  failed = { "call_completed" },
  completed = { "call_completed", "recording_completed",
    "platform_analysis_completed", "client_analysis_completed",
    "all_processing_completed" },
}

local function notify_agent(call)
  local by_event = subscriptions[call.agent_id]
  if not by_event then return end
  for _, event in ipairs(EVENTS_ON[call.status] or {}) do
    local sub = by_event[event]
    if sub then
      deliver {
        url = sub.url, method = sub.method, headers = sub.headers,
        body = json.encode(shapes.event(event, call)),
        event = event, call_status = call.status, call_id = call.id,
      }
    end
  end
end

-- Sends what a call's new status calls for. Bodies are encoded now, so a
-- retried delivery repeats the same payload.
function webhook.status_changed(call)
  if call.callback_url then
    deliver {
      url = call.callback_target, method = "POST",
      headers = call.callback_headers,
      body = json.encode(shapes.envelope(call)),
      event = "callback", call_status = call.status, call_id = call.id,
    }
  end
  notify_agent(call)
end

return webhook
