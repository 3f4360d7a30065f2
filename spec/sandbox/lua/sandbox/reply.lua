-- Writing JSON replies. Every reply states its Content-Length, so clients
-- reading a keep-alive connection by hand can frame it.

local json = require "sandbox.json"

local reply = {}

-- Sends value (a table, or text already encoded) with status and headers.
function reply.send(status, value, headers)
  local body = type(value) == "string" and value or json.encode(value)
  ngx.status = status
  ngx.header["Content-Type"] = "application/json"
  ngx.header["Content-Length"] = #body
  for name, v in pairs(headers or {}) do ngx.header[name] = v end
  ngx.print(body)
  return ngx.exit(ngx.OK)
end

function reply.ok(value, headers)
  return reply.send(200, value, headers)
end

-- {"detail": message}, the shape of Ringg's (FastAPI's) plain errors.
function reply.detail(status, message, headers)
  return reply.send(status, { detail = message }, headers)
end

-- One FastAPI validation problem: where (a list such as {"body", "name"}),
-- what, and its kind.
function reply.problem(loc, msg, kind)
  return { loc = json.array(loc), msg = msg, type = kind or "value_error" }
end

-- 422 with every problem found.
function reply.invalid(problems)
  return reply.send(422, { detail = json.array(problems) })
end

return reply
