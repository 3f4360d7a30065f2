#!/bin/sh
# Where the instructions of one operation go, function by function:
# callgrind (--dump-instr=no) on bench/count.lua doing N and then 2N of
# the operation, under build/bench/luaprof (a Lua 5.4 with symbols); the
# difference of the two profiles is N operations' worth, start-up
# excluded (bench/cgdiff.lua). Also the C easy baseline, for libcurl's
# own share of a request.
#
#   bench/profile.sh [--quick] [N]     (make bench-profile)
#
# Writes build/bench/profile/<what>.txt and prints them.

set -eu
cd "$(dirname "$0")/.."

n=1000
quick=0
for a in "$@"; do
  case $a in
  --quick) quick=1 n=20 ;;
  *[!0-9]* | '') echo "usage: $0 [--quick] [N]" >&2 && exit 2 ;;
  *) n=$a ;;
  esac
done
top=40
[ $quick -eq 1 ] && top=10

out=build/bench/profile
mkdir -p "$out"
for tool in valgrind callgrind_annotate; do
  command -v $tool >/dev/null || {
    echo "bench/profile.sh: $tool not found (apt-get install valgrind)" >&2
    exit 1
  }
done
if ! [ -x build/bench/luaprof ] || ! [ -x build/bench/easy_baseline ]; then
  echo "bench/profile.sh: build the tools first: make bench-tools" >&2
  exit 1
fi

export RINGG_BENCH_CPATH=build/5.4
dir=build/bench/profile-nginx
bench/server.sh start "$dir" >/dev/null
trap 'bench/server.sh stop "$dir"' EXIT
trap 'exit 130' INT TERM
. "$dir/env"
export RINGG_BENCH_URL

# callgrind on a command; prints the count of its "total" line, if any.
grind() {
  file=$1
  shift
  valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="$file" \
    "$@" 2>"$file.log" | sed -n 's/^total //p'
}

for what in prepare call start; do
  grind "$out/$what.1.out" build/bench/luaprof bench/count.lua "$what" "$n" \
    >/dev/null
  grind "$out/$what.2.out" build/bench/luaprof bench/count.lua "$what" \
    $((2 * n)) >/dev/null
  {
    echo "== $what: bench/count.lua $what, $n and $((2 * n)) times"
    lua5.4 bench/cgdiff.lua "$out/$what.1.out" "$out/$what.2.out" "$n" "$top"
  } >"$out/$what.txt"
  cat "$out/$what.txt"
done

# The baseline runs for a time, not a count: it prints how many it did.
body=build/bench/body.json
lua5.4 bench/body.lua "$body"
s1=1 s2=2
[ $quick -eq 1 ] && s1=0.1 s2=0.2
n1=$(grind "$out/easy.1.out" build/bench/easy_baseline "$RINGG_BENCH_URL" \
  "$body" $s1)
n2=$(grind "$out/easy.2.out" build/bench/easy_baseline "$RINGG_BENCH_URL" \
  "$body" $s2)
{
  echo "== easy_baseline: libcurl alone, $n1 and $n2 requests"
  lua5.4 bench/cgdiff.lua "$out/easy.1.out" "$out/easy.2.out" \
    $((n2 - n1)) $top
} >"$out/easy.txt"
cat "$out/easy.txt"
