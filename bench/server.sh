#!/bin/sh
# The fixed-reply nginx of the benchmarks, on 127.0.0.1 and a free port.
#
#   bench/server.sh start DIR   start it with DIR as nginx's prefix; once
#                               it answers, write DIR/env
#                               (RINGG_BENCH_URL=...) and print the URL
#   bench/server.sh stop DIR    stop it (quietly succeeds if not running)
#
# nginx-light from Debian is enough: no Lua module is loaded. As root,
# the workers run as root too (they write nothing but the log).

set -eu

here=$(cd "$(dirname "$0")" && pwd)
nginx_bin=${NGINX:-nginx}
CALL_PATH=/ca/api/v0/calling/v2/outbound/individual

die() {
  echo "bench/server.sh: $*" >&2
  exit 1
}

# The master's pid, when the pid file names a live nginx of this DIR.
master_pid() {
  [ -r "$dir/nginx.pid" ] || return 1
  pid=$(cat "$dir/nginx.pid")
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/cmdline" ] || return 1
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  case $cmd in *nginx*"$dir"*) echo "$pid" ;; *) return 1 ;; esac
}

# Waits up to 5 s for process $1 to end.
wait_gone() {
  i=0
  while [ -d "/proc/$1" ] && [ $i -lt 50 ]; do
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || echo Z)
    [ "$state" = Z ] && return 0
    sleep 0.1
    i=$((i + 1))
  done
  [ ! -d "/proc/$1" ]
}

stop() {
  if pid=$(master_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid" || die "nginx (pid $pid) does not stop"
  fi
  rm -f "$dir/nginx.pid" "$dir/env"
}

# A free loopback port: bound to port 0, read, released.
free_port() {
  lua5.4 -e '
    local socket = require "socket"
    local s = assert(socket.bind("127.0.0.1", 0))
    local _, port = s:getsockname()
    s:close()
    print(port)'
}

# Starts nginx on $port; returns 2 when the port was taken meanwhile.
launch() {
  user=""
  [ "$(id -u)" -eq 0 ] && user="user root root;"
  sed -e "s/@USER@/$user/" -e "s/@PORT@/$port/" "$here/nginx.conf.in" \
    >"$dir/nginx.conf"
  : >"$dir/error.log"
  if ! "$nginx_bin" -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
    >"$dir/start.log" 2>&1; then
    grep -q "Address already in use" "$dir/start.log" "$dir/error.log" &&
      return 2
    cat "$dir/start.log" >&2
    return 1
  fi
}

# Waits up to 5 s for the call endpoint to answer 200.
wait_ready() {
  i=0
  while [ $i -lt 100 ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 -X POST \
      -d '{}' "http://127.0.0.1:$port$CALL_PATH" 2>/dev/null) || true
    [ "$code" = 200 ] && return 0
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

start() {
  command -v "$nginx_bin" >/dev/null ||
    die "nginx not found (apt-get install nginx-light)"
  command -v curl >/dev/null || die "curl not found"
  mkdir -p "$dir/tmp"
  stop
  attempt=1
  while :; do
    port=$(free_port) || die "no free port (needs lua5.4 and lua-socket)"
    rc=0
    launch || rc=$?
    [ $rc -eq 2 ] && [ $attempt -lt 3 ] && attempt=$((attempt + 1)) && continue
    break
  done
  [ "$rc" -eq 0 ] || {
    tail -n 5 "$dir/error.log" >&2
    die "nginx did not start"
  }
  if ! wait_ready; then
    stop
    die "nginx does not answer on 127.0.0.1:$port"
  fi
  echo "RINGG_BENCH_URL=http://127.0.0.1:$port/ca/api/v0" >"$dir/env"
  echo "http://127.0.0.1:$port/ca/api/v0"
}

[ $# -eq 2 ] || {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}
mkdir -p "$2"
dir=$(cd "$2" && pwd)
case $1 in
start) start ;;
stop) stop ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
