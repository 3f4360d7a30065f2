-- Shared helpers for the busted specs.
--
-- The sandbox is started once by `make test` (spec/sandbox/sandbox start),
-- which writes its addresses to build/sandbox/env. The specs read them from
-- the environment when the Makefile exported them, else from that file, so
-- a single spec can also be run by hand once the sandbox is up.

local helpers = {}

local ENV_NAMES = {
  url = "RINGG_SANDBOX_URL",
  https_url = "RINGG_SANDBOX_HTTPS_URL",
  ca = "RINGG_SANDBOX_CA",
  key = "RINGG_SANDBOX_KEY",
  control = "RINGG_SANDBOX_CONTROL",
}

local function read_env_file(path)
  local values = {}
  local f = io.open(path, "r")
  if not f then return values end
  for line in f:lines() do
    local name, value = line:match("^([%w_]+)=(.*)$")
    if name then values[name] = value end
  end
  f:close()
  return values
end

local cached

-- Returns {url, https_url, ca, key, control} of the running sandbox, or
-- raises when it is not running: a spec that needs it cannot pass without.
function helpers.sandbox()
  if cached then return cached end
  local dir = os.getenv("RINGG_SANDBOX_DIR") or "build/sandbox"
  local file = read_env_file(dir .. "/env")
  local s = {}
  for field, name in pairs(ENV_NAMES) do
    s[field] = os.getenv(name) or file[name]
  end
  assert(s.url and s.key, "the sandbox is not running: "
    .. "start it with `spec/sandbox/sandbox start` (make test does)")
  cached = s
  return s
end

return helpers
