# The benchmarks (bench/README.md). The Makefile includes this file at
# its end:
#
#   make bench           the full report, a few minutes (bench/RESULTS.md)
#   make bench-smoke     every benchmark program for a moment, as TAP
#   make bench-profile   the hot spots of prepare, call and start_call,
#                        per call, from callgrind
#
# BENCH_LUA=luajit runs the Lua programs under LuaJIT instead of Lua 5.4.
# Without the Makefile (as spec/suites/bench-smoke.sh does):
#   make -f bench/bench.mk bench-tools

BENCH_LUA ?= lua5.4
BENCH_CORE = build/$(if $(findstring jit,$(BENCH_LUA)),jit,5.4)/ringg/core.so
BENCH_TOOLS = build/bench/easy_baseline build/bench/multi_baseline \
              build/bench/luaprof

CURL_LIBS ?= -lcurl
BENCH_CFLAGS = -std=c99 -D_DEFAULT_SOURCE -O2 -g -Wall -Wextra -Wshadow \
               -Wmissing-prototypes -Wstrict-prototypes -Wpointer-arith \
               -Wcast-qual -Wundef -Wwrite-strings

.PHONY: bench bench-smoke bench-profile bench-tools

bench: deps $(BENCH_CORE) bench-tools
	@RINGG_BENCH_LUA=$(BENCH_LUA) sh bench/run.sh

bench-smoke: $(BENCH_CORE) bench-tools
	@RINGG_BENCH_LUA=$(BENCH_LUA) sh bench/run.sh --smoke

bench-profile: build/5.4/ringg/core.so bench-tools
	@sh bench/profile.sh

bench-tools: $(BENCH_TOOLS)

build/bench/easy_baseline: bench/easy_baseline.c bench/baseline.h
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -o $@ bench/easy_baseline.c $(CURL_LIBS)

build/bench/multi_baseline: bench/multi_baseline.c bench/baseline.h
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -o $@ bench/multi_baseline.c $(CURL_LIBS)

# A Lua 5.4 with symbols, for readable profiles (bench/luaprof.c)
build/bench/luaprof: bench/luaprof.c
	@mkdir -p build/bench
	$(CC) $(BENCH_CFLAGS) -I/usr/include/lua5.4 -o $@ bench/luaprof.c \
	  -l:liblua5.4.a -Wl,-E -lm -ldl
