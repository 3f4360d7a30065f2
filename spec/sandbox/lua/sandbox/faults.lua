-- Faults on demand, chosen by the recipient number of a call-initiate
-- request. Some answer in place of the call (nothing is stored); others
-- store the call as usual and then misbehave in how they answer. Reads
-- have their own: GET /calling/call-details with a magic id.

local config = require "sandbox.config"
local json = require "sandbox.json"
local reply = require "sandbox.reply"
local shapes = require "sandbox.shapes"

local floor = math.floor

local faults = {}

-- Closes the connection without writing anything: nginx's special 444.
local function drop()
  return ngx.exit(444)
end

-- A 302 to `path` on 127.0.0.2. That is loopback too, so a client that
-- follows it stays local; but it must not follow it.
local function redirect(path)
  local location = "http://127.0.0.2:" .. config.port .. path
  return reply.send(302, { detail = "Moved" }, { Location = location })
end

-- Writes the status line, headers and the first half of `body` straight
-- to the client socket, declaring the full length, then closes: a reply
-- cut off mid-body.
local function cut_off(body)
  local head = table.concat({
    "HTTP/1.1 200 OK",
    "Content-Type: application/json",
    "Content-Length: " .. #body,
    "X-Request-Id: " .. ngx.var.request_id,
    "X-Sandbox-Connection: " .. ngx.var.connection,
    "", "",
  }, "\r\n")
  local sock, err = ngx.req.socket(true)
  if not sock then
    ngx.log(ngx.ERR, "cut-off fault: ", err)
    return drop()
  end
  sock:send(head .. body:sub(1, floor(#body / 2)))
  return drop()
end

local function unauthorized()
  return reply.detail(401, "Invalid or missing API key")
end

local function rate_limited()
  return reply.detail(429, "Rate limit exceeded", { ["Retry-After"] = "2" })
end

local function server_error()
  return reply.detail(500, "Internal server error")
end

local function unavailable()
  return reply.detail(503, "Service temporarily unavailable",
    { ["Retry-After"] = ngx.http_time(ngx.time() + 3) })
end

local function malformed()
  return reply.ok('{"status":"success","data":{"call_id":')
end

-- Answers in place of the call, before the body is validated.
local INSTEAD = {
  ["+15550100401"] = unauthorized,
  ["+15550100402"] = function()
    return reply.detail(402, "Insufficient credits")
  end,
  ["+15550100429"] = rate_limited,
  ["+15550100430"] = function()
    return reply.detail(429, "Rate limit exceeded",
      { ["retry-after-ms"] = "1500" })
  end,
  ["+15550100500"] = server_error,
  ["+15550100503"] = unavailable,
  ["+15550100301"] = function()
    return redirect("/ca/api/v0/calling/v2/outbound/individual")
  end,
  ["+15550100603"] = malformed,
  ["+15550100604"] = drop,
}

-- Answers for a call already stored.
local AFTER = {
  ["+15550100201"] = function(call)
    return reply.ok(shapes.legacy(call))
  end,
  ["+15550100601"] = function(call)
    return cut_off(json.encode(shapes.initiated(call)))
  end,
  ["+15550100602"] = function(call)
    -- Held without blocking the worker; lua_check_client_abort ends the
    -- wait early when the client gives up.
    ngx.sleep(120)
    return reply.ok(shapes.initiated(call))
  end,
  ["+15550100605"] = function(call)
    ngx.sleep(1.5)
    return reply.ok(shapes.initiated(call))
  end,
}

-- Answers for GET /calling/call-details?id=<id>, in place of the lookup.
-- They mirror the call faults; no stored call is involved.
local READ = {
  ["fault-401"] = unauthorized,
  ["fault-429"] = rate_limited,
  ["fault-500"] = server_error,
  ["fault-503"] = unavailable,
  ["fault-redirect"] = function()
    return redirect("/ca/api/v0/calling/call-details?id=fault-redirect")
  end,
  ["fault-cut"] = function()
    return cut_off(json.encode {
      status = "success",
      data = { id = "fault-cut", call_status = "completed",
               call_direction = "outbound", to_number = "+919876543210" },
    })
  end,
  ["fault-never"] = function()
    ngx.sleep(120)
    return reply.detail(404, "Call not found")
  end,
  ["fault-malformed"] = malformed,
  ["fault-closed"] = drop,
  ["fault-slow"] = function()
    ngx.sleep(1.5)
    return reply.detail(404, "Call not found")
  end,
}

-- Answers for number in place of placing the call; returns true if it did.
function faults.instead(number)
  local answer = INSTEAD[number]
  if not answer then return false end
  answer()
  return true
end

-- The way to answer for a stored call to number, or nil for the normal one.
function faults.after(number)
  return AFTER[number]
end

-- Answers for a call-details id in place of the lookup; returns true if
-- it did.
function faults.read(id)
  local answer = READ[id]
  if not answer then return false end
  answer()
  return true
end

return faults
