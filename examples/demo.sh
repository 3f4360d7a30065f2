#!/bin/sh
# make demo: place a call against the local sandbox and follow it to its
# end, then stop the sandbox. With RINGG_API_KEY set, the same example
# talks to the real API instead (see examples/place_call.lua).
#   usage: sh examples/demo.sh LUA BUILD_DIR
lua=${1:-lua5.4}
build=${2:-build/5.4}
cd "$(dirname "$0")/.." || exit 1

paths="src/?.lua;src/?/init.lua;examples/?.lua;;"
LUA_PATH=$paths LUA_PATH_5_4=$paths
LUA_CPATH="$build/?.so;;" LUA_CPATH_5_4="$build/?.so;;"
export LUA_PATH LUA_PATH_5_4 LUA_CPATH LUA_CPATH_5_4

if [ -z "${RINGG_API_KEY:-}" ]; then
  RINGG_SANDBOX_DIR=${RINGG_SANDBOX_DIR:-build/demo-sandbox}
  export RINGG_SANDBOX_DIR
  spec/sandbox/sandbox start >/dev/null || exit 1
  trap 'spec/sandbox/sandbox stop >/dev/null 2>&1' EXIT INT TERM
  set -a
  . "$RINGG_SANDBOX_DIR/env"
  set +a
  echo "sandbox running at $RINGG_SANDBOX_URL"
fi
"$lua" examples/place_call.lua
