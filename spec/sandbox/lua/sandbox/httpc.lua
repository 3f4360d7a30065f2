-- A tiny HTTP/1.1 client for webhook delivery, on nginx's cosocket so it
-- never blocks the worker. One request per connection (Connection: close);
-- only the status line and headers are read, the body is not needed.
-- It talks to loopback hosts only: the sandbox must never reach out to the
-- internet, whatever callback URL a test or demo hands it.

local httpc = {}

local concat = table.concat
local floor, max = math.floor, math.max

-- scheme, host, port and request target of an http(s) URL, or nil, error.
function httpc.parse_url(url)
  local scheme, authority, target = url:match("^(%a+)://([^/?#]+)([^#]*)")
  scheme = scheme and scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "not an http(s) URL"
  end
  local host, port = authority:match("^%[([%x:.]+)%]:?(%d*)$")
  if not host then host, port = authority:match("^([^:@]+):?(%d*)$") end
  if not host then return nil, "bad host in URL" end
  if target == "" or target:sub(1, 1) == "?" then target = "/" .. target end
  return {
    scheme = scheme,
    host = host:lower(),
    port = tonumber(port) or (scheme == "https" and 443 or 80),
    target = target,
    authority = authority,
  }
end

-- The address to connect to for a loopback host, or nil for any other.
local function loopback_address(host)
  if host == "localhost" or host:match("^127%.%d+%.%d+%.%d+$") then
    return host == "localhost" and "127.0.0.1" or host
  end
  if host == "::1" then return "[::1]" end
  return nil
end

local function request_text(u, opts)
  local lines = {
    opts.method .. " " .. u.target .. " HTTP/1.1",
    "Host: " .. u.authority,
    "User-Agent: ringg-sandbox-webhook/1",
    "Content-Length: " .. #opts.body,
    "Connection: close",
  }
  for name, value in pairs(opts.headers or {}) do
    -- Framing is ours to set: a caller's Content-Length or Host would
    -- corrupt the request.
    local lower = name:lower()
    if lower ~= "content-length" and lower ~= "host"
        and lower ~= "connection" and lower ~= "transfer-encoding" then
      lines[#lines + 1] = name .. ": " .. value
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = opts.body
  return concat(lines, "\r\n")
end

local function exchange(sock, u, opts, deadline)
  local function arm()
    local ms = floor((deadline - ngx.now()) * 1000)
    sock:settimeout(max(ms, 1))
  end
  arm()
  local addr = loopback_address(u.host)
  local ok, err = sock:connect(addr, u.port)
  if not ok then return nil, "connect: " .. err end
  if u.scheme == "https" then
    -- Verified against the sandbox CA (lua_ssl_trusted_certificate).
    -- Names are checked for DNS hosts only: nginx cannot match an IP
    -- address against the certificate's IP entries.
    arm()
    local name = u.host
    if name:match("^[%x.:]+$") and name:find("[.:]") then name = nil end
    ok, err = sock:sslhandshake(nil, name, true)
    if not ok then return nil, "tls: " .. err end
  end
  arm()
  ok, err = sock:send(request_text(u, opts))
  if not ok then return nil, "send: " .. err end
  arm()
  local line
  line, err = sock:receive("*l")
  if not line then return nil, "receive: " .. err end
  local status = tonumber(line:match("^HTTP/%d%.%d (%d%d%d)"))
  if not status then return nil, "not an HTTP reply: " .. line:sub(1, 60) end
  -- Read the headers too, so the receiver sees its reply taken in full.
  repeat
    arm()
    line = sock:receive("*l")
  until not line or line == ""
  return status
end

-- Sends opts = {url, method, headers, body, timeout (seconds)}; returns the
-- reply's status code, or nil and what went wrong.
function httpc.request(opts)
  local u, err = httpc.parse_url(opts.url)
  if not u then return nil, err end
  if not loopback_address(u.host) then
    return nil, "refused: the sandbox delivers to loopback hosts only"
  end
  ngx.update_time()
  local sock = ngx.socket.tcp()
  local status
  status, err = exchange(sock, u, opts, ngx.now() + opts.timeout)
  sock:close()
  return status, err
end

return httpc
