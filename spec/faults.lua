-- The fault matrix shared by 50-faults_spec and 51-secrets_spec: every
-- fault the sandbox can play and every transport failure, crossed with
-- the ways of sending (a call, a GET, start_call + poll, a GET started
-- and polled). Each row says what the two kinds of request must report
-- (design.md, "Errors"): a call may be repeated only when it was never
-- sent or on 429; a GET also after 408, 5xx, timeouts and network errors.

local helpers = require "spec.helpers"
local lfs = require "lfs"
local socket = require "socket"

local FAULT = helpers.FAULT

local faults = {}


-- What a failing cell must give: kind, sent and retryable.
local function E(kind, sent, retryable)
  return { kind = kind, sent = sent, retryable = retryable }
end

-- A cell that must succeed.
local OK = { ok = true }


-- A loopback port nothing listens on: bound, then closed again.
local function closed_port()
  local server = assert(socket.bind("127.0.0.1", 0))
  local _, port = server:getsockname()
  server:close()
  return port
end


-- A host name that fails inside this machine's resolver, so that no DNS
-- query leaves it (the name server is off-limits to tests). A DNS label
-- is at most 63 bytes: glibc's getaddrinfo finds it in no /etc/hosts
-- line, then refuses to build a query for a 64-byte label. Checked with
-- `strace -f -e trace=network`: the lookup opens no UDP or TCP socket at
-- all, only tries nscd's Unix socket (absent). ".invalid" (RFC 6761)
-- could not resolve anywhere anyway.
faults.UNRESOLVABLE = ("a"):rep(64) .. ".invalid"


-- The rows. number: the call's recipient; id: the call-details id of the
-- GET (a GET of /workspace when absent); base: a base_url other than the
-- sandbox's plain one; opts: more client options; offline: the request
-- gets no HTTP reply at all, whatever key it carries; slow: a cell takes
-- a second or more; status: the HTTP status the error keeps;
-- retry_after: seconds, or {min, max}; call_message, read_message: a
-- pattern the message must match; call, read: what a call and a GET
-- must give (E(kind, sent, retryable), or OK).
function faults.rows()
  local sb = helpers.sandbox()
  local http_port = sb.url:match("^http://[^/]-:(%d+)")
  local path = sb.url:match("^http://[^/]+(/.*)$")
  local ambiguous = "may have been placed: look it up"
  return {
    { name = "401", number = FAULT.unauthorized, id = "fault-401",
      status = 401, call = E("auth", true, false),
      read = E("auth", true, false) },
    { name = "402", number = FAULT.credits, status = 402,
      call = E("credits", true, false) },
    { name = "429", number = FAULT.rate_limited, id = "fault-429",
      status = 429, retry_after = 2, call = E("rate_limited", true, true),
      read = E("rate_limited", true, true) },
    { name = "429 retry-after-ms", number = FAULT.rate_limited_ms,
      status = 429, retry_after = 1.5,
      call = E("rate_limited", true, true) },
    { name = "500", number = FAULT.server, id = "fault-500", status = 500,
      call = E("server", true, false), read = E("server", true, true) },
    { name = "503", number = FAULT.unavailable, id = "fault-503",
      status = 503, retry_after = { 1, 4 },
      call = E("server", true, false), read = E("server", true, true) },
    { name = "redirect", number = FAULT.redirect, id = "fault-redirect",
      status = 302, call_message = "redirect not followed",
      read_message = "redirect not followed",
      call = E("protocol", true, false), read = E("protocol", true, false) },
    { name = "reply cut mid-body", number = FAULT.cut_off, id = "fault-cut",
      call_message = ambiguous,
      call = E("network", true, false), read = E("network", true, true) },
    { name = "reply never comes", number = FAULT.never, id = "fault-never",
      opts = { timeout = 1 }, slow = true, call_message = ambiguous,
      call = E("timeout", true, false), read = E("timeout", true, true) },
    { name = "malformed JSON", number = FAULT.malformed,
      id = "fault-malformed", status = 200,
      call = E("protocol", true, false), read = E("protocol", true, false) },
    { name = "closed before any reply", number = FAULT.closed,
      id = "fault-closed", call_message = ambiguous,
      call = E("network", true, false), read = E("network", true, true) },
    { name = "slow reply", number = FAULT.slow, id = "fault-slow",
      slow = true, status = 404, call = OK,
      read = E("not_found", true, false) },
    { name = "connection refused", offline = true,
      base = ("http://127.0.0.1:%d%s"):format(closed_port(), path),
      call = E("network", false, true), read = E("network", false, true) },
    { name = "unresolvable host", offline = true,
      base = "https://" .. faults.UNRESOLVABLE .. path,
      call_message = "resolve", read_message = "resolve",
      call = E("network", false, true), read = E("network", false, true) },
    { name = "TLS to a plain-text port", offline = true,
      base = ("https://127.0.0.1:%s%s"):format(http_port, path),
      call_message = "TLS", read_message = "TLS",
      call = E("network", false, true), read = E("network", false, true) },
    { name = "untrusted certificate", offline = true, base = sb.https_url,
      call_message = "certificate.*ca_file",
      read_message = "certificate.*ca_file",
      call = E("network", false, true), read = E("network", false, true) },
    { name = "certificate trusted with ca_file", base = sb.https_url,
      opts = { ca_file = sb.ca }, call = OK, read = OK },
  }
