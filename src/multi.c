/*
** multi.c: requests in flight on one curl multi handle per client,
** driven by client:poll from the caller's own loop.
**
** Each request is a Transfer, a userdata returned to Lua as its handle.
** It sits in exactly one of three lists: 'queued' (waiting for one of
** max_in_flight slots), 'running' (added to the multi handle) or 'done'
** (finished or cancelled, its callback not yet run). While in a list it
** is anchored in the registry, so dropping the handle loses nothing.
**
** libcurl's callbacks only copy bytes. Callbacks of the user run from
** deliver(), under lua_pcall, after libcurl has returned: a raising
** callback never unwinds through libcurl nor skips another transfer;
** poll re-raises the first such error once its bookkeeping is done.
*/

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"


#define DEFAULT_IN_FLIGHT  64
#define POLL_SLICE_MS      1000.0  /* longest single wait in poll */
#define MAX_IN_FLIGHT      1024


typedef struct Transfer Transfer;

typedef struct List {
  Transfer *head;
  Transfer *tail;
  int count;
} List;

struct Transfer {
  Client *client;     /* NULL once the client is gone */
  List *list;         /* the list it is in, or NULL */
  Transfer *prev, *next;
  CURL *easy;
  Mode mode;
  const char *method;
  char *url;
  char *body;         /* own copy: libcurl reads it during the transfer */
  size_t body_len;
  int has_body;
  int anchor;         /* registry ref of the handle while listed */
  int callback;       /* registry ref of the callback */
  int cancelled;
  int started;        /* was added to the multi handle */
  CURLcode code;
  Upload up;          /* reads 'body' out to libcurl */
  Buf reply;
  Buf head;
  char errbuf[CURL_ERROR_SIZE];
};

struct Multi {
  CURLM *multi;
  List queued, running, done;
  int max_in_flight;
  int delivering;     /* inside deliver(): poll may not run again */
  CURL **idle;        /* easy handles kept for reuse */
  int nidle;
};


/*
** {======================================================
** Lists
** =======================================================
*/

static void list_push (List *l, Transfer *t) {
  t->list = l;
  t->next = NULL;
  t->prev = l->tail;
  if (l->tail)
    l->tail->next = t;
  else
    l->head = t;
  l->tail = t;
  l->count++;
}


static void list_remove (Transfer *t) {
  List *l = t->list;
  if (l == NULL)
    return;
  if (t->prev)
    t->prev->next = t->next;
  else
    l->head = t->next;
  if (t->next)
    t->next->prev = t->prev;
  else
    l->tail = t->prev;
  l->count--;
  t->list = NULL;
  t->prev = t->next = NULL;
}

/* }====================================================== */


/*
** {======================================================
** Easy handles
** =======================================================
*/

static CURL *take_easy (Multi *m) {
  if (m->nidle > 0)
    return m->idle[--m->nidle];
  return curl_easy_init();
}


/* Keeps a handle for the next transfer, up to max_in_flight of them. */
static void give_back_easy (Multi *m, CURL *easy) {
  if (m && m->nidle < m->max_in_flight) {
    curl_easy_reset(easy);
    m->idle[m->nidle++] = easy;
  }
  else
    curl_easy_cleanup(easy);
}


/* Adds queued transfers to the multi handle while slots are free. A
** transfer libcurl refuses is finished at once with that error. */
static void start_queued (Multi *m) {
  while (m->queued.head && m->running.count < m->max_in_flight) {
    Transfer *t = m->queued.head;
    Client *c = t->client;
    list_remove(t);
    t->easy = take_easy(m);
    t->started = 1;
    t->up.data = t->has_body ? t->body : NULL;
    t->up.len = t->body_len;
    if (t->easy == NULL
        || !client_setup_easy(c, t->easy, &t->reply, &t->head, t->errbuf)
        || !client_aim_easy(c, t->easy, t->method, t->url, &t->up)
        || curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t) != CURLE_OK
        || curl_multi_add_handle(m->multi, t->easy) != CURLM_OK) {
      t->code = CURLE_FAILED_INIT;
      t->started = 0;
      list_push(&m->done, t);
    }
    else
      list_push(&m->running, t);
  }
}


