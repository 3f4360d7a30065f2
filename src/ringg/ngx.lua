-- ringg.ngx: OpenResty transports for ringg clients.
--
-- Inside nginx a request handler must never block its worker, so the
-- libcurl transport (a blocking curl_easy_perform) is ruled out there.
-- This module gives two transports that yield to nginx's event loop:
--
--   ringg_ngx.subrequest(location)  sends through nginx itself, with
--       ngx.location.capture to an internal proxy location (default
--       "/_ringg"); needs only the nginx configuration below
--   ringg_ngx.http(opts)            sends with lua-resty-http's cosockets,
--       when that library is installed (it is not packaged in Debian 12)
--
-- and ringg_ngx.client(opts), which is ringg.new with the subrequest
-- transport already set, the way to create a client in nginx:
--
--   local client = require("ringg.ngx").client {
--     api_key = os.getenv "RINGG_API_KEY",  -- needs `env RINGG_API_KEY;`
--   }
--   local call, err = client:call { ... }   -- yields, never blocks
--
-- The subrequest works in rewrite, access and content handlers (not in
-- timers: use ringg_ngx.http there). The proxy location, written once
-- (examples/openresty/ringg-proxy.conf holds it, ready to include):
--
--   location = /_ringg {
--     internal;
--     # The transport hands these over through the subrequest; each
--     # `set $v $v` only declares one and keeps the value handed over.
--     set $ringg_url $ringg_url;
--     set $ringg_api_key $ringg_api_key;
--     set $ringg_content_type $ringg_content_type;
--     set $ringg_accept $ringg_accept;
--     set $ringg_user_agent $ringg_user_agent;
--     proxy_pass $ringg_url;
--     # Only the API's headers go out, never those of the request that
--     # made the subrequest (cookies, authorization, ...).
--     proxy_pass_request_headers off;
--     proxy_set_header X-API-KEY $ringg_api_key;
--     proxy_set_header Content-Type $ringg_content_type;
--     proxy_set_header Accept $ringg_accept;
--     proxy_set_header User-Agent $ringg_user_agent;
--     proxy_http_version 1.1;
--     proxy_set_header Connection "";
--     proxy_ssl_server_name on;
--     proxy_ssl_verify on;
--     proxy_ssl_verify_depth 3;
--     proxy_ssl_trusted_certificate /etc/ssl/certs/ca-certificates.crt;
--     proxy_connect_timeout 10s;
--     proxy_send_timeout 30s;
--     proxy_read_timeout 30s;
--     # Tells the transport whether the API answered or nginx did.
--     header_filter_by_lua_block { require("ringg.ngx").header_filter() }
--   }
--
-- and, at the http level:
--
--   lua_package_path "/usr/local/share/lua/5.1/?.lua;;";
--   lua_package_cpath "/usr/local/lib/lua/5.1/?.so;;";
--   # Named after the API's host, so that `proxy_pass $ringg_url` finds
--   # it and keeps connections alive. nginx resolves the server name when
--   # it starts or reloads.
--   upstream prod-api.ringg.ai {
--     server prod-api.ringg.ai:443;
--     keepalive 8;
--   }
--
-- Without that upstream block, nginx resolves the host on each call
-- through a `resolver` (e.g. `resolver 127.0.0.53 valid=300s;`) and opens
-- a new connection, TLS handshake included, for every request.
--
-- Timeouts are nginx's proxy_*_timeout directives: the client's
-- `timeout` option does not reach the subrequest. An error log at the
-- debug level shows the API key (in variable values and proxied
-- headers): keep it off where the key is real.
--
-- Replies and failures map onto the client's error model: an answer of
-- the API is passed on whatever its status; a failure of nginx to get
-- one becomes kind "network" or "timeout", with `sent` false only when
-- no connection to the API was made.

local ringg = require "ringg"

local ngx = ngx
if type(ngx) ~= "table" or type(ngx.location) ~= "table" then
  error("ringg.ngx runs inside OpenResty (nginx with its Lua module) "
        .. "only", 2)
end

local error, pairs, pcall, require = error, pairs, pcall, require
local tonumber, tostring, type = tonumber, tostring, type
local concat = table.concat
local capture = ngx.location.capture

