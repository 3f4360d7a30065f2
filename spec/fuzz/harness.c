/*
** harness.c: the Lua state the fuzz targets share across inputs. The
** core is linked into the fuzzer, so luaopen_ringg_core is called
** straight (through package.preload), and the Lua modules come from src/.
*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "harness.h"


/* A full collection every COLLECT inputs keeps the heap small; a new
** state every RENEW inputs also lets LeakSanitizer see, at exit, any C
** memory a closed state failed to free. */
#define COLLECT  256
#define RENEW    20000

/* Registry key of the check function */
static const char check_key = 'c';

/* Lines of the Lua modules under src/ that ran, as libFuzzer "extra
** counters": it treats them as coverage next to the C core's own, so
** an input that reaches new lines of webhook.lua or record.lua is kept
** too (the Lua interpreter itself is not instrumented). */
#define LUA_EDGES  8192

__attribute__((section("__libfuzzer_extra_counters")))
static uint8_t lua_edges[LUA_EDGES];


int luaopen_ringg_core (lua_State *L);


static lua_State *state = NULL;
static unsigned long inputs = 0;

static char src_prefix[512];         /* "@<tree>/src/" */
static const char *last_source;      /* source of the last line seen */
static uint32_t last_hash;           /* its hash, or 0 if not tracked */
static uint32_t previous;            /* the line before, for edges */


static void die (lua_State *L, const char *what) {
  fprintf(stderr, "fuzz harness: %s: %s\n", what,
          L && lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
  abort();
}


static const char *tree (void) {
  const char *dir = getenv("RINGG_TREE");
  return dir && *dir ? dir : RINGG_TREE;
}


static uint32_t hash (const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (uint8_t)*s) * 16777619u;
  return h | 1;  /* never 0 */
}


/* Line hook: counts the edge from the previous line to this one, for
** chunks loaded from src/. */
static void on_line (lua_State *L, lua_Debug *ar) {
  uint32_t here;
  if (!lua_getinfo(L, "S", ar))
    return;
  if (ar->source != last_source) {
    last_source = ar->source;
    last_hash = strncmp(ar->source, src_prefix, strlen(src_prefix)) == 0
                ? hash(ar->source) : 0;
  }
  if (last_hash == 0)
    return;
  here = last_hash ^ ((uint32_t)ar->currentline * 2654435761u);
  lua_edges[(here ^ previous) % LUA_EDGES]++;
  previous = here >> 1;
}


/* package.path and package.cpath for the tree's Lua modules and
** Debian's cjson; ringg.core comes from the objects linked in. */
static void set_paths (lua_State *L) {
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/src/?.lua;%s/src/?/init.lua;%s/spec/fuzz/?.lua",
                  tree(), tree(), tree());
  lua_setfield(L, -2, "path");
  lua_pushliteral(L, LUA_CMODULES);
  lua_setfield(L, -2, "cpath");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_ringg_core);
  lua_setfield(L, -2, "ringg.core");
  lua_pop(L, 2);  /* preload, package */
}


/* Runs check_<name>.lua, which returns the check function; keeps it. */
static lua_State *new_state (const char *name) {
  lua_State *L = luaL_newstate();
  if (L == NULL)
    die(NULL, "cannot create a Lua state");
  luaL_openlibs(L);
  set_paths(L);
  snprintf(src_prefix, sizeof(src_prefix), "@%s/src/", tree());
  last_source = NULL;
  lua_sethook(L, on_line, LUA_MASKLINE, 0);
  lua_pushfstring(L, "%s/spec/fuzz/check_%s.lua", tree(), name);
  if (luaL_loadfile(L, lua_tostring(L, -1)) != LUA_OK
      || lua_pcall(L, 0, 1, 0) != LUA_OK)
    die(L, "loading the check");
  if (lua_type(L, -1) != LUA_TFUNCTION)
    die(L, "the check file must return a function");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &check_key);
  lua_settop(L, 0);
  return L;
}


lua_State *harness_state (const char *name) {
  if (state != NULL && inputs % RENEW == 0) {
    lua_close(state);
    state = NULL;
  }
  if (state == NULL)
    state = new_state(name);
  else if (inputs % COLLECT == 0)
    lua_gc(state, LUA_GCCOLLECT, 0);
  inputs++;
  previous = 0;
  return state;
}


/* Message handler: adds a traceback to a failed check's message. */
static int traceback (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
  return 1;
}


void harness_check (lua_State *L, int nargs) {
  int base = lua_gettop(L) - nargs;
  lua_pushcfunction(L, traceback);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &check_key);
  lua_rotate(L, base + 1, 2);  /* handler and check below the args */
  if (lua_pcall(L, nargs, 0, base + 1) != LUA_OK)
    die(L, "check failed");
  lua_settop(L, base);
}
