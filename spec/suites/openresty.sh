#!/bin/sh
# ringg inside nginx: starts the OpenResty example (examples/openresty)
# against the sandbox's HTTPS port, and a probe server (openresty/) that
# runs ringg.ngx's transports into the sandbox's faults. Checks that the
# module loads under nginx's LuaJIT, that calls go through the subrequest
# transport and come back with the right result or error, that a call in
# flight does not hold the single worker, and that the webhook receiver
# checks its secret and drops repeated deliveries. Prints TAP.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

: "${RINGG_SANDBOX_URL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_HTTPS_URL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_CONTROL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_KEY:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_CA:?export build/sandbox/env first}"

repo=$(pwd)
here=$repo/spec/suites/openresty
dir=$repo/build/suites/openresty
AGENT=830f767a-397e-4b39-82ff-235cd344e2f9
POOL=2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69
HEADER=X-Ringg-Secret
SECRET=$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')

old_step=

# json FILE EXPR: a Lua expression over the JSON document in FILE
json() {
  lua5.4 "$here/json.lua" "$2" <"$1" 2>/dev/null
}

# below VALUE BOUND / at_least VALUE BOUND, as decimals
below() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'
}

at_least() {
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'
}

# post URL BODY OUT [CURL ARGS...]: POSTs JSON; the body goes to OUT, the
# status and time to OUT.meta
post() {
  url=$1
  body=$2
  out=$3
  shift 3
  curl -s -m 10 -o "$out" -w '%{http_code} %{time_total}' \
    -H 'Content-Type: application/json' -d "$body" "$@" "$url" \
    >"$out.meta" 2>/dev/null
}

status_of() {
  cut -d' ' -f1 "$1.meta" 2>/dev/null
}

time_of() {
  cut -d' ' -f2 "$1.meta" 2>/dev/null
}

call_body() {
  printf '{"name":"Asha Rao","mobile_number":"%s","agent_id":"%s",' "$1" \
    "$AGENT"
  printf '"number_pool_id":"%s","custom_args_values":' "$POOL"
  printf '{"company_name":"XYZ Corp","appointment_date":"2025-01-20"}%s}' \
    "${2:-}"
}

# A normal recipient of this run: +1555 02 and 5 random digits.
fresh_number() {
  echo "+155502$(od -An -tu2 -N2 /dev/urandom | tr -d ' ' |
    awk '{ printf "%05d", $1 % 100000 }')"
}

free_port() {
  lua5.4 -e '
    local s = assert(require("socket").bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    print(port)
    s:close()'
}

# until_true TENTHS COMMAND...: retries COMMAND for up to TENTHS/10 s
until_true() {
  tries=$1
  shift
  while [ "$tries" -gt 0 ]; do
    "$@" && return 0
    sleep 0.1
    tries=$((tries - 1))
  done
  "$@"
}

stop_probe() {
  [ -r "$dir/probe/nginx.pid" ] || return 0
  pid=$(cat "$dir/probe/nginx.pid")
  case $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) in
    *nginx*"$dir/probe"*) kill -TERM "$pid" 2>/dev/null ;;
    *) return 0 ;;
  esac
  i=0
  while [ $i -lt 50 ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
    i=$((i + 1))
  done
  kill -KILL "$pid" 2>/dev/null
  rm -f "$dir/probe/nginx.pid"
}

