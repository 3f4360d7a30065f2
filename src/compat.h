/*
** compat.h: every difference between Lua 5.4 and LuaJIT 2.1 (Lua 5.1
** API) that the core relies on, in one place. The core is written
** against the 5.4 API; under 5.1 the few missing pieces are defined here.
*/

#ifndef RINGG_COMPAT_H
#define RINGG_COMPAT_H

#include <stddef.h>

#include <lua.h>
#include <lauxlib.h>


#if LUA_VERSION_NUM == 501

#define lua_rawlen(L, i)  lua_objlen(L, (i))
#define lua_newuserdatauv(L, size, nuv)  lua_newuserdata(L, (size))
#define luaL_pushfail(L)  lua_pushnil(L)

/* A userdata's one user value is its environment table in 5.1 */
static inline int lua_getiuservalue (lua_State *L, int idx, int n) {
  (void)n;
  lua_getfenv(L, idx);
  return LUA_TTABLE;
}

#define lua_setiuservalue(L, idx, n)  lua_setfenv(L, (idx))

/* LuaJIT has no integer subtype: an integral double counts as integer */
#define RINGG_HAS_INTEGERS 0

#ifndef LUA_OK
#define LUA_OK  0
#endif

static inline int lua_absindex (lua_State *L, int idx) {
  return (idx > 0 || idx <= LUA_REGISTRYINDEX) ? idx
                                               : lua_gettop(L) + idx + 1;
}


static inline void lua_rawgetp (lua_State *L, int idx, const void *p) {
  idx = lua_absindex(L, idx);
  lua_pushlightuserdata(L, (void *)(size_t)p);
  lua_rawget(L, idx);
}


static inline void lua_rawsetp (lua_State *L, int idx, const void *p) {
  idx = lua_absindex(L, idx);
  lua_pushlightuserdata(L, (void *)(size_t)p);
  lua_insert(L, -2);  /* key below the value */
  lua_rawset(L, idx);
}

#else

#define RINGG_HAS_INTEGERS 1

#endif


/* Lua 5.4 and LuaJIT both have luaL_setfuncs, luaL_newmetatable with
** __name (5.4 only, harmless elsewhere) and luaL_testudata. */

#endif
