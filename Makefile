# ringg: a Lua client for the Ringg AI voice-calling API, with a C core.
#
#   make            build ringg.core for Lua 5.4 (build/5.4/ringg/core.so)
#   make LUA=jit    build it for LuaJIT 2.1, the ABI of OpenResty
#   make demo       place a call against the local sandbox and follow it
#   make test       build for both, then run every test against the sandbox
#   make install    install for Lua 5.4 (or LUA=jit) under DESTDIR/PREFIX
#   make bench      the benchmarks' report (bench/README.md)
#   make ci-extra   sanitizers, valgrind and fuzzing (spec/hardening/)
#
# `make demo` and `make test` first install what is missing from Debian's
# packages (as root, non-interactively); see `make deps`.

# Lua to build for: 5.4 or jit
LUA ?= 5.4

# Where `make install` puts things (DESTDIR is prepended, for packagers)
PREFIX ?= /usr/local
DESTDIR ?=

# Where the Lua headers are, per Lua (Debian's locations)
LUA_INCDIR_5.4 ?= /usr/include/lua5.4
LUA_INCDIR_jit ?= /usr/include/luajit-2.1

# Installed module directories, per Lua, below PREFIX
LUA_CMODDIR_5.4 ?= $(PREFIX)/lib/lua/5.4
LUA_LMODDIR_5.4 ?= $(PREFIX)/share/lua/5.4
LUA_CMODDIR_jit ?= $(PREFIX)/lib/lua/5.1
LUA_LMODDIR_jit ?= $(PREFIX)/share/lua/5.1

# The interpreters the tests run under, per Lua
LUA_BIN_5.4 ?= lua5.4
LUA_BIN_jit ?= luajit

# Compiler and flags; MYCFLAGS and MYLDFLAGS add to them
CC ?= cc
CFLAGS ?= -O2 -g
MYCFLAGS ?=
MYLDFLAGS ?=
CURL_LIBS ?= -lcurl

# Warnings the C core is kept clean of
CWARNS = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
         -Wpointer-arith -Wcast-qual -Wundef -Wwrite-strings

# Debian packages that building, the demo and the tests need
DEB_PACKAGES ?= gcc make pkg-config ca-certificates openssl curl procps \
  lua5.4 liblua5.4-dev libcurl4-openssl-dev lua-cjson lua-busted \
  lua-socket lua-lpeg lua-argparse lua-filesystem luarocks luajit2 \
  libluajit2-5.1-dev nginx-light libnginx-mod-http-lua lua-resty-core \
  valgrind clang libclang-rt-14-dev

SRC = src/buf.c src/json.c src/walk.c src/validate.c src/reply.c \
      src/client.c src/multi.c src/core.c
HDR = src/compat.h src/core.h src/walk.h src/client.h
LUA_MODULES = src/ringg.lua src/ringg/record.lua src/ringg/webhook.lua \
              src/ringg/prompt.lua src/ringg/ngx.lua

ALL_CFLAGS = -std=c99 -D_DEFAULT_SOURCE -fPIC -fvisibility=hidden \
             $(CWARNS) $(CFLAGS) $(MYCFLAGS)

.PHONY: all both deps demo test check install uninstall clean sandbox-start \
        sandbox-stop

all: build/$(LUA)/ringg/core.so

both: build/5.4/ringg/core.so build/jit/ringg/core.so

build/5.4/ringg/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR_5.4) -shared -o $@ $(SRC) \
	  $(MYLDFLAGS) $(CURL_LIBS)

build/jit/ringg/core.so: $(SRC) $(HDR)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(LUA_INCDIR_jit) -shared -o $@ $(SRC) \
	  $(MYLDFLAGS) $(CURL_LIBS)

# Installs the Debian packages above that are missing (root only)
deps:
	@sh spec/install-deps $(DEB_PACKAGES)

sandbox-start:
	@spec/sandbox/sandbox start

sandbox-stop:
	@spec/sandbox/sandbox stop

demo: deps all
	@sh examples/demo.sh $(LUA_BIN_$(LUA)) build/$(LUA)

# Every suite writes TAP to build/tap/; the last line counts them all.
test: deps both
	@sh spec/run-tests

check: test

install: all
	mkdir -p $(DESTDIR)$(LUA_CMODDIR_$(LUA))/ringg
	mkdir -p $(DESTDIR)$(LUA_LMODDIR_$(LUA))/ringg
	cp build/$(LUA)/ringg/core.so $(DESTDIR)$(LUA_CMODDIR_$(LUA))/ringg/
	cp src/ringg.lua $(DESTDIR)$(LUA_LMODDIR_$(LUA))/
	cp src/ringg/*.lua $(DESTDIR)$(LUA_LMODDIR_$(LUA))/ringg/

uninstall:
	rm -f $(DESTDIR)$(LUA_CMODDIR_$(LUA))/ringg/core.so
	rm -f $(DESTDIR)$(LUA_LMODDIR_$(LUA))/ringg.lua
	rm -rf $(DESTDIR)$(LUA_LMODDIR_$(LUA))/ringg

clean:
	rm -rf build


# The benchmarks: make bench, make bench-smoke, make bench-profile
include bench/bench.mk

# The longer checks: make asan, make valgrind, make fuzz, make ci-extra
include spec/hardening/hardening.mk
