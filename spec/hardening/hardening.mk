# The longer checks of the C core (issue 6), included by the Makefile:
#
#   make asan       ringg.core built with AddressSanitizer and UBSan
#                   (build/asan/ringg/core.so) and every busted spec run
#                   with it under Lua 5.4 (spec/hardening/run-asan)
#   make valgrind   every busted spec under valgrind's memcheck, with the
#                   normal build (spec/hardening/run-valgrind)
#   make fuzz       each libFuzzer target of spec/fuzz for FUZZ_SECONDS
#                   (default 60) from its seeds (spec/fuzz/run-fuzz)
#   make ci-extra   the three in turn; fails on any finding
#
# Each writes TAP to build/tap/ (asan.tap, valgrind.tap, fuzz.tap) and
# runs its own sandbox, so it can run beside `make test`. They need
# clang with its runtimes (Debian: clang, libclang-rt-14-dev) and
# valgrind.

CLANG ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = prepare reply webhook

SAN_FLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=all
HARDEN_CFLAGS = -std=c99 -D_DEFAULT_SOURCE -g -O1 $(CWARNS)
FUZZ_SRC = spec/fuzz/harness.c
FUZZ_HDR = spec/fuzz/harness.h
FUZZ_BINS = $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

.PHONY: asan valgrind fuzz fuzz-build fuzz-seeds ci-extra

build/asan/ringg/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CLANG) $(HARDEN_CFLAGS) $(SAN_FLAGS) -fPIC -fvisibility=hidden \
	  -I$(LUA_INCDIR_5.4) -shared -o $@ $(SRC) $(CURL_LIBS)

# -rdynamic: its dlclose replaces the C library's (see the file)
build/asan/lua-asan: spec/hardening/lua-asan.c
	@mkdir -p $(dir $@)
	$(CLANG) $(HARDEN_CFLAGS) $(SAN_FLAGS) -rdynamic -I$(LUA_INCDIR_5.4) \
	  -o $@ spec/hardening/lua-asan.c -llua5.4

build/fuzz/fuzz_%: spec/fuzz/fuzz_%.c $(FUZZ_SRC) $(FUZZ_HDR) $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CLANG) $(HARDEN_CFLAGS) -fsanitize=fuzzer,address,undefined \
	  -fno-omit-frame-pointer -fno-sanitize-recover=all \
	  -I$(LUA_INCDIR_5.4) -Isrc -DRINGG_TREE='"$(CURDIR)"' -o $@ $< \
	  $(FUZZ_SRC) $(SRC) -llua5.4 $(CURL_LIBS)

asan: deps build/asan/ringg/core.so build/asan/lua-asan
	@sh spec/hardening/run-asan

valgrind: deps build/5.4/ringg/core.so
	@sh spec/hardening/run-valgrind

fuzz-build: $(FUZZ_BINS)

fuzz: deps fuzz-build
	@sh spec/fuzz/run-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Rewrites spec/fuzz/corpus/ from spec/fuzz/make-seeds.lua
fuzz-seeds:
	lua5.4 spec/fuzz/make-seeds.lua

# All three even when one fails, so that one run shows every finding.
ci-extra: deps build/asan/ringg/core.so build/asan/lua-asan \
          build/5.4/ringg/core.so fuzz-build
	@status=0; \
	sh spec/hardening/run-asan || status=1; \
	sh spec/hardening/run-valgrind || status=1; \
	sh spec/fuzz/run-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS) || status=1; \
	exit $$status