local M = {}

M.DEFAULT_LOCATION = "/_ringg"

-- The nginx variables that carry each request header to the location.
local HEADER_VARS = {
  ["x-api-key"] = "ringg_api_key",
  ["content-type"] = "ringg_content_type",
  ["accept"] = "ringg_accept",
  ["user-agent"] = "ringg_user_agent",
}

-- Where ngx.location.capture may run.
local SUBREQUEST_PHASES = { rewrite = true, access = true, content = true }

-- Key of ngx.ctx under which header_filter leaves its marker.
local MARK = "ringg_upstream"


local function failure(kind, sent, message)
  return { kind = kind, sent = sent, message = "ringg.ngx: " .. message }
end


-- Header values as strings: a header given more than once becomes one
-- comma-separated value, as HTTP allows.
local function flat_headers(headers)
  local flat = {}
  for name, value in pairs(headers or {}) do
    if type(value) == "table" then value = concat(value, ", ") end
    flat[name] = tostring(value)
  end
  return flat
end


-- The last entry of an $upstream_* list ("0.001, 0.002" when nginx
-- tried several servers), or nil when it is empty.
local function last(list)
  return list and list:match("([^%s,:]+)%s*$")
end


-- In the proxy location's header filter: records whether the API was
-- connected to and whether it answered, for the transport to read.
function M.header_filter()
  ngx.ctx[MARK] = {
    connect = last(ngx.var.upstream_connect_time),
    header = last(ngx.var.upstream_header_time),
  }
end


local function subrequest_vars(req)
  local vars = { ringg_url = req.url }
  for _, var in pairs(HEADER_VARS) do vars[var] = "" end
  for name, value in pairs(req.headers) do
    local var = HEADER_VARS[name:lower()]
    if not var then
      return nil, failure("network", false, "cannot pass header "
        .. name .. " through the subrequest")
    end
    vars[var] = value
  end
  return vars
end


-- What went wrong when nginx itself answered `status`, given the
-- marker's times ("-" for what did not happen, nil for no upstream).
local function proxy_failure(location, status, mark)
  local kind = status == 504 and "timeout" or "network"
  if mark.connect == nil then
    return failure(kind, false, ("%s answered HTTP %d without contacting "
      .. "the API (see nginx's error log)"):format(location, status))
  end
  if mark.connect == "-" then
    return failure(kind, false, kind == "timeout"
      and "connecting to the API timed out (proxy_connect_timeout)"
      or "could not connect to the API (see nginx's error log)")
  end
  return failure(kind, true, kind == "timeout"
    and "the API did not answer in time (proxy_read_timeout)"
    or "the connection to the API failed before a reply came "
      .. "(see nginx's error log)")
end


local function result(location, res, mark)
  if not mark then
    return nil, failure("network", true, location .. " answered HTTP "
      .. tostring(res.status) .. " without the marker of ringg.ngx's "
      .. "proxy location (does it run header_filter_by_lua_block "
      .. "{ require(\"ringg.ngx\").header_filter() }?); the request may "
      .. "have reached the API")
  end
  if not tonumber(mark.header) then
    return nil, proxy_failure(location, res.status, mark)
  end
  if res.truncated then
    return nil, failure("network", true, "the API's reply (HTTP "
      .. res.status .. ") was cut off")
  end
  return { status = res.status, headers = flat_headers(res.header),
           body = res.body }
end


-- The options of ngx.location.capture for `req`, or nil and a failure.
local function capture_options(req)
  local method = ngx["HTTP_" .. tostring(req.method)]
  if not method then
    return nil, failure("network", false, "method "
      .. tostring(req.method) .. " cannot be sent as a subrequest")
  end
  local vars, err = subrequest_vars(req)
  if not vars then return nil, err end
  local body = req.body
  -- Without a body of its own, a POST or PUT subrequest would forward
  -- the body of the request that made it.
  if body == nil and (req.method == "POST" or req.method == "PUT") then
    body = ""
  end
  return { method = method, body = body, vars = vars, ctx = {} }
end


