#!/bin/sh
# Runs the benchmarks against a fixed-reply nginx of their own.
#
#   bench/run.sh [--smoke] [run.lua options]      (make bench, bench-smoke)
#
# It expects ringg/core.so and the C baselines built (bench/bench.mk does
# that), starts the nginx under build/bench/, runs bench/run.lua and
# stops the nginx whatever happens.
#
# RINGG_BENCH_LUA   the Lua that runs the Lua programs: lua5.4 (default)
#                   or luajit, which uses build/jit/ringg/core.so

set -eu
cd "$(dirname "$0")/.."

RINGG_BENCH_LUA=${RINGG_BENCH_LUA:-lua5.4}
case $RINGG_BENCH_LUA in
*jit*) cpath=build/jit ;;
*) cpath=build/5.4 ;;
esac
RINGG_BENCH_CPATH=${RINGG_BENCH_CPATH:-$cpath}
RINGG_BENCH_BIN=${RINGG_BENCH_BIN:-build/bench}
export RINGG_BENCH_LUA RINGG_BENCH_CPATH RINGG_BENCH_BIN

for f in "$RINGG_BENCH_CPATH/ringg/core.so" "$RINGG_BENCH_BIN/easy_baseline" \
  "$RINGG_BENCH_BIN/multi_baseline"; do
  [ -x "$f" ] || [ -f "$f" ] || {
    echo "bench/run.sh: $f is missing: build it with make bench" >&2
    exit 1
  }
done

# A smoke run has an nginx of its own, so it can run beside a full one.
dir=build/bench/nginx
case ${1:-} in --smoke) dir=build/bench/smoke-nginx ;; esac

bench/server.sh start "$dir" >/dev/null
trap 'bench/server.sh stop "$dir"' EXIT
trap 'exit 130' INT TERM
. "$dir/env"
export RINGG_BENCH_URL

lua5.4 bench/run.lua "$@"
