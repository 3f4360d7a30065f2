-- The suite's probe: runs ringg.ngx inside nginx against the sandbox and
-- answers, as JSON, what a client got back.
--
--   GET /probe?case=NAME[&port=N][&id=CALL_ID]

local cjson = require "cjson.safe"
local ringg = require "ringg"
local ringg_ngx = require "ringg.ngx"

local KEY = os.getenv "RINGG_SANDBOX_KEY"
-- Through the upstream block named localhost: the sandbox over HTTPS.
local API = "https://localhost/ca/api/v0"

local M = {}


local function params(number)
  return {
    name = "Probe", mobile_number = number,
    agent_id = "830f767a-397e-4b39-82ff-235cd344e2f9",
    number_pool_id = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69",
  }
end


local function client(opts)
  opts = opts or {}
  opts.api_key = KEY
  opts.base_url = opts.base_url or API
  return ringg_ngx.client(opts)
end


-- What a verb returned: its value's id, or the error's fields.
local function outcome(value, err)
  if value then
    return { ok = true, id = type(value) == "table" and value.id or nil }
  end
  return {
    ok = false, kind = err.kind, sent = err.sent, retryable = err.retryable,
    status = err.status, message = err.message,
  }
end


local function call_to(number)
  return function()
    return outcome(client():call(params(number)))
  end
end


local CASES = {
  dropped = call_to "+15550100604",  -- closed before any reply
  silent = call_to "+15550100602",   -- no reply: proxy_read_timeout
  cut = call_to "+15550100601",      -- reply cut mid-body
}


function CASES.refused(args)
  local c = client{
    base_url = "http://127.0.0.1:" .. args.port .. "/ca/api/v0",
  }
  return outcome(c:call(params "+15550100123"))
end


function CASES.unmarked()
  local c = client{ location = "/_unmarked" }
  return outcome(c:call(params "+15550100123"))
end


-- GETs with a query string, through the subrequest.
function CASES.reads(args)
  local c = client()
  local page, err = c:call_history{ limit = 1, offset = 0 }
  if not page then return outcome(nil, err) end
  local details, derr = c:call_details(args.id)
  if not details then return outcome(nil, derr) end
  return { ok = true, limit = page.limit, rows = #page.calls,
           id = details.id, status = details.status }
end


-- lua-resty-http is not packaged in Debian 12: without it, asking for
-- its transport must say so; with it, a call must go through.
function CASES.resty_http()
  local made, transport = pcall(ringg_ngx.http)
  if not made then
    return { available = false, message = transport }
  end
  local c = ringg.new{ api_key = KEY, base_url = API,
                       transport = transport }
  local result = outcome(c:call(params "+15550100123"))
  result.available = true
  return result
end


-- A ringg.ngx client never falls back to libcurl.
function CASES.start_call()
  local c = client()
  local ok, err = pcall(c.start_call, c, params "+15550100123",
                        function() end)
  return { raised = not ok, message = tostring(err) }
end


-- In a timer the subrequest transport cannot run: it must say so.
function CASES.timer()
  local done
  ngx.timer.at(0, function()
    local c = client()
    local ok, err = pcall(c.call, c, params "+15550100123")
    done = { raised = not ok, message = tostring(err) }
  end)
  for _ = 1, 100 do
    if done then break end
    ngx.sleep(0.02)
  end
  return done or { raised = false, message = "the timer did not run" }
end


function M.run()
  local args = ngx.req.get_uri_args()
  local case = CASES[args.case]
  if not case then
    ngx.status = 404
    return ngx.say('{"error":"no such case"}')
  end
  ngx.say(cjson.encode(case(args)))
end


return M