cleanup() {
  RINGG_EXAMPLE_DIR=$dir/example examples/openresty/run stop \
    >/dev/null 2>&1
  stop_probe
  if [ -n "$old_step" ]; then
    curl -s -m 5 -o /dev/null -H 'Content-Type: application/json' \
      -d "{\"step_ms\":$old_step}" "$RINGG_SANDBOX_CONTROL/config"
  fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

rm -rf "$dir"
mkdir -p "$dir/example" "$dir/probe/tmp" "$dir/out"
https_port=$(echo "$RINGG_SANDBOX_HTTPS_URL" |
  sed -n 's|^https://127\.0\.0\.1:\([0-9]*\)/.*|\1|p')

# Faster call lifecycles, so that webhooks come within the suite's time;
# the old step is put back on exit.
curl -s -m 5 "$RINGG_SANDBOX_CONTROL/config" >"$dir/out/config.json"
old_step=$(json "$dir/out/config.json" 't.step_ms')
curl -s -m 5 -o /dev/null -H 'Content-Type: application/json' \
  -d '{"step_ms":50}' "$RINGG_SANDBOX_CONTROL/config"

#
# The example
#

start_example() {
  RINGG_EXAMPLE_DIR=$dir/example RINGG_API_KEY=$RINGG_SANDBOX_KEY \
    RINGG_BASE_URL=https://localhost/ca/api/v0 \
    RINGG_API_SERVER=127.0.0.1:$https_port RINGG_CA_FILE=$RINGG_SANDBOX_CA \
    RINGG_WEBHOOK_SECRET=$SECRET RINGG_WEBHOOK_HEADER=$HEADER \
    RINGG_PUBLIC_URL='http://127.0.0.1:@PORT@' \
    examples/openresty/run start >"$dir/out/start" 2>"$dir/out/start.err"
}
tap "the example starts under nginx with ringg loaded in init_by_lua" \
  start_example
app=$(cat "$dir/example/url" 2>/dev/null)
[ -n "$app" ] || app=http://127.0.0.1:9

curl -s -m 5 "$app/health" >"$dir/out/health.json"
jit_version=$(LUA_CPATH='build/jit/?.so;;' luajit -e \
  'print(require("ringg.core").VERSION)' 2>/dev/null)
health_ok() {
  case $(json "$dir/out/health.json" 't.jit') in LuaJIT*) ;; *) return 1 ;; esac
  same "$(json "$dir/out/health.json" 't.core')" \
    "$repo/build/jit/ringg/core.so" &&
    same "$(json "$dir/out/health.json" 't.ringg')" "$jit_version" &&
    [ -n "$jit_version" ]
}
tap "ringg.core (build/jit) runs under nginx's LuaJIT" health_ok

# Connections the sandbox has seen, to tell keep-alive reuse later.
curl -s -m 5 "$RINGG_SANDBOX_CONTROL/connections" \
  >"$dir/out/connections.before"

number=$(fresh_number)
post "$app/calls" "$(call_body "$number")" "$dir/out/call.json"
call_id=$(json "$dir/out/call.json" 't.call_id')
curl -s -m 5 "$RINGG_SANDBOX_CONTROL/calls" >"$dir/out/sandbox_calls.json"
sandbox_knows() {
  same "$(status_of "$dir/out/call.json")" 200 && [ -n "$call_id" ] &&
    same "$(json "$dir/out/sandbox_calls.json" "count(t.calls,
      function(c) return c.id == '$call_id'
        and c.to_number == '$number' end)")" 1
}
tap "POST /calls places the call through the subrequest transport" \
  sandbox_knows

post "$app/calls" "$(call_body +15550100429)" "$dir/out/429.json" \
  -D "$dir/out/429.headers"
rate_limited() {
  r=$dir/out/429.json
  same "$(status_of "$r")" 429 &&
    same "$(json "$r" 't.error.kind')" rate_limited &&
    same "$(json "$r" 't.error.retry_after')" 2 &&
    same "$(json "$r" 't.error.retryable')" true &&
    grep -qi '^Retry-After: 2' "$dir/out/429.headers"
}
tap "a 429 comes back as kind rate_limited with retry_after 2" rate_limited

# The slow reply (1.5 s) in the background; meanwhile a plain request to
# the same single worker.
post "$app/calls" "$(call_body +15550100605)" "$dir/out/slow.json" &
slow_pid=$!
sleep 0.3
curl -s -m 5 -o /dev/null -w '%{http_code} %{time_total}' "$app/health" \
  >"$dir/out/plain.meta"
kill -0 "$slow_pid" 2>/dev/null && echo in-flight >"$dir/out/plain.during"
wait "$slow_pid"
plain_fast() {
  [ -f "$dir/out/plain.during" ] &&
    same "$(cut -d' ' -f1 "$dir/out/plain.meta")" 200 &&
    below "$(cut -d' ' -f2 "$dir/out/plain.meta")" 0.5
}
tap "a plain request is answered in under 0.5 s during a 1.5 s call" \
  plain_fast
slow_ok() {
  same "$(status_of "$dir/out/slow.json")" 200 &&
    [ -n "$(json "$dir/out/slow.json" 't.call_id')" ] &&
    at_least "$(time_of "$dir/out/slow.json")" 1.4
}
tap "the slow call still succeeds after its 1.5 s" slow_ok

