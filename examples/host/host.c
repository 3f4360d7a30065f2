/*
** host.c: a game-server-style host for ringg.
**
** It embeds Lua 5.4, loads a game script and calls the script's tick(n)
** 50 times a second on CLOCK_MONOTONIC deadlines, as a game server runs
** its simulation. The script places calls with client:start_call and
** drives them with client:poll(0) inside tick, so a slow or silent API
** never stalls the loop. The host times every tick and, at the end,
** prints those times and what the script counted.
**
** The script returns a table of three functions:
**   setup(config)  once; config = {calls=, seconds=, rate=}
**   tick(n)        every tick; returns how many calls are still in flight
**   finish()       once; returns {started=, callbacks=, per_call={...}}
** Every call into Lua runs under lua_pcall with a message handler; a Lua
** error is reported on stderr and ends the program with status 1.
**
** usage: host [-t seconds] [-n calls] [-s script] [-P path] [-C cpath]
** The environment gives the defaults: HOST_SECONDS, HOST_CALLS,
** HOST_SCRIPT, HOST_LUA_PATH, HOST_LUA_CPATH. Paths are relative to the
** working directory, the repository's root.
*/

#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"


#define TICK_RATE      50
#define TICK_NS        (1000000000L / TICK_RATE)

/* After the run, ticks go on this long while calls are still in flight */
#define DRAIN_SECONDS  10

#define DEFAULT_SECONDS  3.0
#define DEFAULT_CALLS    12
#define DEFAULT_SCRIPT   "examples/host/game.lua"
#define DEFAULT_PATH     "src/?.lua;src/?/init.lua"
#define DEFAULT_CPATH    "build/5.4/?.so"


typedef struct Config {
  double seconds;
  long calls;
  const char *script;
  const char *path;
  const char *cpath;
} Config;


/* What the tick loop measured. */
typedef struct Stats {
  double *tick_ms;      /* time spent inside each tick() */
  long ticks;
  long late;            /* ticks that began after their deadline */
  long busy;            /* ticks that left calls in flight */
  lua_Integer max_inflight;
  double wall_s;
} Stats;


/*
** {======================================================
** Calling Lua
** =======================================================
*/


/* The message handler: adds a traceback to the error at the top. */
static int msghandler (lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring")
        && lua_type(L, -1) == LUA_TSTRING)
      return 1;  /* an error object that can show itself */
    msg = lua_pushfstring(L, "(error object is a %s value)",
                          luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}


/* Calls the function below 'nargs' arguments on the stack, as lua_pcall
** does, under msghandler. On error, reports it and returns 0 with the
** function and its arguments popped; else leaves 'nres' results. */
static int docall (lua_State *L, int nargs, int nres) {
  int base = lua_gettop(L) - nargs;  /* the function's index */
  int status;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  status = lua_pcall(L, nargs, nres, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}


/* Pushes field 'name' of the game table at 'game'; reports and returns
** 0 (pushing nothing) when it is not a function. */
static int push_hook (lua_State *L, int game, const char *name) {
  if (lua_getfield(L, game, name) == LUA_TFUNCTION)
    return 1;
  lua_pop(L, 1);
  fprintf(stderr, "host: the game script has no function '%s'\n", name);
  return 0;
}

/* }====================================================== */


/*
** {======================================================
** Setting up the state
** =======================================================
*/


/* Puts 'dirs' in front of package[field], keeping the system's own
** directories after it for lua-cjson and the like. */
static void prepend_path (lua_State *L, const char *field,
                          const char *dirs) {
  lua_getglobal(L, "package");
  lua_getfield(L, -1, field);
  lua_pushfstring(L, "%s;%s", dirs, lua_tostring(L, -1));
  lua_setfield(L, -3, field);
  lua_pop(L, 2);  /* old value, package */
}


/* Opens the standard libraries and sets the module paths; called
** through docall (as lua.c runs its own start), with the Config as a
** light userdata. */
static int init_state (lua_State *L) {
  const Config *cfg = (const Config *)lua_touserdata(L, 1);
  luaL_openlibs(L);
  prepend_path(L, "path", cfg->path);
  prepend_path(L, "cpath", cfg->cpath);
  return 0;
}


/* Runs the game script and its setup(config). Leaves the game table on
** the stack and returns 1, or returns 0 with nothing pushed. */
static int load_game (lua_State *L, const Config *cfg) {
  if (luaL_loadfile(L, cfg->script) != LUA_OK) {
    fprintf(stderr, "host: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return 0;
  }
  if (!docall(L, 0, 1))
    return 0;
  if (!lua_istable(L, -1)) {
    fprintf(stderr, "host: %s must return a table of functions\n",
            cfg->script);
    lua_pop(L, 1);
    return 0;
  }
  if (!push_hook(L, lua_gettop(L), "setup")) {
    lua_pop(L, 1);
    return 0;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, cfg->calls);
  lua_setfield(L, -2, "calls");
  lua_pushnumber(L, cfg->seconds);
  lua_setfield(L, -2, "seconds");
  lua_pushinteger(L, TICK_RATE);
  lua_setfield(L, -2, "rate");
  if (!docall(L, 1, 0)) {
    lua_pop(L, 1);
    return 0;
  }
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** The tick loop
** =======================================================
*/


static double diff_ms (const struct timespec *a, const struct timespec *b) {
  return (double)(b->tv_sec - a->tv_sec) * 1e3
         + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}


static void add_tick (struct timespec *t) {
  t->tv_nsec += TICK_NS;
  if (t->tv_nsec >= 1000000000L) {
    t->tv_nsec -= 1000000000L;
    t->tv_sec++;
  }
}


static int before (const struct timespec *a, const struct timespec *b) {
  return a->tv_sec < b->tv_sec
         || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}


/* Calls game.tick(n) (the game table is at 'game') and stores the number
** of calls it says are in flight. Returns 0 on a Lua error. */
static int call_tick (lua_State *L, int game, lua_Integer n,
                      lua_Integer *inflight) {
  int isnum;
  if (!push_hook(L, game, "tick"))
    return 0;
  lua_pushinteger(L, n);
  if (!docall(L, 1, 1))
    return 0;
  *inflight = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 1);
  if (!isnum) {
    fprintf(stderr, "host: tick must return the number of calls in "
            "flight\n");
    return 0;
  }
  return 1;
}


/* Sleeps until 'deadline', the start of the next tick. */
static void sleep_until (const struct timespec *deadline) {
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, NULL)
         == EINTR)
    ;
}


