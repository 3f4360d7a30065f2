-- Pair "pure Lua", side B: the route a Lua script has without ringg:
-- cjson.encode the params (no validation), POST them with LuaSocket's
-- socket.http, cjson.decode the reply. socket.http cannot keep a
-- connection alive, so every call opens and closes one: that is the
-- point of the comparison.
--
--   lua bench/luasocket.lua SECONDS     -> "rate <calls per second>"

local lib = require "bench.lib"
local http = require "socket.http"
local ltn12 = require "ltn12"
local cjson = require "cjson"

local seconds = lib.args()
local url = lib.url() .. "/calling/v2/outbound/individual"
local params = lib.params()

local function call()
  local body = cjson.encode(params)
  local chunks = {}
  local ok, status = http.request{
    url = url, method = "POST",
    headers = {
      ["X-API-KEY"] = lib.KEY, ["User-Agent"] = "bench-luasocket/1",
      ["Accept"] = "application/json",
      ["Content-Type"] = "application/json",
      ["Content-Length"] = tostring(#body),
    },
    source = ltn12.source.string(body),
    sink = ltn12.sink.table(chunks),
  }
  if not ok or status ~= 200 then
    error("call failed: " .. tostring(status))
  end
  local reply = cjson.decode(table.concat(chunks))
  if type(reply.data) ~= "table" or reply.data.call_id == nil then
    error("a reply without a call id")
  end
end

local rate, ops = lib.rate(seconds, 1, call)
lib.report("rate", rate)
lib.report("ops", ops)
