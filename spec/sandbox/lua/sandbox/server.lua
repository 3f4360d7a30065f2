-- nginx's entry points into the sandbox (see nginx.conf.in).

local api = require "sandbox.api"
local config = require "sandbox.config"
local control = require "sandbox.control"
local reply = require "sandbox.reply"
local util = require "sandbox.util"

local server = {}

-- init_by_lua: read the settings while the whole environment is visible.
function server.init()
  config.load()
end

-- init_worker_by_lua.
function server.init_worker()
  util.seed()
end

-- rewrite_by_lua, for every request.
function server.rewrite()
  control.note_request()
end

-- header_filter_by_lua: every reply says which request and which
-- connection it belongs to.
function server.header_filter()
  ngx.header["X-Request-Id"] = ngx.var.request_id
  ngx.header["X-Sandbox-Connection"] = ngx.var.connection
end

-- content_by_lua: routes by prefix.
function server.content()
  local uri = ngx.var.uri
  local base = api.BASE
  if uri:sub(1, #base + 1) == base .. "/" then
    return api.handle(uri:sub(#base + 1))
  end
  if uri:sub(1, 10) == "/_sandbox/" then
    return control.handle(uri:sub(10))
  end
  return reply.detail(404, "Not Found")
end

return server