/* Ticks for the run's length, then on while calls are in flight, at
** most DRAIN_SECONDS more. Returns 1 when done, 0 when calls were still
** in flight at the end, -1 on a Lua error. */
static int run_ticks (lua_State *L, int game, const Config *cfg,
                      Stats *st, long capacity) {
  long run = (long)(cfg->seconds * TICK_RATE + 0.5);
  lua_Integer inflight = 0;
  struct timespec start, deadline, t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &start);
  deadline = start;
  while (st->ticks < capacity) {
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!call_tick(L, game, st->ticks + 1, &inflight))
      return -1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    st->tick_ms[st->ticks++] = diff_ms(&t0, &t1);
    if (inflight > 0)
      st->busy++;
    if (inflight > st->max_inflight)
      st->max_inflight = inflight;
    if (st->ticks >= run && inflight == 0)
      break;
    add_tick(&deadline);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (before(&deadline, &t1))
      st->late++;
    else
      sleep_until(&deadline);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  st->wall_s = diff_ms(&start, &t1) / 1e3;
  if (inflight > 0) {
    fprintf(stderr, "host: %ld call(s) still in flight after %d s of "
            "draining\n", (long)inflight, DRAIN_SECONDS);
    return 0;
  }
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Results
** =======================================================
*/


static int cmp_double (const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}


/* Prints the tick statistics; sorts st->tick_ms in place. */
static void print_ticks (Stats *st) {
  double *v = st->tick_ms;
  long n = st->ticks;
  long p99 = n > 0 ? (long)((double)n * 0.99 + 0.999999) - 1 : 0;
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  printf("ticks: %ld\n", n);
  printf("tick rate: %.1f/s\n", st->wall_s > 0 ? (double)n / st->wall_s
                                                : 0.0);
  printf("late ticks: %ld\n", st->late);
  printf("max tick ms: %.3f\n", n > 0 ? v[n - 1] : 0.0);
  printf("p99 tick ms: %.3f\n", n > 0 ? v[p99] : 0.0);
  printf("median tick ms: %.3f\n", n > 0 ? v[n / 2] : 0.0);
  printf("ticks with calls in flight: %ld\n", st->busy);
  printf("max calls in flight: %ld\n", (long)st->max_inflight);
}


/* Prints the integer field 'name' of the table at the top. */
static void print_count (lua_State *L, const char *label, const char *name) {
  lua_getfield(L, -1, name);
  printf("%s: %ld\n", label, (long)lua_tointeger(L, -1));
  lua_pop(L, 1);
}