-- Returns a transport that sends each request as a subrequest to
-- `location`, the internal proxy location described above.
function M.subrequest(location)
  location = location or M.DEFAULT_LOCATION
  if type(location) ~= "string" or location:sub(1, 1) ~= "/" then
    error("bad argument #1 to 'subrequest' (location path expected)", 2)
  end
  return function(req)
    local phase = ngx.get_phase()
    if not SUBREQUEST_PHASES[phase] then
      error("ringg.ngx: no subrequests in nginx's " .. phase .. " phase "
            .. "(only in rewrite, access and content handlers); use "
            .. "ringg_ngx.http there", 2)
    end
    local options, err = capture_options(req)
    if not options then return nil, err end
    local ok, res = pcall(capture, location, options)
    if not ok then
      error("ringg.ngx: the subrequest to " .. location .. " failed: "
            .. tostring(res) .. " (is the location set up as ringg.ngx "
            .. "documents? nginx's error log says more)", 2)
    end
    return result(location, res, options.ctx[MARK])
  end
end


--
-- lua-resty-http
--

local function http_failure(err, sent)
  local kind = err == "timeout" and "timeout" or "network"
  return failure(kind, sent, "lua-resty-http: " .. tostring(err))
end


-- A connection to the host of `req` from lua-resty-http's pool (TLS
-- handshake done), and the parsed URL; or nil and a failure. `http` is
-- the resty.http module; `opts` the settings of M.http.
local function http_connect(http, opts, req)
  local uri, perr = http:parse_uri(req.url)
  if not uri then return nil, http_failure(perr, false) end
  local httpc, nerr = http.new()
  if not httpc then return nil, http_failure(nerr, false) end
  local wait = (req.timeout or 30) * 1000
  httpc:set_timeouts(opts.connect_timeout * 1000, wait, wait)
  local ok, cerr = httpc:connect {
    scheme = uri[1], host = uri[2], port = uri[3],
    ssl_verify = opts.ssl_verify, ssl_server_name = uri[2],
    pool_size = opts.pool_size,
  }
  if not ok then return nil, http_failure(cerr, false) end
  return httpc, uri
end


local function http_send(http, opts, req)
  local httpc, uri = http_connect(http, opts, req)
  if not httpc then return nil, uri end
  local res, err = httpc:request {
    method = req.method, path = uri[4], headers = req.headers,
    body = req.body,
  }
  local body
  if res and not res.has_body then
    body = ""  -- 204 and the like: read_body would fail
  elseif res then
    body, err = res:read_body()
  end
  if not body then
    httpc:close()
    return nil, http_failure(err, true)
  end
  httpc:set_keepalive(opts.keepalive_timeout * 1000)
  return { status = res.status, headers = flat_headers(res.headers),
           body = body }
end


-- Returns a transport on lua-resty-http (0.16 or newer), usable in
-- timers too. opts: connect_timeout (s, default 10), keepalive_timeout
-- (s, default 60), pool_size, ssl_verify (default true; certificates
-- are checked against lua_ssl_trusted_certificate).
function M.http(opts)
  local found, http = pcall(require, "resty.http")
  if not found then
    error("ringg.ngx.http needs lua-resty-http (module resty.http), "
          .. "which is not installed; use ringg.ngx.subrequest, which "
          .. "needs nothing but nginx", 2)
  end
  opts = opts or {}
  if type(opts) ~= "table" then
    error("bad argument #1 to 'http' (table expected)", 2)
  end
  local settings = {
    connect_timeout = opts.connect_timeout or 10,
    keepalive_timeout = opts.keepalive_timeout or 60,
    pool_size = opts.pool_size,
    ssl_verify = opts.ssl_verify ~= false,
  }
  return function(req)
    return http_send(http, settings, req)
  end
end


-- ringg.new with a transport that does not block nginx: the subrequest
-- one to opts.location (default "/_ringg"), unless opts.transport gives
-- another.
function M.client(opts)
  if type(opts) ~= "table" then
    error("ringg.ngx.client expects a table of options", 2)
  end
  local options = {}
  for name, value in pairs(opts) do options[name] = value end
  local location = options.location
  options.location = nil
  if options.transport == nil then
    options.transport = M.subrequest(location)
  elseif location ~= nil then
    error("ringg.ngx.client: give 'location' or 'transport', not both", 2)
  end
  return ringg.new(options)
end


return M
