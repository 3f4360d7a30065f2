#!/bin/sh
# The game-server-style host (examples/host) against the sandbox: builds
# it, runs a few seconds of 50 Hz ticks while calls go to normal numbers
# and to the slow, silent and 429 fault numbers, and checks that every
# call got exactly one callback, that the slow calls stayed in flight
# while ticks went on, and that no tick took long. Prints TAP.
#
# Tick budget: a tick is 20 ms. The work inside one (poll(0) and the
# callbacks it runs) must stay under HOST_MAX_TICK_MS (10) at worst and
# HOST_P99_TICK_MS (5) at the 99th percentile. Measured here: max about
# 0.6 ms, p99 about 0.5 ms, so the bounds leave room for a busy machine
# while staying far below the 1500 ms of the slow reply, which a blocking
# poll would show.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

: "${RINGG_SANDBOX_URL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_CONTROL:?export build/sandbox/env first}"

MAX_TICK_MS=${HOST_MAX_TICK_MS:-10}
P99_TICK_MS=${HOST_P99_TICK_MS:-5}
CALLS=12
dir=build/suites/host
mkdir -p "$dir"


# stat LABEL: the value of "LABEL: value" in the host's output
stat() {
  sed -n "s/^$1: //p" "$dir/out" | head -1
}

# call NUMBER FIELD: a field of the host's "call" line for NUMBER
# (fields: 1 index, 2 start tick, 3 end tick, 4 result, 5 call id)
call() {
  awk -v num="$1" -v f="$2" '$1 == "call" && $3 == num {
    split($2 " " $4 " " $5 " " $6 " " $7, v, " "); print v[f]; exit }' \
    "$dir/out"
}

# ticks_in_flight NUMBER: ticks between the call's start and its reply
ticks_in_flight() {
  s=$(call "$1" 2)
  e=$(call "$1" 3)
  case "$s$e" in
    *[!0-9]*|'') echo 0 ;;
    *) echo $((e - s)) ;;
  esac
}

# below VALUE BOUND: VALUE < BOUND, as decimals
below() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'
}

at_least() {
  [ "$1" -ge "$2" ] 2>/dev/null
}

# ids the sandbox stored, one "id to_number" a line
sandbox_calls() {
  curl -sf "$RINGG_SANDBOX_CONTROL/calls" | lua5.4 -e '
    local t = require("cjson").decode(io.read("a"))
    for _, c in ipairs(t.calls) do print(c.id, c.to_number) end'
}

# every call the host says went through is one the sandbox stored
ids_known() {
  awk '$1 == "call" && $6 == "ok" { print $7 }' "$dir/out" | sort \
    >"$dir/host-ids"
  sandbox_calls | awk '{ print $1 }' | sort >"$dir/sandbox-ids"
  [ -s "$dir/host-ids" ] &&
    [ -z "$(comm -23 "$dir/host-ids" "$dir/sandbox-ids")" ]
}

key_hidden() {
  ! grep -qF "$RINGG_SANDBOX_KEY" "$dir/out" "$dir/err"
}

build() {
  make -s -C examples/host >"$dir/make.out" 2>&1
}

tap "the host builds (make -C examples/host)" build

curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null
timeout 60 build/host/host -t 3 -n $CALLS >"$dir/out" 2>"$dir/err"
code=$?
tap "the host runs and exits 0" same "$code" 0

tap "it started $CALLS calls" same "$(stat 'calls started')" $CALLS
tap "it received $CALLS callbacks" same "$(stat 'callbacks received')" \
  $CALLS
per_call=$(stat 'callbacks per call' | tr ' ' '\n' | grep -c '^1$')
tap "every call got exactly one callback" same "$per_call" $CALLS

tap "the slow call (+15550100605) succeeded" \
  same "$(call +15550100605 4)" ok
tap "the slow call stayed in flight for 1.4 s or more of ticks" \
  at_least "$(ticks_in_flight +15550100605)" 70
tap "the silent call (+15550100602) ended with kind timeout" \
  same "$(call +15550100602 4)" timeout
tap "the silent call stayed in flight for 1.9 s or more of ticks" \
  at_least "$(ticks_in_flight +15550100602)" 95
tap "the 429 call (+15550100429) ended with kind rate_limited" \
  same "$(call +15550100429 4)" rate_limited

normal_ok=$(awk '$1 == "call" && $3 ~ /^\+9198765/ && $6 == "ok" \
  && $7 != "-"' "$dir/out" | wc -l)
tap "the $((CALLS - 3)) normal calls got call ids" \
  same "$normal_ok" $((CALLS - 3))
tap "the sandbox stored every call the host says went through" ids_known
# normal ones, the slow one and the silent one: 429 stores nothing
tap "the sandbox stored exactly $((CALLS - 1)) calls" \
  same "$(sandbox_calls | wc -l)" $((CALLS - 1))

tap "the max tick stays under $MAX_TICK_MS ms (it was $(stat \
'max tick ms') ms)" below "$(stat 'max tick ms')" "$MAX_TICK_MS"
tap "the p99 tick stays under $P99_TICK_MS ms (it was $(stat \
'p99 tick ms') ms)" below "$(stat 'p99 tick ms')" "$P99_TICK_MS"
rate=$(stat 'tick rate' | sed 's,/s$,,')
tap "ticks ran at 50/s (measured $rate/s)" \
  awk -v r="$rate" 'BEGIN { exit !(r >= 47 && r <= 51) }'
tap "the API key appears nowhere in the output" key_hidden

# A Lua error, here raised by a callback and re-raised by poll inside
# tick, is reported with a traceback and ends the host non-zero.
timeout 30 build/host/host -t 2 -s spec/suites/host/raise.lua \
  >"$dir/raise.out" 2>"$dir/raise.err"
code=$?
tap "a Lua error ends the host with status 1" same "$code" 1
tap "the report gives the callback's error" \
  grep -q "boom from a callback" "$dir/raise.err"
tap "the report has a traceback" grep -q "stack traceback" "$dir/raise.err"

if [ $failed -ne 0 ]; then
  echo "# host output in $dir/out, errors in $dir/err"
fi
exit $failed
