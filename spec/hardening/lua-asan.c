/*
** lua-asan.c: a minimal stand-alone Lua 5.4 interpreter for `make asan`.
**
** Linked with -fsanitize=address,undefined it carries the sanitizer
** runtime itself, so `require "ringg.core"` can load the instrumented
** build/asan/ringg/core.so, while the programs the specs start (sh,
** curl, nginx) run without it. Preloading the runtime into the stock
** lua5.4 (LD_PRELOAD) would hand it to every child as well, and curl
** hangs in setlocale under it. A spec that starts another interpreter
** through /proc/self/exe gets this one, sanitizers included.
**
** Usage: lua-asan script [args]. The global 'arg' is set as lua5.4
** sets it (arg[0] the script, arg[-1] the interpreter); the exit status
** is the script's (os.exit), or 1 after an error.
**
** It also keeps every C module loaded until the process ends: Lua
** unloads them in lua_close, before LeakSanitizer looks, and a leak in
** an unloaded module would be reported without function names.
*/

#include <stdio.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>


/* Replaces the C library's dlclose for liblua5.4's calls (the program
** is linked with -rdynamic so that its definition wins): unloading is
** skipped, which is harmless just before exit. */
int dlclose (void *handle);


int dlclose (void *handle) {
  (void)handle;
  return 0;
}


/* Message handler: adds a traceback to the error at 1. */
static int traceback (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL)
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/* Sets the global 'arg' and pushes the script's arguments; returns how
** many were pushed. */
static int push_args (lua_State *L, int argc, char **argv) {
  int i;
  lua_createtable(L, argc - 2, 2);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
  luaL_checkstack(L, argc, "too many arguments");
  for (i = 2; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return argc - 2;
}


int main (int argc, char **argv) {
  lua_State *L;
  int status;
  if (argc < 2) {
    fprintf(stderr, "usage: %s script [args]\n", argv[0]);
    return 1;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "%s: cannot create a Lua state\n", argv[0]);
    return 1;
  }
  luaL_openlibs(L);
  lua_pushcfunction(L, traceback);
  status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK)
    status = lua_pcall(L, push_args(L, argc, argv), 0, 1);
  if (status != LUA_OK)
    fprintf(stderr, "%s: %s\n", argv[0], lua_tostring(L, -1));
  lua_close(L);  /* runs every __gc, so LeakSanitizer sees what is lost */
  return status == LUA_OK ? 0 : 1;
}
