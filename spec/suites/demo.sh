#!/bin/sh
# `make demo`'s job, as a test: examples/demo.sh starts a sandbox of its
# own, places a call, follows it through its webhooks to its end and
# prints the transcript, then stops its sandbox. Prints TAP.
cd "$(dirname "$0")/../.." || exit 1
. spec/tap.sh

out=build/tap/demo.out
dir=build/demo-suite-sandbox
# the demo must find no key of a real account in the environment
env -u RINGG_API_KEY RINGG_SANDBOX_DIR=$dir timeout 60 \
  sh examples/demo.sh lua5.4 build/5.4 >"$out" 2>&1
check $? "the demo runs to its end"
grep -q '^placed call [0-9a-f-]\{36\} (status registered)$' "$out"
check $? "it places a call and prints its id"
grep -q 'prompt variables: .*missing none' "$out"
check $? "it checks the prompt variables first"
for status in registered ongoing completed; do
  grep -q "^webhook: call_status -> $status\$" "$out"
  check $? "it receives the $status webhook"
done
grep -q '^call [0-9a-f-]* ended completed after' "$out"
check $? "it follows the call to completion"
[ "$(grep -c '^  bot: \|^  user: ' "$out")" -ge 2 ]
check $? "it prints the transcript"
RINGG_SANDBOX_DIR=$dir spec/sandbox/sandbox status >/dev/null 2>&1
[ $? -ne 0 ]
check $? "it stops its sandbox"
echo "1..$n"
exit $failed
