-- webhook_receiver.lua: a small receiver for Ringg's webhooks, in plain
-- Lua with LuaSocket.
--
-- It listens on 127.0.0.1, takes one request at a time, checks a
-- shared-secret header (Ringg signs nothing: the secret is a header the
-- receiver chose, sent back through callback_args.headers or an event
-- subscription's headers), parses the body with ringg.webhook.parse,
-- drops repeated deliveries by ringg.webhook.key, and hands each new
-- event on before answering. Answers: 200 (also for a repeat), 401 on a
-- missing or wrong secret, 400 on a body that is not a webhook, 500 when
-- the event's handler raised (Ringg then delivers it again), 405, 411,
-- 413 and 431 for requests it will not read.
--
-- As a script (a demo; for production, put a real web server in front):
--
--   WEBHOOK_SECRET=s3cret PORT=8080 lua5.4 examples/webhook_receiver.lua
--
-- prints each new event. Environment: PORT (default 8080), WEBHOOK_SECRET
-- (required), WEBHOOK_HEADER (default X-Webhook-Secret), MAX_EVENTS
-- (stop after that many new events), TIMEOUT (stop after that many
-- seconds). As a module:
--
--   local serve = require "webhook_receiver"
--   serve{port =, secret =, header =, on_event = function(event) end,
--         max_events =, timeout =} --> number of new events, or nil, err
--
-- serve returns early when on_event returns "stop".

-- Required as a module, `...` is its name; run as a script, there are
-- no arguments (the options come from the environment).
local as_script = not (select("#", ...) > 0
                       and tostring((...)):find("webhook_receiver$"))

-- Run from the source tree, use its module and build (harmless when
-- ringg is installed: these paths then do not exist).
if as_script then
  local root = (arg and arg[0] or ""):match("^(.-)[^/]*$") .. "../"
  local build = rawget(_G, "jit") and "build/jit/" or "build/5.4/"
  package.path = root .. "src/?.lua;" .. root .. "src/?/init.lua;"
    .. package.path
  package.cpath = root .. build .. "?.so;" .. package.cpath
end

local socket = require "socket"
local webhook = require("ringg").webhook

local gettime = socket.gettime

local MAX_HEAD = 16 * 1024         -- request line and headers
local MAX_BODY = 1024 * 1024
local MAX_HEADERS = 100
local REQUEST_TIMEOUT = 5          -- seconds to read one request
local REMEMBER = 10000             -- keys kept to spot repeats

local REASONS = {
  [200] = "OK", [400] = "Bad Request", [401] = "Unauthorized",
  [405] = "Method Not Allowed", [411] = "Length Required",
  [413] = "Content Too Large", [431] = "Request Header Fields Too Large",
  [500] = "Internal Server Error",
}


-- Reads up to the blank line that ends the head, at most MAX_HEAD bytes.
-- LuaSocket buffers, so a byte at a time costs little.
local function read_head(conn)
  local bytes = {}
  while #bytes < MAX_HEAD do
    local c, err = conn:receive(1)
    if not c then return nil, err end
    bytes[#bytes + 1] = c
    local n = #bytes
    if c == "\n" and (bytes[n - 1] == "\n"
        or (bytes[n - 1] == "\r" and bytes[n - 2] == "\n")) then
      return table.concat(bytes)
    end
  end
  return nil, 431
end


-- The method and the headers (names in lower case; a repeated header
-- becomes a list of its values) of `head`; or nil and a status.
local function parse_head(head)
  local method = head:match("^(%u+) %S+ HTTP/1%.%d\r?\n")
  if not method then return nil, 400 end
  local headers, count = {}, 0
  for line in head:gmatch("\n([^\r\n]+)") do
    local name, value = line:match("^([!#$%%&'*+%-.^_`|~%w]+):%s*(.-)%s*$")
    if not name then return nil, 400 end
    count = count + 1
    if count > MAX_HEADERS then return nil, 431 end
    name = name:lower()
    local old = headers[name]
    if old == nil then
      headers[name] = value
    elseif type(old) == "table" then
      old[#old + 1] = value
    else
      headers[name] = { old, value }
    end
  end
  return method, headers
end


-- Reads one request from `conn`. Returns the status to answer and, for
-- a request worth handling, its headers and body.
local function read_request(conn)
  local head, err = read_head(conn)
  if not head then return type(err) == "number" and err or nil end
  local method, headers = parse_head(head)
  if not method then return headers end
  if method ~= "POST" then return 405 end
  local length = headers["content-length"]
  if headers["transfer-encoding"] or type(length) ~= "string"
      or not length:find("^%d+$") then
    return 411
  end
  length = tonumber(length)
  if length > MAX_BODY then return 413 end
  if headers.expect and tostring(headers.expect):lower() == "100-continue"
  then
    conn:send("HTTP/1.1 100 Continue\r\n\r\n")
  end
  local body = length > 0 and conn:receive(length) or ""
  if not body then return nil end
  return 200, headers, body
end


local function respond(conn, status)
  local text = REASONS[status] .. "\n"
  conn:send(("HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
    .. "Content-Length: %d\r\nConnection: close\r\n\r\n%s"):format(
    status, REASONS[status], #text, text))
end


-- The default on_event: one line per event, then the transcript.
local function print_event(event)
  local turns = event.transcript
  io.write(("%s %s %s%s\n"):format(event.type, event.call_id,
    event.status or "-",
    turns and (" (%d transcript turns)"):format(#turns) or ""))
  for _, turn in ipairs(turns or {}) do
    io.write(("  %s: %s\n"):format(turn.role, turn.text))
  end
  io.flush()
end


-- Remembers the last REMEMBER keys; true when `key` was seen before.
local function seen_before(memory, key)
  if memory.keys[key] then return true end
  memory.last = memory.last + 1
  memory.keys[key] = memory.last
  memory.order[memory.last] = key
  local old = memory.last - REMEMBER
  if old >= 1 then
    local k = memory.order[old]
    if memory.keys[k] == old then memory.keys[k] = nil end
    memory.order[old] = nil
  end
  return false
end


-- Hands `event` to on_event. When that fails, the delivery is answered
-- 500 and forgotten, so that Ringg's retry is taken as new.
local function deliver(opts, memory, event)
  local ok, err = pcall(opts.on_event, event)
  if ok then
    opts.stop = err == "stop"  -- on_event's result: "stop" ends serve
    return 200
  end
  memory.keys[webhook.key(event)] = nil
  io.stderr:write("webhook_receiver.lua: on_event failed: ",
                  tostring(err), "\n")
  return 500
end


-- Handles one connection; returns true when it brought a new event,
-- handled without error.
local function handle(conn, opts, memory)
  conn:settimeout(REQUEST_TIMEOUT)
  local status, headers, body = read_request(conn)
  local event
  if status == 200 then
    if not webhook.verify(headers, opts.header, opts.secret) then
      status = 401
    else
      event = webhook.parse(body)
      if not event then
        status = 400
      elseif seen_before(memory, webhook.key(event)) then
        event = nil
      else
        status = deliver(opts, memory, event)
      end
    end
  end
  if status then respond(conn, status) end
  conn:close()
  return event ~= nil and status == 200
end


-- Serves until max_events new events or timeout seconds, whichever
-- comes first (or forever). Returns the number of new events, or nil and
-- a message when the port cannot be bound or accept fails.
local function serve(opts)
  assert(type(opts) == "table", "serve expects a table of options")
  assert(type(opts.secret) == "string" and opts.secret ~= "",
         "serve needs a secret")
  opts = {
    port = opts.port or 8080, secret = opts.secret,
    header = opts.header or "X-Webhook-Secret",
    on_event = opts.on_event or print_event,
    max_events = opts.max_events, timeout = opts.timeout,
    on_ready = opts.on_ready,
  }
  local server, err = socket.bind("127.0.0.1", opts.port)
  if not server then return nil, err end
  if opts.on_ready then opts.on_ready(select(2, server:getsockname())) end
  local deadline = opts.timeout and gettime() + opts.timeout
  local memory, count = { keys = {}, order = {}, last = 0 }, 0
  while not opts.max_events or count < opts.max_events do
    local wait = deadline and deadline - gettime()
    if wait and wait <= 0 then break end
    server:settimeout(wait)
    local conn, aerr = server:accept()
    if conn then
      if handle(conn, opts, memory) then count = count + 1 end
      if opts.stop then break end
    elseif aerr ~= "timeout" then
      server:close()
      return nil, aerr
    end
  end
  server:close()
  return count
end


if not as_script then return serve end

local secret = os.getenv("WEBHOOK_SECRET")
if not secret or secret == "" then
  io.stderr:write("webhook_receiver.lua: set WEBHOOK_SECRET\n")
  os.exit(1)
end
local count, err = serve{
  port = tonumber(os.getenv("PORT") or "8080"),
  secret = secret,
  header = os.getenv("WEBHOOK_HEADER"),
  max_events = tonumber(os.getenv("MAX_EVENTS") or ""),
  timeout = tonumber(os.getenv("TIMEOUT") or ""),
  on_ready = function(port)
    io.write("listening on http://127.0.0.1:", port, "/\n")
    io.flush()
  end,
}
if not count then
  io.stderr:write("webhook_receiver.lua: ", tostring(err), "\n")
  os.exit(1)
end
io.write(("%d new event(s)\n"):format(count))
