-- The sandbox's settings. Fixed ones (key, ports) come from the environment
-- the `sandbox` script gives nginx; the tunable ones (step_ms, retry_scale)
-- start from the environment too and can be changed through
-- POST /_sandbox/config until the next reset.

local config = {}

local defaults = {}

local function number_env(name, default)
  return tonumber(os.getenv(name) or "") or default
end

-- Runs once, in init_by_lua, where the master still sees its whole
-- environment.
function config.load()
  config.key = os.getenv("RINGG_SANDBOX_KEY") or "sandbox-key-7f3c9a10"
  config.port = number_env("RINGG_SANDBOX_PORT", 0)
  config.https_port = number_env("RINGG_SANDBOX_HTTPS_PORT", 0)
  defaults.step_ms = number_env("RINGG_SANDBOX_STEP_MS", 300)
  defaults.retry_scale = number_env("RINGG_SANDBOX_RETRY_SCALE", 1)
  config.reset()
end

function config.reset()
  config.step_ms = defaults.step_ms
  config.retry_scale = defaults.retry_scale
end

-- One lifecycle step, in seconds.
function config.step()
  return config.step_ms / 1000
end

-- Where the sandbox itself answers over plain HTTP (recordings, redirects).
function config.origin()
  return "http://127.0.0.1:" .. config.port
end

return config
