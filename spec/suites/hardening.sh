#!/bin/sh
# Quick checks from the hardening kit for `make test`: each libFuzzer
# target of spec/fuzz, built with ASan and UBSan, runs its seed corpus
# (so its checks still hold for real calls, replies and webhooks), and
# the inputs of past findings (spec/fuzz/regressions/) run clean. The
# long runs are `make asan`, `make valgrind` and `make fuzz`
# (spec/hardening/hardening.mk). Prints TAP.
cd "$(dirname "$0")/../.." || exit 1

n=0
failed=0
log=build/fuzz/logs/suite.log
mkdir -p build/fuzz/logs

# The targets, through the Makefile when it includes the fragment.
build() {
  if grep -q 'spec/hardening/hardening.mk' Makefile; then
    make -s fuzz-build
  else
    make -s -f Makefile -f spec/hardening/hardening.mk fuzz-build
  fi
}

# check NAME TARGET PATH: one TAP line, ok when the input at PATH (or
# every input in the directory PATH) runs through fuzz_TARGET without a
# finding.
check() {
  n=$((n + 1))
  if build/fuzz/fuzz_"$2" -runs=0 -timeout=20 -rss_limit_mb=2048 \
      -detect_leaks=0 "$3" >"$log" 2>&1; then
    echo "ok $n - fuzz_$2: $1"
  else
    failed=1
    echo "not ok $n - fuzz_$2: $1"
    grep -E 'ERROR|runtime error|fuzz harness|Running:' "$log" | tail -4 \
      | sed 's/^/# /'
  fi
}

if ! build >"$log" 2>&1; then
  echo "not ok 1 - the fuzz targets build with clang"
  sed 's/^/# /' "$log" | tail -10
  exit 1
fi

for target in prepare reply webhook; do
  seeds=spec/fuzz/corpus/$target
  check "its $(ls "$seeds" | wc -l) seeds run clean" "$target" "$seeds"
  for f in spec/fuzz/regressions/"$target"/*; do
    [ -f "$f" ] || continue
    check "past finding $(basename "$f") stays fixed" "$target" "$f"
  done
done
exit $failed