curl -s -m 5 "$RINGG_SANDBOX_CONTROL/connections" \
  >"$dir/out/connections.after"
# A connection that served two or more of the example's requests.
reused() {
  BEFORE=$dir/out/connections.before AFTER=$dir/out/connections.after \
    lua5.4 -e '
    local cjson = require "cjson"
    local function read(p)
      local f = assert(io.open(p))
      local t = cjson.decode(f:read("a")).connections
      f:close()
      return t
    end
    local before = read(os.getenv "BEFORE")
    local after = read(os.getenv "AFTER")
    for serial, count in pairs(after) do
      if count - (before[serial] or 0) >= 2 then os.exit(0) end
    end
    os.exit(1)'
}
tap "the example keeps its connection to the API alive" reused

#
# Webhooks
#

# events_for ID [STATUS]: events the example recorded for a call
events_for() {
  curl -s -m 5 "$app/ringg/events" >"$dir/out/events.json"
  json "$dir/out/events.json" "count(t.events, function(e)
    return e.call_id == '$1' and ('$2' == '' or e.status == '$2') end)"
}

# delivered ID: deliveries of the call the sandbox saw answered with 200
delivered() {
  curl -s -m 5 "$RINGG_SANDBOX_CONTROL/webhooks" >"$dir/out/webhooks.json"
  json "$dir/out/webhooks.json" "count(t.deliveries, function(d)
    return d.call_id == '$1' and d.status == ${2:-200} end)"
}

completed_recorded() {
  same "$(events_for "$call_id" completed)" 1
}
until_true 50 completed_recorded
all_recorded() {
  d=$(delivered "$call_id")
  [ -n "$d" ] && at_least "$d" 3 && same "$(events_for "$call_id")" "$d"
}
tap "the sandbox's deliveries with the secret are each recorded once" \
  all_recorded

# The callback the sandbox sent for the call's last status, once more.
completed=$(printf '{"status":"success","data":{"call_id":"%s",%s}}' \
  "$call_id" '"status":"completed"')
post "$app/ringg/webhook" "$completed" "$dir/out/wrong.json" \
  -H "$HEADER: not-$SECRET"
post "$app/ringg/webhook" "$completed" "$dir/out/none.json"
wrong_rejected() {
  same "$(status_of "$dir/out/wrong.json")" 401 &&
    same "$(status_of "$dir/out/none.json")" 401
}
tap "a wrong or missing secret is answered 401" wrong_rejected

# A call whose webhooks carry a wrong secret, delivered by the sandbox.
wrong_number=$(fresh_number)
callback=$(printf ',"callback_url":"%s","callback_args":%s' \
  "$app/ringg/webhook" "{\"headers\":{\"$HEADER\":\"wrong\"}}")
post "$app/calls" "$(call_body "$wrong_number" "$callback")" \
  "$dir/out/wrong_call.json"
wrong_id=$(json "$dir/out/wrong_call.json" 't.call_id')
refused_delivery() {
  [ -n "$wrong_id" ] && at_least "$(delivered "$wrong_id" 401)" 1
}
until_true 30 refused_delivery
real_wrong_rejected() {
  refused_delivery && same "$(delivered "$wrong_id")" 0 &&
    same "$(events_for "$wrong_id")" 0
}
tap "the sandbox's delivery with a wrong secret gets 401, is not recorded" \
  real_wrong_rejected

curl -s -m 5 "$app/ringg/events" >"$dir/out/events.before"
dups_before=$(json "$dir/out/events.before" 't.duplicates')
post "$app/ringg/webhook" "$completed" "$dir/out/replay.json" \
  -H "$HEADER: $SECRET"
replay_dropped() {
  same "$(status_of "$dir/out/replay.json")" 200 &&
    same "$(json "$dir/out/replay.json" 't.duplicate')" true &&
    same "$(events_for "$call_id" completed)" 1 &&
    same "$(json "$dir/out/events.json" 't.duplicates')" \
      "$((${dups_before:-0} + 1))"
}
tap "a repeat of a delivered event is answered 200 and counted once" \
  replay_dropped

