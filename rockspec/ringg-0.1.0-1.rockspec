-- LuaRocks build of ringg: `luarocks make rockspec/ringg-0.1.0-1.rockspec`
-- from the top of the tree. The source URL is where releases are to be
-- published; `luarocks make` builds from the checkout and does not use it.
local package_name = "ringg"
local package_version = "0.1.0"
local rockspec_revision = "1"

rockspec_format = "3.0"
package = package_name
version = package_version .. "-" .. rockspec_revision

source = {
  url = "git+https://github.com/ringg-lua/ringg.git",
  tag = "v" .. package_version,
}

description = {
  summary = "Place outbound AI voice calls through the Ringg AI REST API",
  detailed = [[
A Lua client for the Ringg AI voice-calling API with a thin C core:
validation of every call field, exact JSON assembly, libcurl transports
(blocking, or many calls in flight driven by client:poll), an error model
built for safe retries, webhook parsing, and an OpenResty transport.]],
  license = "MIT",
}

dependencies = {
  "lua >= 5.1, < 5.5",
  "lua-cjson >= 2.1",
}

external_dependencies = {
  CURL = { header = "curl/curl.h", library = "curl" },
}

build = {
  type = "builtin",
  modules = {
    ["ringg.core"] = {
      sources = { "src/buf.c", "src/json.c", "src/walk.c", "src/validate.c",
                  "src/reply.c", "src/client.c", "src/multi.c",
                  "src/core.c" },
      defines = { "_DEFAULT_SOURCE" },
      libraries = { "curl" },
      incdirs = { "$(CURL_INCDIR)" },
      libdirs = { "$(CURL_LIBDIR)" },
    },
    ["ringg"] = "src/ringg.lua",
    ["ringg.record"] = "src/ringg/record.lua",
    ["ringg.webhook"] = "src/ringg/webhook.lua",
    ["ringg.prompt"] = "src/ringg/prompt.lua",
    ["ringg.ngx"] = "src/ringg/ngx.lua",
  },
  copy_directories = { "examples" },
}

test_dependencies = { "busted" }
test = { type = "busted" }
