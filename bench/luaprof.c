/*
** luaprof.c: a minimal Lua 5.4 interpreter for profiles. Debian's
** lua5.4 binary is stripped, so a profile of it shows the interpreter's
** own functions as bare addresses; this one is linked with liblua5.4.a,
** which keeps its symbols, so callgrind can name them (internshrstr,
** luaH_newkey, ...). It exports the Lua API (-Wl,-E) for the C modules
** it loads. Only bench/profile.sh uses it: every figure of the tables
** comes from the real lua5.4.
**
**   luaprof script.lua [args...]   runs the script with 'arg' set
*/

#include <stdio.h>

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>


/* Sets the global 'arg' to argv[2..] at 1.. and argv[1] at 0. */
static void set_args (lua_State *L, int argc, char **argv) {
  int i;
  lua_createtable(L, argc - 2, 1);
  for (i = 1; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - 1);
  }
  lua_setglobal(L, "arg");
}


/* The traceback of an error, for the message handler of lua_pcall. */
static int traceback (lua_State *L) {
  luaL_traceback(L, L, luaL_tolstring(L, 1, NULL), 1);
  return 1;
}


int main (int argc, char **argv) {
  lua_State *L;
  int status;
  if (argc < 2) {
    fprintf(stderr, "usage: luaprof script.lua [args...]\n");
    return 2;
  }
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "luaprof: not enough memory\n");
    return 1;
  }
  luaL_openlibs(L);
  set_args(L, argc, argv);
  lua_pushcfunction(L, traceback);
  status = luaL_loadfile(L, argv[1]);
  if (status == LUA_OK)
    status = lua_pcall(L, 0, 0, 1);
  if (status != LUA_OK)
    fprintf(stderr, "luaprof: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return status == LUA_OK ? 0 : 1;
}