/* Calls game.finish() and prints what it returns. Returns 0 on error. */
static int finish (lua_State *L, int game) {
  lua_Integer i, n;
  if (!push_hook(L, game, "finish") || !docall(L, 0, 1))
    return 0;
  if (!lua_istable(L, -1)) {
    fprintf(stderr, "host: finish must return a table\n");
    lua_pop(L, 1);
    return 0;
  }
  print_count(L, "calls started", "started");
  print_count(L, "callbacks received", "callbacks");
  lua_getfield(L, -1, "per_call");
  n = lua_istable(L, -1) ? luaL_len(L, -1) : 0;
  printf("callbacks per call:");
  for (i = 1; i <= n; i++) {
    lua_geti(L, -1, i);
    printf(" %ld", (long)lua_tointeger(L, -1));
    lua_pop(L, 1);
  }
  printf("\n");
  lua_pop(L, 2);  /* per_call, result */
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Options and main
** =======================================================
*/


static const char *env_or (const char *name, const char *def) {
  const char *v = getenv(name);
  return v != NULL && *v != '\0' ? v : def;
}


static int usage (const char *progname) {
  fprintf(stderr, "usage: %s [-t seconds] [-n calls] [-s script] "
          "[-P lua_path] [-C lua_cpath]\n", progname);
  return 0;
}


/* Fills 'cfg' from the environment, then the arguments. Returns 0 on a
** usage error. */
static int get_config (Config *cfg, int argc, char **argv) {
  char *end;
  int opt;
  const char *seconds = env_or("HOST_SECONDS", NULL);
  const char *calls = env_or("HOST_CALLS", NULL);
  cfg->script = env_or("HOST_SCRIPT", DEFAULT_SCRIPT);
  cfg->path = env_or("HOST_LUA_PATH", DEFAULT_PATH);
  cfg->cpath = env_or("HOST_LUA_CPATH", DEFAULT_CPATH);
  while ((opt = getopt(argc, argv, "t:n:s:P:C:")) != -1) {
    switch (opt) {
      case 't': seconds = optarg; break;
      case 'n': calls = optarg; break;
      case 's': cfg->script = optarg; break;
      case 'P': cfg->path = optarg; break;
      case 'C': cfg->cpath = optarg; break;
      default: return usage(argv[0]);
    }
  }
  if (optind != argc)
    return usage(argv[0]);
  cfg->seconds = DEFAULT_SECONDS;
  if (seconds != NULL) {
    cfg->seconds = strtod(seconds, &end);
    if (*end != '\0' || !(cfg->seconds > 0 && cfg->seconds <= 3600)) {
      fprintf(stderr, "host: seconds must be in (0, 3600]\n");
      return 0;
    }
  }
  cfg->calls = DEFAULT_CALLS;
  if (calls != NULL) {
    cfg->calls = strtol(calls, &end, 10);
    if (*end != '\0' || cfg->calls < 0 || cfg->calls > 10000) {
      fprintf(stderr, "host: calls must be a whole number in [0, 10000]\n");
      return 0;
    }
  }
  return 1;
}


/* Everything between making the state and closing it; the game table
** is at the top of the stack while the ticks run. */
static int run (lua_State *L, Config *cfg) {
  Stats st;
  long capacity = (long)((cfg->seconds + DRAIN_SECONDS) * TICK_RATE) + 1;
  int status;
  memset(&st, 0, sizeof(st));
  lua_pushcfunction(L, init_state);
  lua_pushlightuserdata(L, cfg);
  if (!docall(L, 1, 0) || !load_game(L, cfg))
    return 0;
  st.tick_ms = (double *)malloc((size_t)capacity * sizeof(double));
  if (st.tick_ms == NULL) {
    fprintf(stderr, "host: not enough memory\n");
    return 0;
  }
  status = run_ticks(L, lua_gettop(L), cfg, &st, capacity);
  if (status >= 0)
    print_ticks(&st);
  free(st.tick_ms);
  if (status < 0)
    return 0;  /* lua_close will close the client */
  return finish(L, lua_gettop(L)) && status > 0;
}


int main (int argc, char **argv) {
  Config cfg;
  lua_State *L;
  int ok;
  if (!get_config(&cfg, argc, argv))
    return 2;
  L = luaL_newstate();
  if (L == NULL) {
    fprintf(stderr, "host: cannot create the Lua state\n");
    return 1;
  }
  ok = run(L, &cfg);
  lua_close(L);
  fflush(stdout);
  return ok ? 0 : 1;
}

/* }====================================================== */
