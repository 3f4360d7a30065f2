/*
** core.c: the module ringg.core. Its functions are used by the Lua
** module ringg (src/ringg.lua), which is what users require.
*/

#include <curl/curl.h>

#include "client.h"


#if defined(_WIN32)
#define RINGG_API  __declspec(dllexport)
#else
#define RINGG_API  __attribute__((visibility("default")))
#endif


/* core.validate(params) -> true | nil, err. Assembles into a scratch
** buffer kept as upvalue 1, so nothing is left to free on an error. */
static int core_validate (lua_State *L) {
  Buf *scratch = (Buf *)lua_touserdata(L, lua_upvalueindex(1));
  luaL_checktype(L, 1, LUA_TTABLE);
  if (!call_assemble(L, 1, scratch))
    return reply_fail(L);
  if (scratch->size > 4096)
    buf_free(scratch);  /* keep no large body alive between calls */
  lua_pushboolean(L, 1);
  return 1;
}


/* core.error(t) -> t, with the error metatable (for errors made in
** Lua: webhook parsing, iterators, custom transports) */
static int core_error (lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  luaL_setmetatable(L, "ringg.error");
  return 1;
}


static int scratch_gc (lua_State *L) {
  buf_free((Buf *)lua_touserdata(L, 1));
  return 0;
}


/* Pushes core.validate with its scratch buffer. */
static void push_validate (lua_State *L) {
  Buf *scratch = (Buf *)lua_newuserdatauv(L, sizeof(Buf), 0);
  buf_init(scratch, MAX_BODY);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, scratch_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_pushcclosure(L, core_validate, 1);
}


/* libcurl's global set-up is not thread-safe on every build: done once
** per process, by the first state that loads the module. */
static int global_init (void) {
  static int done = 0;
  if (!done)
    done = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  return done;
}


RINGG_API int luaopen_ringg_core (lua_State *L);


RINGG_API int luaopen_ringg_core (lua_State *L) {
  if (!global_init())
    return luaL_error(L, "libcurl could not be initialised");
  lua_newtable(L);
  reply_open(L);
  client_open(L);
  multi_open(L);
  push_validate(L);
  lua_setfield(L, -2, "validate");
  lua_pushcfunction(L, core_error);
  lua_setfield(L, -2, "error");
  lua_pushliteral(L, RINGG_VERSION);
  lua_setfield(L, -2, "VERSION");
  lua_pushliteral(L, DEFAULT_BASE_URL);
  lua_setfield(L, -2, "DEFAULT_BASE_URL");
  return 1;
}
