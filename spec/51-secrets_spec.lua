-- The API key stays secret and headers cannot be injected: across the
-- whole fault matrix (spec/faults.lua) the key shows in no error, result,
-- tostring or output; CR, LF and NUL never reach a header; a redirect
-- never takes the key to another host.

local lfs = require "lfs"
local socket = require "socket"
local ringg = require "ringg"
local faults = require "spec.faults"
local helpers = require "spec.helpers"

local sb = helpers.sandbox()

-- A key for requests that get no HTTP reply (refused, unresolvable,
-- TLS failures): the sandbox only accepts its own key, so requests that
-- reach it carry that one, which is just as secret here.
local SENTINEL = "sk-sentinel-5b8e2f19c4d7a063"


local function key_for(row)
  return row.offline and SENTINEL or sb.key
end


-- Every 12-byte window of the key (the whole key when shorter): a quoted
-- excerpt or a cut message would still show one.
local function fragments(key)
  local width = math.min(12, #key)
  local list = {}
  for i = 1, #key - width + 1 do list[#list + 1] = key:sub(i, i + width - 1) end
  return list
end


-- Where in `value` a fragment of `key` shows, or nil: strings, table keys
-- and values at any depth, and what __tostring gives.
local function find_key(value, key, path, seen)
  path, seen = path or "value", seen or {}
  if type(value) == "string" then
    for _, piece in ipairs(fragments(key)) do
      if value:find(piece, 1, true) then return path end
    end
    return nil
  end
  if type(value) ~= "table" or seen[value] then return nil end
  seen[value] = true
  local mt = getmetatable(value)
  if mt and mt.__tostring and find_key(tostring(value), key) then
    return "tostring(" .. path .. ")"
  end
  for k, v in pairs(value) do
    local where = find_key(k, key, path .. " (a key)", seen)
      or find_key(v, key, path .. "." .. tostring(k), seen)
    if where then return where end
  end
  return nil
end


local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end


local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end


-- Runs `code` in a fresh interpreter of the same kind, with this one's
-- module paths, for at most 60 s; returns its stdout and stderr.
local function run_lua(code)
  local exe = assert(lfs.symlinkattributes("/proc/self/exe", "target"))
  local script, errors = os.tmpname(), os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(("package.path = %q\npackage.cpath = %q\n"):format(package.path,
          package.cpath), code)
  f:close()
  local p = assert(io.popen("timeout 60 " .. shell_quote(exe) .. " "
    .. shell_quote(script) .. " 2>" .. shell_quote(errors)))
  local out = p:read("*a")
  p:close()
  local err = slurp(errors)
  os.remove(script)
  os.remove(errors)
  return out, err
end


describe("the API key", function()

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  describe("shows in no error nor result", function()
    for _, cell in ipairs(faults.cells()) do
      it(cell.name, function()
        local key = key_for(cell.row)
        local value, err, client = faults.run(cell, { api_key = key })
        assert.is_nil(find_key(value, key))
        assert.is_nil(find_key(err, key, "err"))
        if type(err) == "table" and err.kind then
          assert.is_nil(find_key(tostring(err), key))
          assert.is_nil(find_key(err.message, key))
        end
        assert.is_nil(find_key(tostring(client), key))
      end)
    end
  end)


  it("shows in no tostring of a client or handle", function()
    local client = helpers.client{ api_key = SENTINEL }
    assert.is_nil(find_key(tostring(client), SENTINEL))
    local handle = client:start_call(helpers.call_params(), function() end)
    assert.is_nil(find_key(tostring(handle), SENTINEL))
    client:close()
    assert.is_nil(find_key(tostring(client), SENTINEL))
    assert.is_nil(find_key(tostring(handle), SENTINEL))
  end)


  it("is printed by nothing, whatever fails", function()
    local out, err = run_lua(([[
      local faults = require "spec.faults"
      local n = 0
      for _, cell in ipairs(faults.cells()) do
        if not cell.row.slow then
          local key = cell.row.offline and %q or %q
          local _, e, client = faults.run(cell, { api_key = key })
          print(tostring(e), tostring(client))
          n = n + 1
        end
      end
      print("ran " .. n)
    ]]):format(SENTINEL, sb.key))
    local cells = 0
    for _, cell in ipairs(faults.cells()) do
      if not cell.row.slow then cells = cells + 1 end
    end
    assert.matches("ran " .. cells .. "\n$", out)
    assert.are.equal("", err)
    assert.is_nil(find_key(out, SENTINEL))
    assert.is_nil(find_key(out, sb.key))
  end)


  -- verbose = true is libcurl's own trace on stderr, asked for by the
  -- user. It may name the X-API-KEY header, but the key may show nowhere
  -- else (and, with the masking proposed for it, not there either).
  it("shows in a verbose trace at most on its own header line", function()
    local out, err = run_lua(([[
      local helpers = require "spec.helpers"
      local client = helpers.client{ verbose = true, api_key = %q }
      assert(client:call(helpers.call_params()))
      client:call(helpers.call_params(helpers.FAULT.server))
      client:call_details("fault-500")
      client:start_call(helpers.call_params(), function() end)
      while client:pending() > 0 do client:poll(0.1) end
      client:close()
      print("ran")
    ]]):format(sb.key))
    assert.are.equal("ran\n", out)
    assert.matches("> POST /", err)
    assert.matches("> GET /", err)
    local lines = 0
    for line in err:gmatch("[^\n]+") do
      lines = lines + 1
      if find_key(line, sb.key) then
        assert.matches("^%s*[Xx]%-[Aa][Pp][Ii]%-[Kk][Ee][Yy]: ", line)
      end
    end
    assert.is_true(lines > 10)
  end)


  it("never goes to the host a redirect names", function()
    local port = tonumber(sb.url:match("^http://[^/]-:(%d+)"))
    local listener = assert(socket.bind("127.0.0.2", port))
    -- the listener does see a connection when one comes
    local probe = assert(socket.connect("127.0.0.2", port))
    listener:settimeout(2)
    assert(listener:accept()):close()
    probe:close()
    local ran = 0
    for _, cell in ipairs(faults.cells()) do
      if cell.row.name == "redirect" then
        local _, err = faults.run(cell)
        assert.are.equal("protocol", err.kind)
        assert.are.equal(302, err.status)
        assert.matches("^http://127%.0%.0%.2:" .. port .. "/",
                       err.headers.location)
        ran = ran + 1
      end
    end
    listener:settimeout(0.3)
    local got, why = listener:accept()
    listener:close()
    assert.are.equal(4, ran)
    assert.is_nil(got)
    assert.are.equal("timeout", why)
  end)
end)


describe("CR, LF and NUL", function()
  local BAD = { "\r", "\n", "\0", "\r\nInjected: 1" }

  before_each(function()
    helpers.control("POST", "/reset")
  end)


  it("in the api_key make ringg.new raise, without echoing it", function()
    for _, bad in ipairs(BAD) do
      for _, key in ipairs{ SENTINEL .. bad, bad .. SENTINEL,
                            SENTINEL:sub(1, 8) .. bad .. SENTINEL:sub(9) } do
        local ok, message = pcall(ringg.new, { api_key = key,
                                               base_url = sb.url })
        assert.is_false(ok)
        assert.matches("api_key", message)
        assert.is_nil(find_key(message, SENTINEL))
      end
    end
  end)


  it("in the user_agent make ringg.new raise", function()
    for _, bad in ipairs(BAD) do
      local ok, message = pcall(ringg.new, { api_key = sb.key,
        base_url = sb.url, user_agent = "app/1" .. bad .. "X-Evil: 1" })
      assert.is_false(ok)
      assert.matches("user_agent", message)
    end
  end)


  it("in the base_url make ringg.new raise", function()
    for _, bad in ipairs(BAD) do
      local ok, message = pcall(ringg.new, { api_key = sb.key,
        base_url = sb.url .. bad })
      assert.is_false(ok)
      assert.matches("base_url", message)
    end
  end)


  -- Each bad callback header, by call and start_call: invalid, nothing
  -- sent, nothing stored by the sandbox.
  local function check_refused(headers)
    local params = helpers.call_params(nil, {
      callback_url = sb.control .. "/receiver/secrets",
      callback_args = { headers = headers } })
    local client = helpers.client()
    local call, err = client:call(params)
    assert.is_nil(call)
    assert.are.same({ "invalid", false, false },
                    { err.kind, err.sent, err.retryable })
    assert.matches("^callback_args%.headers%.", err.errors[1].field)
    local ran = false
    local handle, serr = client:start_call(params, function() ran = true end)
    assert.is_nil(handle)
    assert.are.equal("invalid", serr.kind)
    assert.are.equal(0, client:pending())
    client:poll(0)
    client:close()
    assert.is_false(ran)
    assert.are.same({}, helpers.control("GET", "/calls").calls)
    return err
  end


  -- The refusal names the field; the bad bytes in it must not reach a
  -- log line raw.
  local function raw_control(text)
    return text:find("\r", 1, true) or text:find("\n", 1, true)
      or text:find("\0", 1, true)
  end


  it("in callback_args header names are refused before sending", function()
    for _, bad in ipairs(BAD) do
      local err = check_refused({ ["X-Name" .. bad .. "B"] = "v" })
      assert.is_nil(raw_control(err.errors[1].field))
      assert.is_nil(raw_control(err.message))
      assert.matches("X%-Name", tostring(err))
    end
  end)


  it("in callback_args header values are refused before sending", function()
    for _, bad in ipairs(BAD) do
      check_refused({ ["X-Name"] = "v" .. bad .. "w" })
    end
  end)


  -- Ringg's own example passes an API key in callback_args.headers; it may
  -- be this very key, and a refusal must not quote it back.
  it("in a callback header that carries the key do not echo it", function()
    for _, bad in ipairs(BAD) do
      local err = check_refused({ ["X-API-KEY"] = sb.key .. bad })
      assert.is_nil(find_key(err, sb.key, "err"))
      assert.is_nil(find_key(tostring(err), sb.key))
    end
  end)
end)