/* Moves finished transfers from 'running' to 'done'. */
static void collect_finished (Multi *m) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    Transfer *t = NULL;
    if (msg->msg != CURLMSG_DONE)
      continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    curl_multi_remove_handle(m->multi, msg->easy_handle);
    if (t == NULL)
      continue;
    t->code = msg->data.result;
    list_remove(t);
    list_push(&m->done, t);
  }
}

/* }====================================================== */


/*
** {======================================================
** Delivering results
** =======================================================
*/

/* Pushes the classified reply of a transfer that got one. */
static int push_reply (lua_State *L, Transfer *t) {
  long status = 0;
  int n;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  push_headers(L, &t->head);
  n = reply_classify(L, t->mode, status, -1, t->reply.data, t->reply.len);
  lua_remove(L, -(n + 1));  /* the headers: the results keep their own */
  return n;
}


/* Pushes the callback's arguments for a finished transfer; returns how
** many. */
static int push_results (lua_State *L, Transfer *t) {
  if (t->cancelled) {
    int sent = t->started && t->easy && client_request_left(t->easy);
    reply_transport_error(L, t->mode, KIND_CANCELLED, sent,
                          "cancelled before the reply arrived");
    return reply_fail(L);
  }
  if (t->code == CURLE_FAILED_INIT) {
    reply_transport_error(L, t->mode, KIND_NETWORK, 0,
                          "libcurl could not start the request");
    return reply_fail(L);
  }
  if (t->code != CURLE_OK) {
    client_curl_error(L, t->mode, t->easy, t->code, &t->reply, &t->head,
                      t->errbuf);
    return reply_fail(L);
  }
  return push_reply(L, t);
}


/* Frees the request and reply bytes a transfer holds. */
static void free_memory (Transfer *t) {
  free(t->body);
  free(t->url);
  t->body = t->url = NULL;
  buf_free(&t->reply);
  buf_free(&t->head);
}


static void unanchor (lua_State *L, Transfer *t) {
  luaL_unref(L, LUA_REGISTRYINDEX, t->callback);
  luaL_unref(L, LUA_REGISTRYINDEX, t->anchor);
  t->callback = t->anchor = LUA_NOREF;
}


/* Frees what a delivered transfer no longer needs and lets it go. */
static void retire (lua_State *L, Transfer *t) {
  Multi *m = t->client ? t->client->multi : NULL;
  if (t->easy) {
    give_back_easy(m, t->easy);
    t->easy = NULL;
  }
  free_memory(t);
  unanchor(L, t);
  t->client = NULL;  /* done: cancel() no longer applies */
}


/* Runs the callbacks of every transfer in 'done', oldest first. The
** first error a callback raises is left at 'slot' (nil until then).
** Stops early if a callback closes the client: close delivers the rest. */
static void deliver (lua_State *L, Client *c, int slot) {
  while (!c->closed && c->multi->done.head) {
    Transfer *t = c->multi->done.head;
    int n;
    list_remove(t);
    lua_rawgeti(L, LUA_REGISTRYINDEX, t->callback);
    n = push_results(L, t);
    retire(L, t);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
      if (lua_isnil(L, slot))
        lua_replace(L, slot);
      else
        lua_pop(L, 1);
    }
  }
}

/* }====================================================== */


/*
** {======================================================
** Starting and cancelling
** =======================================================
*/

static Multi *check_multi (lua_State *L, Client *c) {
  if (c->multi->delivering)
    luaL_error(L, "poll called from inside a callback");
  return c->multi;
}


/* Makes the Transfer userdata for the body in c->body (or none) and
** queues it; the callback is at 'cb'. Pushes the handle. */
static void queue_transfer (lua_State *L, Client *c, Mode mode,
                            const char *method, const char *url,
                            const Buf *body, int cb) {
  Transfer *t = (Transfer *)lua_newuserdatauv(L, sizeof(Transfer), 0);
  memset(t, 0, sizeof(*t));
  t->anchor = t->callback = LUA_NOREF;
  buf_init(&t->reply, MAX_REPLY);
  buf_init(&t->head, MAX_HEAD);
  luaL_setmetatable(L, HANDLE_TYPE);
  t->client = c;
  t->mode = mode;
  t->method = method;  /* a static string */
  t->url = strdup(url);
  if (body) {
    t->has_body = 1;
    t->body_len = body->len;
    t->body = malloc(body->len ? body->len : 1);
    if (t->body)
      memcpy(t->body, body->data, body->len);
  }
  if (t->url == NULL || (body && t->body == NULL))
    luaL_error(L, "not enough memory");
  lua_pushvalue(L, cb);
  t->callback = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, -1);
  t->anchor = luaL_ref(L, LUA_REGISTRYINDEX);
  list_push(&c->multi->queued, t);
}