new_id=$(cat /proc/sys/kernel/random/uuid)
event="{\"event_type\":\"call_started\",\"call_id\":\"$new_id\"}"
post "$app/ringg/webhook" "$event" "$dir/out/first.json" -H "$HEADER: $SECRET"
post "$app/ringg/webhook" "$event" "$dir/out/second.json" -H "$HEADER: $SECRET"
twice_once() {
  same "$(json "$dir/out/first.json" 't.duplicate')" false &&
    same "$(json "$dir/out/second.json" 't.duplicate')" true &&
    until_true 10 eval 'same "$(events_for "$new_id")" 1'
}
tap "an event delivered twice is recorded once" twice_once

#
# The probe: ringg.ngx's transports into the sandbox's faults
#

probe_port=$(free_port)
closed_port=$(free_port)
user=
[ "$(id -u)" -eq 0 ] && user="user root root;"
sed -e "s|@USER@|$user|" -e "s|@PORT@|$probe_port|" \
  -e "s|@HTTPS_PORT@|$https_port|" -e "s|@CA_FILE@|$RINGG_SANDBOX_CA|" \
  -e "s|@HERE@|$here|" -e "s|@REPO@|$repo|" \
  "$here/nginx.conf.in" >"$dir/probe/nginx.conf"
probe_up() {
  curl -s -m 1 -o /dev/null "http://127.0.0.1:$probe_port/probe?case=none"
}
start_probe() {
  nginx -p "$dir/probe/" -c "$dir/probe/nginx.conf" \
    -e "$dir/probe/error.log" 2>"$dir/out/probe.err" &&
    until_true 50 probe_up
}
start_probe

# probe CASE [QUERY]: runs a probe case; the answer goes to out/CASE.json
probe() {
  curl -s -m 10 -o "$dir/out/$1.json" -w '%{time_total}' \
    "http://127.0.0.1:$probe_port/probe?case=$1${2:-}" \
    >"$dir/out/$1.json.meta" 2>/dev/null
}

# outcome CASE KIND SENT RETRYABLE: the error the probe case got
outcome() {
  f=$dir/out/$1.json
  same "$(json "$f" 't.ok')" false && same "$(json "$f" 't.kind')" "$2" &&
    same "$(json "$f" 't.sent')" "$3" && same "$(json "$f" 't.retryable')" "$4"
}

probe refused "&port=$closed_port"
tap "a refused connection: kind network, sent false, retryable" \
  outcome refused network false true

probe dropped
tap "closed before the reply: kind network, sent true, not retryable" \
  outcome dropped network true false

probe silent
silent_ok() {
  outcome silent timeout true false &&
    below "$(cat "$dir/out/silent.json.meta")" 3
}
tap "no reply in proxy_read_timeout: kind timeout, sent true, not retryable" \
  silent_ok

probe cut
tap "a reply cut mid-body: kind network, sent true, not retryable" \
  outcome cut network true false

probe unmarked
unmarked_ok() {
  outcome unmarked network true false &&
    json "$dir/out/unmarked.json" 't.message' | grep -q header_filter
}
tap "a location without ringg.ngx's marker is an error naming the fix" \
  unmarked_ok

probe reads "&id=$call_id"
reads_ok() {
  f=$dir/out/reads.json
  same "$(json "$f" 't.ok')" true && same "$(json "$f" 't.limit')" 1 &&
    same "$(json "$f" 't.rows')" 1 && same "$(json "$f" 't.id')" "$call_id"
}
tap "GETs with a query string go through the subrequest" reads_ok

probe resty_http
resty_http_ok() {
  f=$dir/out/resty_http.json
  if same "$(json "$f" 't.available')" true; then
    same "$(json "$f" 't.ok')" true
  else
    same "$(json "$f" 't.available')" false &&
      json "$f" 't.message' | grep -q 'needs lua-resty-http'
  fi
}
tap "ringg_ngx.http places a call, or says lua-resty-http is missing" \
  resty_http_ok

probe start_call
tap "a ringg_ngx.client never falls back to libcurl" eval \
  'same "$(json "$dir/out/start_call.json" "t.raised")" true &&
   json "$dir/out/start_call.json" "t.message" | grep -q "libcurl transport"'

probe timer
tap "in a timer the subrequest transport raises, naming ringg_ngx.http" eval \
  'same "$(json "$dir/out/timer.json" "t.raised")" true &&
   json "$dir/out/timer.json" "t.message" | grep -q "ringg_ngx.http there"'

key_nowhere() {
  ! grep -rqF -- "$RINGG_SANDBOX_KEY" "$dir"
}
tap "the API key appears in no log, answer or configuration" key_nowhere

echo "1..$n"
exit $failed
