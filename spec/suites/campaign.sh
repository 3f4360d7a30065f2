#!/bin/sh
# examples/campaign.lua against the sandbox: a CSV of a few hundred
# contacts with sandbox faults mixed in (429, 500, 503, replies cut off,
# never sent or malformed, the connection closed, invalid numbers, quoted
# names with commas, a newline inside a field, CRLF line ends), placed 16
# at a time. spec/suites/campaign/check.lua compares the results with
# the input, the sandbox's stored calls and its access log. Prints TAP.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

: "${RINGG_SANDBOX_URL:?export build/sandbox/env first}"
: "${RINGG_SANDBOX_CONTROL:?export build/sandbox/env first}"

ROWS=300
MAX_ATTEMPTS=3
AGENT=830f767a-397e-4b39-82ff-235cd344e2f9
POOL=2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69
dir=build/suites/campaign
log=${RINGG_SANDBOX_DIR:-$(dirname "$RINGG_SANDBOX_CA")}/access.log
mkdir -p "$dir"
rm -f "$dir"/*


# leave the sandbox as the next suite expects it (default config)
trap 'curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null' EXIT

campaign() {
  timeout 120 lua5.4 examples/campaign.lua "$@"
}

export LUA_PATH="spec/suites/campaign/?.lua;;"
lua5.4 -e "local c = require 'contacts'
  c.write(c.rows($ROWS), '$dir/contacts.csv')"

curl -sf -X POST "$RINGG_SANDBOX_CONTROL/reset" >/dev/null
curl -sf -X POST -d '{"step_ms":50}' "$RINGG_SANDBOX_CONTROL/config" \
  >/dev/null
lines_before=$(wc -l <"$log")

RINGG_API_KEY=$RINGG_SANDBOX_KEY campaign --agent-id $AGENT --pool-id $POOL \
  --base-url "$RINGG_SANDBOX_URL" --timeout 2 --in-flight 16 \
  --max-attempts $MAX_ATTEMPTS --output "$dir/results.csv" \
  "$dir/contacts.csv" >"$dir/out" 2>"$dir/err"
code=$?
tap "the campaign processes every row and exits 0" same "$code" 0

tail -n +$((lines_before + 1)) "$log" >"$dir/access.log"
curl -sf "$RINGG_SANDBOX_CONTROL/calls" >"$dir/calls.json"
lua5.4 spec/suites/campaign/check.lua $ROWS "$dir/results.csv" \
  "$dir/calls.json" "$dir/access.log" "$dir/err" $MAX_ATTEMPTS $((n + 1)) \
  >"$dir/check.tap" 2>"$dir/check.err"
code=$?
cat "$dir/check.tap"
n=$((n + $(grep -c '^\(not \)\{0,1\}ok ' "$dir/check.tap")))
if [ $code -ne 0 ]; then
  failed=1
  grep -q '^not ok' "$dir/check.tap" ||
    tap "check.lua ran to the end ($(head -1 "$dir/check.err"))" false
fi

key_hidden() {
  ! grep -qF "$RINGG_SANDBOX_KEY" "$dir/out" "$dir/err" "$dir/results.csv"
}
tap "the API key appears nowhere in the output" key_hidden

# --map: columns of other names fill the call's fields and variables.
printf '"Full Name",Cell,Firm,Date\r\n"Zed, A",+919876511111,Z Ltd,%s\r\n' \
  2025-02-01 >"$dir/mapped.csv"
RINGG_API_KEY=$RINGG_SANDBOX_KEY campaign --agent-id $AGENT --pool-id $POOL \
  --base-url "$RINGG_SANDBOX_URL" --quiet --map "full name=name" \
  --map cell=mobile_number --map firm=company_name \
  --map date=appointment_date --output "$dir/mapped.results" \
  "$dir/mapped.csv" 2>"$dir/mapped.err"
mapped_id=$(awk -F, 'NR == 2 && $(NF - 3) == "placed" { print $(NF - 4) }' \
  "$dir/mapped.results")
mapped_call() {
  curl -sf "$RINGG_SANDBOX_CONTROL/calls" | ID=$mapped_id lua5.4 -e '
    for _, c in ipairs(require("cjson").decode(io.read("a")).calls) do
      if c.id == os.getenv("ID") then
        local v = c.custom_args_values
        print(c.name .. "|" .. c.to_number .. "|" .. v.company_name .. "|"
          .. v.appointment_date)
      end
    end'
}
tap "--map fills name, number and variables from other columns" \
  same "$(mapped_call)" "Zed, A|+919876511111|Z Ltd|2025-02-01"

# Usage and input errors end non-zero before anything is sent.
campaign >/dev/null 2>&1
tap "no arguments is a usage error (status 1)" same $? 1
RINGG_API_KEY=$RINGG_SANDBOX_KEY campaign --agent-id $AGENT --pool-id $POOL \
  --base-url "$RINGG_SANDBOX_URL" --in-flight 0 "$dir/contacts.csv" \
  >/dev/null 2>&1
tap "--in-flight 0 is a usage error (status 1)" same $? 1
printf 'name,phone\n"Unclosed,+919876500001\n' >"$dir/bad.csv"
RINGG_API_KEY=$RINGG_SANDBOX_KEY campaign --agent-id $AGENT --pool-id $POOL \
  --base-url "$RINGG_SANDBOX_URL" "$dir/bad.csv" >/dev/null \
  2>"$dir/bad.err"
code=$?
tap "a malformed CSV ends with status 2" same "$code" 2
tap "the message names the line" grep -q "line 2" "$dir/bad.err"

exit $failed