end


-- A client for `row`; `opts` adds or overrides options last.
function faults.client(row, opts)
  local o = {}
  for k, v in pairs(row.opts or {}) do o[k] = v end
  if row.base then o.base_url = row.base end
  for k, v in pairs(opts or {}) do o[k] = v end
  return helpers.client(o)
end


local drain = helpers.drain


-- Starts a request with `start(callback)`, polls it to its end and
-- returns what its callback got, checking that it ran exactly once.
local function started(client, start)
  local runs, value, err = 0, nil, nil
  local handle, failure = start(function(v, e)
    runs = runs + 1
    value, err = v, e
  end)
  if not handle then return nil, failure end
  drain(client, 10)
  assert(runs == 1, "the callback ran " .. runs .. " times")
  return value, err
end


local function read_path(row)
  if row.id then return "/calling/call-details", { id = row.id } end
  return "/workspace"
end


-- The ways of sending. family: which expectation of a row applies.
faults.COLUMNS = {
  { name = "call", family = "call", run = function(client, row)
      return client:call(helpers.call_params(row.number))
    end },
  { name = "GET", family = "read", run = function(client, row)
      if row.id then return client:call_details(row.id) end
      return client:workspace()
    end },
  { name = "start_call + poll", family = "call", run = function(client, row)
      return started(client, function(callback)
        return client:start_call(helpers.call_params(row.number), callback)
      end)
    end },
  { name = "start GET + poll", family = "read", run = function(client, row)
      local p, query = read_path(row)
      return started(client, function(callback)
        return client:start("GET", p, { query = query }, callback)
      end)
    end },
}


-- Every cell: {row, column, expect}, in a fixed order.
function faults.cells()
  local cells = {}
  for _, row in ipairs(faults.rows()) do
    for _, column in ipairs(faults.COLUMNS) do
      local expect = row[column.family]
      if expect then
        cells[#cells + 1] = { row = row, column = column, expect = expect,
          message = row[column.family .. "_message"],
          name = row.name .. " / " .. column.name }
      end
    end
  end
  return cells
end


-- Runs one cell on a fresh client and closes it; returns value, err and
-- the client (closed).
function faults.run(cell, opts)
  local client = faults.client(cell.row, opts)
  local value, err = cell.column.run(client, cell.row)
  client:close()
  return value, err, client
end


-- How many descriptors this process has open.
function faults.fd_count()
  local n = 0
  for name in lfs.dir("/proc/self/fd") do
    if name ~= "." and name ~= ".." then n = n + 1 end
  end
  return n
end


return faults