/* client:start_call(params, callback) -> handle | nil, err */
static int multi_start_call (lua_State *L) {
  Client *c = client_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (!call_assemble(L, 2, &c->body))
    return reply_fail(L);
  queue_transfer(L, c, MODE_CALL, "POST", c->call_url, &c->body, 3);
  start_queued(c->multi);
  return 1;
}


/* client:start(method, path, query, body, callback) -> handle | nil, err */
static int multi_start (lua_State *L) {
  Client *c = client_check(L, 1);
  const char *method;
  const Buf *body;
  luaL_checktype(L, 6, LUA_TFUNCTION);
  if (!client_assemble(L, c, &method, &body))
    return reply_fail(L);
  queue_transfer(L, c, strcmp(method, "GET") == 0 ? MODE_READ : MODE_WRITE,
                 method, c->url.data, body, 6);
  start_queued(c->multi);
  return 1;
}


/* Marks a pending transfer cancelled and moves it to 'done'. */
static void cancel (Multi *m, Transfer *t) {
  if (t->list == &m->running)
    curl_multi_remove_handle(m->multi, t->easy);
  t->cancelled = 1;
  list_remove(t);
  list_push(&m->done, t);
}


/* handle:cancel() -> true if it was still pending; its callback then
** runs (in the next poll) with an error of kind "cancelled". */
static int handle_cancel (lua_State *L) {
  Transfer *t = (Transfer *)luaL_checkudata(L, 1, HANDLE_TYPE);
  Multi *m = t->client ? t->client->multi : NULL;
  int pending = m && (t->list == &m->queued || t->list == &m->running);
  if (pending)
    cancel(m, t);
  lua_pushboolean(L, pending);
  return 1;
}


static int handle_gc (lua_State *L) {
  Transfer *t = (Transfer *)luaL_checkudata(L, 1, HANDLE_TYPE);
  if (t->easy)
    curl_easy_cleanup(t->easy);
  t->easy = NULL;
  free_memory(t);
  return 0;
}


