#!/bin/sh
# Every benchmark program of bench/ runs for a moment against a
# fixed-reply nginx of its own (make bench-smoke), so that none of them
# rots; no speed is checked. Prints TAP: "ok N - <program> runs" for each.
# Needs build/5.4/ringg/core.so (make test builds it) and valgrind.
cd "$(dirname "$0")/../.." || exit 1
mkdir -p build/bench
if ! make -s -f bench/bench.mk bench-tools >build/bench/tools.log 2>&1; then
  echo "not ok 1 - the benchmark tools build"
  sed 's/^/# /' build/bench/tools.log
  exit 1
fi
exec sh bench/run.sh --smoke
