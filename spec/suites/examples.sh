#!/bin/sh
# The example scripts against the sandbox: webhook_receiver.lua gets the
# per-call webhooks the sandbox really delivers (and a few requests of
# ours it must refuse), and reconcile.lua finds the call whose reply was
# cut off instead of placing it twice. Prints TAP.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

: "${RINGG_SANDBOX_URL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_CONTROL:?export build/sandbox/env first}"

SECRET=hook-secret-5b1e
dir=build/suites/examples
mkdir -p "$dir"
rm -f "$dir"/*

receiver=

# on the way out: stop the receiver if it is still up, and leave the
# sandbox as the next suite expects it (default config, no calls)
cleanup() {
  [ -n "$receiver" ] && kill "$receiver" 2>/dev/null
  curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null
}
trap cleanup EXIT

lua_tree() {
  lua5.4 -e 'package.path = "src/?.lua;src/?/init.lua;examples/?.lua;"
    .. package.path; package.cpath = "build/5.4/?.so;" .. package.cpath' \
    "$@"
}

free_port() {
  lua5.4 -e 'local s = require("socket").bind("127.0.0.1", 0)
    local _, port = s:getsockname() print(port) s:close()'
}

# post BODY [SECRET]: the status the receiver answers a POST with
post() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d "$1" \
    ${2:+-H "X-Webhook-Secret: $2"} "http://127.0.0.1:$port/hook"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds, at most SECONDS
wait_for() {
  tries=$(($1 * 10))
  shift
  while [ $tries -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  return 1
}

# sandbox_calls NUMBER: "id to_number" of the calls the sandbox stored
# to NUMBER
sandbox_calls() {
  curl -sf "$RINGG_SANDBOX_CONTROL/calls" | NUMBER=$1 lua5.4 -e '
    local t = require("cjson").decode(io.read("a"))
    for _, c in ipairs(t.calls) do
      if c.to_number == os.getenv("NUMBER") then print(c.id, c.to_number) end
    end'
}

curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null
curl -sf -X POST -d '{"step_ms":50}' "$RINGG_SANDBOX_CONTROL/config" \
  >/dev/null


#
# webhook_receiver.lua, run as a script
#

port=$(free_port)
PORT=$port WEBHOOK_SECRET=$SECRET MAX_EVENTS=4 TIMEOUT=30 \
  lua5.4 examples/webhook_receiver.lua >"$dir/receiver.out" \
  2>"$dir/receiver.err" &
receiver=$!
tap "the receiver listens on 127.0.0.1:$port" \
  wait_for 5 grep -q "^listening on http://127.0.0.1:$port/" \
  "$dir/receiver.out"

tap "a wrong secret gets 401" same "$(post '{}' wrong)" 401
tap "a missing secret gets 401" same "$(post '{}')" 401
tap "a body that is not a webhook gets 400" \
  same "$(post 'not json' $SECRET)" 400
get=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
  "http://127.0.0.1:$port/hook")
tap "a GET gets 405" same "$get" 405
dup='{"status":"success","data":{"call_id":"dup-test-1","status":"registered"}}'
tap "an event gets 200" same "$(post "$dup" $SECRET)" 200
tap "the same event again gets 200" same "$(post "$dup" $SECRET)" 200

lua_tree - "http://127.0.0.1:$port/hook" $SECRET >"$dir/call.out" <<'EOF'
local ringg = require "ringg"
local client = ringg.new{ api_key = os.getenv("RINGG_SANDBOX_KEY"),
                          base_url = os.getenv("RINGG_SANDBOX_URL") }
local call = assert(client:call{
  name = "Mr Rajesh Kumar", mobile_number = "+919876500001",
  agent_id = "830f767a-397e-4b39-82ff-235cd344e2f9",
  number_pool_id = "2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69",
  custom_args_values = { company_name = "XYZ Corp",
                         appointment_date = "2025-01-20" },
  callback_url = arg[1],
  callback_args = { headers = { ["X-Webhook-Secret"] = arg[2] } },
})
print(call.id)
EOF
call_id=$(cat "$dir/call.out")

stopped() {
  ! kill -0 "$receiver" 2>/dev/null
}
wait_for 20 stopped || kill "$receiver"
wait "$receiver"
code=$?
receiver=
tap "the receiver stops by itself after 4 events, status 0" same "$code" 0

# printed CALL_ID STATUS: the receiver printed the event once
printed() {
  same "$(grep -c "^call_status $1 $2\( \|$\)" "$dir/receiver.out")" 1
}
tap "it printed the registered event" printed "$call_id" registered
tap "it printed the ongoing event" printed "$call_id" ongoing
tap "it printed the completed event" printed "$call_id" completed
tap "the completed event shows its 5 transcript turns" \
  grep -q "^call_status $call_id completed (5 transcript turns)" \
  "$dir/receiver.out"
tap "the turns are printed by role" grep -q "^  bot: Hello Mr Rajesh" \
  "$dir/receiver.out"
tap "the repeated event was printed once" printed dup-test-1 registered

delivered() {
  curl -sf "$RINGG_SANDBOX_CONTROL/webhooks" | CALL_ID=$call_id lua5.4 -e '
    local t = require("cjson").decode(io.read("a"))
    local ok = 0
    for _, d in ipairs(t.deliveries) do
      if d.call_id == os.getenv("CALL_ID") and d.status == 200 then
        ok = ok + 1
      end
    end
    print(ok)'
}
tap "the sandbox saw its 3 deliveries answered 200" same "$(delivered)" 3


#
# webhook_receiver.lua, required as a module
#

port=$(free_port)
(sleep 0.5
 post "$dup" $SECRET >"$dir/module.first"
 post "$dup" $SECRET >"$dir/module.second") &
lua_tree - "$port" $SECRET >"$dir/module.out" 2>"$dir/module.err" <<'EOF'
local serve = require "webhook_receiver"
local calls, got = 0, {}
local count = serve{
  port = tonumber(arg[1]), secret = arg[2], max_events = 1, timeout = 10,
  on_event = function(event)
    calls = calls + 1
    if calls == 1 then error("handler down") end
    got[#got + 1] = event.call_id
  end,
}
print(count, got[1])
EOF
wait
tap "when on_event raises, the delivery gets 500" \
  same "$(cat "$dir/module.first")" 500
tap "the error is reported on stderr" \
  grep -q "on_event failed: .*handler down" "$dir/module.err"
tap "the same event delivered again is taken as new and gets 200" \
  same "$(cat "$dir/module.second")" 200
tap "serve{} returns after max_events, having handed on the event" \
  same "$(cat "$dir/module.out")" "1	dup-test-1"

port=$(free_port)
lua_tree - "$port" >"$dir/timeout.out" 2>&1 <<'EOF'
local serve = require "webhook_receiver"
local gettime = require("socket").gettime
local started = gettime()
local count = serve{ port = tonumber(arg[1]), secret = "x", timeout = 1 }
print(count, gettime() - started)
EOF
read -r count took <"$dir/timeout.out"
tap "serve{} returns 0 events when its timeout is over" same "$count" 0
tap "it returns after the timeout ($took s)" \
  awk -v t="$took" 'BEGIN { exit !(t >= 0.95 && t <= 2) }'


#
# reconcile.lua
#

curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null
timeout 30 lua5.4 examples/reconcile.lua >"$dir/reconcile.out" \
  2>"$dir/reconcile.err"
code=$?
tap "reconcile.lua exits 0" same "$code" 0
tap "it shows the error: network, sent, not retryable" \
  grep -q "kind=network sent=true retryable=false" "$dir/reconcile.out"
tap "it looks the call up with find_calls" \
  grep -q "client:find_calls{mobile_number = \"+15550100601\"" \
  "$dir/reconcile.out"
stored=$(sandbox_calls +15550100601)
tap "the sandbox stored exactly one call to +15550100601" \
  same "$(echo "$stored" | grep -c .)" 1
found=$(sed -n 's/^found: call \([^,]*\),.*/\1/p' "$dir/reconcile.out")
tap "it finds that call ($found)" same "$found" "${stored%%	*}"
tap "it does not place the call again" \
  same "$(grep -c '^placing a call' "$dir/reconcile.out")" 1

exit $failed