static int handle_tostring (lua_State *L) {
  Transfer *t = (Transfer *)luaL_checkudata(L, 1, HANDLE_TYPE);
  lua_pushfstring(L, "ringg.handle (%s)", t->list == NULL ? "done"
                  : t->cancelled ? "cancelled" : "pending");
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Polling
** =======================================================
*/

static double now_ms (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}


/* Runs libcurl until something finished or 'wait_ms' passed. */
static void drive (Multi *m, double wait_ms) {
  double deadline = now_ms() + wait_ms;
  int running;
  curl_multi_perform(m->multi, &running);
  collect_finished(m);
  start_queued(m);
  while (m->done.head == NULL && m->running.count > 0) {
    double left = deadline - now_ms();
    if (left <= 0)
      break;
    if (left > POLL_SLICE_MS)  /* an int of milliseconds, however long */
      left = POLL_SLICE_MS;
    curl_multi_poll(m->multi, NULL, 0, (int)(left + 0.999), NULL);
    curl_multi_perform(m->multi, &running);
    collect_finished(m);
    start_queued(m);
  }
}


/* client:poll(timeout) -> number of requests still in flight */
static int multi_poll (lua_State *L) {
  Client *c = client_check(L, 1);
  lua_Number timeout = luaL_optnumber(L, 2, 0);
  Multi *m = check_multi(L, c);
  int slot;
  luaL_argcheck(L, timeout >= 0, 2, "timeout must be >= 0");
  lua_settop(L, 2);
  lua_pushnil(L);  /* the first error a callback raises */
  slot = lua_gettop(L);
  start_queued(m);
  drive(m, (double)timeout * 1000.0);
  m->delivering = 1;
  deliver(L, c, slot);
  if (!c->closed) {
    m->delivering = 0;
    start_queued(m);
  }
  if (!lua_isnil(L, slot)) {
    lua_pushvalue(L, slot);
    return lua_error(L);
  }
  lua_pushinteger(L, c->closed ? 0 : m->queued.count + m->running.count
                                     + m->done.count);
  return 1;
}


/* client:pending() -> requests started whose callback has not run */
static int multi_pending (lua_State *L) {
  Client *c = client_check(L, 1);
  Multi *m = c->multi;
  lua_pushinteger(L, m->queued.count + m->running.count + m->done.count);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Life of the multi handle
** =======================================================
*/

void multi_init (lua_State *L, Client *c) {
  Multi *m;
  lua_Number n = DEFAULT_IN_FLIGHT;
  lua_getfield(L, 1, "max_in_flight");
  if (!lua_isnil(L, -1)) {
    n = lua_tonumber(L, -1);
    if (lua_type(L, -1) != LUA_TNUMBER || !(n >= 1 && n <= MAX_IN_FLIGHT)
        || n != (lua_Number)(int)n)
      luaL_error(L, "option 'max_in_flight' must be a whole number from "
                 "1 to %d", MAX_IN_FLIGHT);
  }
  lua_pop(L, 1);
  m = (Multi *)calloc(1, sizeof(Multi));  /* after the check: no leak */
  if (m == NULL)
    luaL_error(L, "not enough memory");
  c->multi = m;
  m->max_in_flight = (int)n;
  m->idle = (CURL **)calloc((size_t)m->max_in_flight, sizeof(CURL *));
  m->multi = curl_multi_init();
  if (m->idle == NULL || m->multi == NULL)
    luaL_error(L, "could not set up libcurl");
  curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)m->max_in_flight);
}


/* Cancels every pending transfer and runs all callbacks still due (with
** their real results where they had finished). Pushes the first error a
** callback raised, or nil: the caller raises it once the client is
** freed. */
void multi_cancel_all (lua_State *L, Client *c) {
  Multi *m = c->multi;
  lua_pushnil(L);
  if (m == NULL)
    return;
  while (m->running.head)
    cancel(m, m->running.head);
  while (m->queued.head)
    cancel(m, m->queued.head);
  m->delivering = 1;
  deliver(L, c, lua_gettop(L));
  m->delivering = 0;
}


/* Frees the multi handle without running callbacks (from __gc, or after
** multi_cancel_all). Transfers still listed lose their client and their
** anchors: nothing can deliver them any more. */
void multi_free (lua_State *L, Client *c) {
  Multi *m = c->multi;
  List *lists[3];
  int i;
  if (m == NULL)
    return;
  lists[0] = &m->queued;
  lists[1] = &m->running;
  lists[2] = &m->done;
  for (i = 0; i < 3; i++) {
    while (lists[i]->head) {
      Transfer *t = lists[i]->head;
      if (lists[i] == &m->running)
        curl_multi_remove_handle(m->multi, t->easy);
      list_remove(t);
      unanchor(L, t);
      t->client = NULL;
    }
  }
  while (m->nidle > 0)
    curl_easy_cleanup(m->idle[--m->nidle]);
  curl_multi_cleanup(m->multi);
  free(m->idle);
  free(m);
  c->multi = NULL;
}


static const luaL_Reg client_multi_methods[] = {
  {"start_call", multi_start_call},
  {"start", multi_start},
  {"poll", multi_poll},
  {"pending", multi_pending},
  {NULL, NULL}
};


static const luaL_Reg handle_methods[] = {
  {"cancel", handle_cancel},
  {NULL, NULL}
};


/* Adds the multi methods to the client method table at the top. */
void multi_methods (lua_State *L) {
  luaL_setfuncs(L, client_multi_methods, 0);
}


/* Registers the handle metatable. */
void multi_open (lua_State *L) {
  luaL_newmetatable(L, HANDLE_TYPE);
  lua_pushcfunction(L, handle_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, handle_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_newtable(L);
  luaL_setfuncs(L, handle_methods, 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

/* }====================================================== */
