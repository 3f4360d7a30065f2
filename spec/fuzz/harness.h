/*
** harness.h: what the libFuzzer targets of spec/fuzz share. Each target
** links the C core (the files of src/) in, keeps one Lua state across
** inputs and hands every input to a check function written in Lua
** (spec/fuzz/check_<target>.lua), which raises when a property fails.
*/

#ifndef RINGG_FUZZ_HARNESS_H
#define RINGG_FUZZ_HARNESS_H

#include <stddef.h>

#include <lua.h>
#include <lauxlib.h>


/* Where the tree is (src/ and spec/fuzz/ are found below it): set by
** the build with -DRINGG_TREE=..., overridden by $RINGG_TREE. */
#ifndef RINGG_TREE
#define RINGG_TREE  "."
#endif

/* Debian's directory of Lua 5.4 C modules (cjson) */
#define LUA_CMODULES  "/usr/lib/x86_64-linux-gnu/lua/5.4/?.so"


/* The state for the target 'name': made on first use, with ringg.core
** preloaded and check_<name>.lua's function in the registry; collected
** now and then, and made afresh every so many inputs, so memory stays
** bounded however long the fuzzer runs. Aborts if it cannot be made. */
lua_State *harness_state (const char *name);

/* Calls the check function with the 'nargs' values at the top of the
** stack (which it pops). A raised error is a finding: it is printed and
** the process aborts, so libFuzzer records the input. */
void harness_check (lua_State *L, int nargs);

#endif
