/*
** reply.c: the error model, and what a reply means. A reply is given as
** status, headers (a table with lower-case names) and body bytes, from
** libcurl or from a custom transport alike, so both paths classify the
** same way. JSON is decoded with lua-cjson's safe decoder.
*/

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "core.h"


#define ERROR_TYPE  "ringg.error"

#define MAX_RETRY_AFTER  86400.0  /* seconds: a day at the most */

/* Registry key of cjson.safe.decode */
static const char decoder_key = 'd';


/*
** {======================================================
** Error tables
** =======================================================
*/

static int error_tostring (lua_State *L) {
  const char *kind, *message;
  lua_getfield(L, 1, "kind");
  lua_getfield(L, 1, "message");
  kind = lua_tostring(L, -2);
  message = lua_tostring(L, -1);
  if (message)
    lua_pushfstring(L, "ringg: %s: %s", kind ? kind : "error", message);
  else
    lua_pushfstring(L, "ringg: %s", kind ? kind : "error");
  return 1;
}


void error_new (lua_State *L, const char *kind) {
  lua_createtable(L, 0, 8);
  luaL_setmetatable(L, ERROR_TYPE);
  error_setstring(L, "kind", kind);
}


void error_setstring (lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}


void error_setbool (lua_State *L, const char *k, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, k);
}


int reply_fail (lua_State *L) {
  lua_pushnil(L);
  lua_insert(L, -2);
  return 2;
}


/* Whether repeating the request is safe and may succeed. A call or
** other write may only be repeated when it never left, or on 429; a
** read may be repeated after any passing failure. */
static int is_retryable (Mode mode, const char *kind, long status,
                         int sent) {
  if (strcmp(kind, KIND_INVALID) == 0 || strcmp(kind, KIND_PROTOCOL) == 0)
    return 0;
  if (status == 429 || !sent)
    return 1;
  if (mode != MODE_READ)
    return 0;
  return status == 408 || status >= 500 || status == 0;
}


static const char ambiguous_call[] =
  "; the call may have been placed: look it up (client:find_calls or "
  "call_history) before placing it again";


void reply_transport_error (lua_State *L, Mode mode, const char *kind,
                            int sent, const char *fmt, ...) {
  va_list ap;
  error_new(L, kind);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  if (sent && mode == MODE_CALL) {  /* cancelled too: it may have left */
    lua_pushstring(L, ambiguous_call);
    lua_concat(L, 2);
  }
  lua_setfield(L, -2, "message");
  error_setbool(L, "sent", sent);
  error_setbool(L, "retryable", is_retryable(mode, kind, 0, sent));
}

/* }====================================================== */


/*
** {======================================================
** Reading decoded JSON
** =======================================================
*/

/* Pushes t[k]; JSON null (cjson.null) comes back as nil. */
static int get_json (lua_State *L, int t, const char *k) {
  lua_getfield(L, t, k);
  if (lua_type(L, -1) == LUA_TLIGHTUSERDATA && !lua_touserdata(L, -1)) {
    lua_pop(L, 1);
    lua_pushnil(L);
  }
  return lua_type(L, -1);
}


/* Pushes the first of t[names...] that is a string, or nil. */
static const char *get_first_string (lua_State *L, int t,
                                     const char *const *names) {
  for (; *names; names++) {
    if (get_json(L, t, *names) == LUA_TSTRING)
      return lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  return NULL;
}


/* Calls cjson.safe.decode on the body; pushes the value, or nil when it
** is not JSON. */
static void decode (lua_State *L, const char *body, size_t len) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &decoder_key);
  lua_pushlstring(L, body, len);
  lua_call(L, 1, 1);
}

/* }====================================================== */


/*
** {======================================================
** Failures with a reply
** =======================================================
*/

static const char *kind_of_status (long status) {
  if (status == 401 || status == 403) return "auth";
  if (status == 402) return "credits";
  if (status == 404) return "not_found";
  if (status == 429) return "rate_limited";
  if (status >= 400 && status < 500) return "rejected";
  if (status >= 500 && status < 600) return "server";
  return KIND_PROTOCOL;
}


static const char *reason_phrase (long status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return NULL;
  }
}


#define MAX_LOCATION  16  /* parts of a FastAPI "loc" kept in a path */


/* Pushes "a.b[2]" from a FastAPI "loc" list, leaving out a leading
** "body". The parts are pushed one by one and joined at the end. */
static void push_location (lua_State *L, int loc) {
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, loc);
  int parts = 0;
  if (n > MAX_LOCATION)
    n = MAX_LOCATION;
  luaL_checkstack(L, 2 * MAX_LOCATION + 2, "too many parts");
  for (i = 1; i <= n; i++) {
    int type, keep = 0;
    lua_rawgeti(L, loc, i);
    type = lua_type(L, -1);
    if (type == LUA_TNUMBER) {
      lua_Number index = lua_tonumber(L, -1);
      lua_pop(L, 1);
      if (index >= 0 && index < 1e9) {
        lua_pushfstring(L, "[%d]", (int)index);
        keep = 1;
      }
    }
    else if (type == LUA_TSTRING
             && (parts > 0 || strcmp(lua_tostring(L, -1), "body") != 0)) {
      if (parts > 0) {
        lua_pushliteral(L, ".");
        lua_insert(L, -2);
        parts++;
      }
      keep = 1;
    }
    else
      lua_pop(L, 1);
    parts += keep;
  }
  lua_concat(L, parts);  /* "" when there is nothing */
}


/* Appends {field, message} to the list at 'list' from one entry of a
** server's error list: FastAPI {loc, msg}, {field, message}, or text. */
static void add_server_error (lua_State *L, int list, int entry) {
  static const char *const fields[] = {"field", NULL};
  static const char *const messages[] = {"msg", "message", "detail", NULL};
  int error;
  lua_createtable(L, 0, 2);
  error = lua_gettop(L);
  if (lua_type(L, entry) == LUA_TSTRING) {
    lua_pushvalue(L, entry);
    lua_setfield(L, error, "message");
  }
  else if (lua_type(L, entry) == LUA_TTABLE) {
    if (get_json(L, entry, "loc") == LUA_TTABLE)
      push_location(L, error + 1);
    else
      get_first_string(L, entry, fields);
    lua_setfield(L, error, "field");
    lua_settop(L, error);
    get_first_string(L, entry, messages);
    lua_setfield(L, error, "message");
  }
  lua_rawseti(L, list, (lua_Integer)lua_rawlen(L, list) + 1);
}


/* Pushes "field: message" for entry 'i' of the list at 'errors'. */
static void push_error_line (lua_State *L, int errors, lua_Integer i) {
  const char *field, *message;
  lua_rawgeti(L, errors, i);
  lua_getfield(L, -1, "field");
  lua_getfield(L, -2, "message");
  field = lua_tostring(L, -2);
  message = lua_tostring(L, -1);
  if (field && *field)
    lua_pushfstring(L, "%s: %s", field, message ? message : "?");
  else
    lua_pushstring(L, message ? message : "?");
  lua_replace(L, -4);  /* over the entry */
  lua_pop(L, 2);       /* field, message */
}


/* Sets err.errors from a list in the reply ("detail" or "errors"), and
** pushes a one-line summary of its first entries. */
static void server_errors (lua_State *L, int err, int list) {
  luaL_Buffer b;
  lua_Integer i, n = (lua_Integer)lua_rawlen(L, list);
  int errors;
  lua_createtable(L, (int)(n < 100 ? n : 100), 0);
  errors = lua_gettop(L);
  for (i = 1; i <= n && i <= 100; i++) {
    lua_rawgeti(L, list, i);
    add_server_error(L, errors, lua_gettop(L));
    lua_pop(L, 1);
  }
  lua_pushvalue(L, errors);
  lua_setfield(L, err, "errors");
  luaL_buffinit(L, &b);
  for (i = 1; i <= n && i <= 3; i++) {
    if (i > 1)
      luaL_addstring(&b, "; ");
    push_error_line(L, errors, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_remove(L, errors);
}


/* Pushes the list of field errors of a decoded error body ("detail" in
** FastAPI's form, or "errors"), and returns 1; or pushes nothing. */
static int find_error_list (lua_State *L, int body) {
  if (get_json(L, body, "detail") == LUA_TTABLE)
    return 1;
  lua_pop(L, 1);
  if (get_json(L, body, "errors") == LUA_TTABLE)
    return 1;
  lua_pop(L, 1);
  return 0;
}


/* Pushes the server's own words from a decoded error body, or nil, and
** fills err.errors when the body lists field errors. */
static void server_message (lua_State *L, int err, int body) {
  static const char *const texts[] = {"detail", "message", "error", "msg",
                                      NULL};
  static const char *const inner[] = {"message", "detail", NULL};
  int top = lua_gettop(L);
  if (lua_type(L, body) != LUA_TTABLE) {
    lua_pushnil(L);
    return;
  }
  if (find_error_list(L, body)) {
    server_errors(L, err, top + 1);
    lua_remove(L, top + 1);
    return;
  }
  if (get_json(L, body, "error") == LUA_TTABLE) {
    get_first_string(L, top + 1, inner);
    lua_remove(L, top + 1);
    if (!lua_isnil(L, -1))
      return;
  }
  lua_settop(L, top);
  get_first_string(L, body, texts);
}


/* Seconds to wait, from retry-after-ms or Retry-After (seconds or an
** HTTP date); negative when the reply says nothing usable. */
static double retry_after (lua_State *L, int headers) {
  double seconds = -1;
  lua_getfield(L, headers, "retry-after-ms");
  lua_getfield(L, headers, "retry-after");
  if (lua_isnumber(L, -2))
    seconds = lua_tonumber(L, -2) / 1000.0;
  else if (lua_isnumber(L, -1))
    seconds = lua_tonumber(L, -1);
  else if (lua_type(L, -1) == LUA_TSTRING) {
    time_t when = curl_getdate(lua_tostring(L, -1), NULL);
    if (when != -1)
      seconds = when > time(NULL) ? difftime(when, time(NULL)) : 0;
  }
  lua_pop(L, 2);
  if (seconds > MAX_RETRY_AFTER)  /* infinity too: "retry-after-ms: 1e999" */
    seconds = MAX_RETRY_AFTER;
  return seconds;
}


static void set_request_id (lua_State *L, int err, int headers) {
  static const char *const names[] = {"x-request-id", "request-id",
                                      "x-amzn-requestid", NULL};
  get_first_string(L, headers, names);
  lua_setfield(L, err, "request_id");
}


/* Pushes nil and the error for an HTTP status that is not a success. */
static int http_failure (lua_State *L, Mode mode, long status, int headers,
                         const char *body, size_t len, int decoded) {
  const char *kind = kind_of_status(status);
  const char *reason = reason_phrase(status);
  const char *said;
  double wait;
  int err;
  lua_pushnil(L);
  error_new(L, kind);
  err = lua_gettop(L);
  lua_pushinteger(L, status);
  lua_setfield(L, err, "status");
  server_message(L, err, decoded);
  said = lua_tostring(L, -1);
  lua_pushfstring(L, "HTTP %d%s%s%s%s", (int)status, reason ? " " : "",
                  reason ? reason : "", said && *said ? ": " : "",
                  said ? said : "");
  lua_setfield(L, err, "message");
  lua_pop(L, 1);
  if ((wait = retry_after(L, headers)) >= 0) {
    lua_pushnumber(L, wait);
    lua_setfield(L, err, "retry_after");
  }
  error_setbool(L, "sent", 1);
  error_setbool(L, "retryable", is_retryable(mode, kind, status, 1));
  lua_pushlstring(L, body, len);
  lua_setfield(L, err, "body");
  lua_pushvalue(L, headers);
  lua_setfield(L, err, "headers");
  set_request_id(L, err, headers);
  return 2;
}


/* Pushes nil and a "protocol" error: a reply that is not what the API
** sends. */
static int bad_reply (lua_State *L, long status, int headers,
                      const char *body, size_t len, const char *why) {
  lua_pushnil(L);
  error_new(L, KIND_PROTOCOL);
  lua_pushfstring(L, "HTTP %d: %s", (int)status, why);
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  error_setbool(L, "sent", 1);
  error_setbool(L, "retryable", 0);
  lua_pushlstring(L, body, len);
  lua_setfield(L, -2, "body");
  lua_pushvalue(L, headers);
  lua_setfield(L, -2, "headers");
  set_request_id(L, lua_gettop(L), headers);
  return 2;
}

/* }====================================================== */


/*
** {======================================================
** Successful replies
** =======================================================
*/

/* call[field] = the first of data[names...] that is not null */
static void copy_first (lua_State *L, int call, int data, const char *field,
                        const char *const *names) {
  for (; *names; names++) {
    if (get_json(L, data, *names) != LUA_TNIL) {
      lua_setfield(L, call, field);
      return;
    }
    lua_pop(L, 1);
  }
}


/* call.message: the reply's own, else the data's, else the legacy
** top-level "Call Status" sentence. */
static void copy_message (lua_State *L, int call, int reply, int data) {
  static const char *const message[] = {"message", NULL};
  static const char *const legacy[] = {"Call Status", NULL};
  copy_first(L, call, reply, "message", message);
  lua_getfield(L, call, "message");
  if (lua_isnil(L, -1))
    copy_first(L, call, data, "message", message);
  lua_pop(L, 1);
  lua_getfield(L, call, "message");
  if (lua_isnil(L, -1))
    copy_first(L, call, reply, "message", legacy);
  lua_pop(L, 1);
}


/* Both documented reply shapes, current and legacy, side by side */
static const struct {
  const char *field;
  const char *names[4];
} call_names[] = {
  {"status", {"call_status", "Call Status", NULL}},
  {"direction", {"call_direction", "Call Direction", NULL}},
  {"initiated_at", {"initiated_at", "Initiated at", NULL}},
  {"agent_id", {"agent_id", "Agent ID", NULL}},
  {"from_number", {"from_number", "From Number", NULL}},
  {"to_number", {"to_number", "To Number", NULL}},
  {"custom_args_values", {"custom_args_values", NULL}},
  {NULL, {NULL}}
};


/* Builds the call table from a decoded 2xx reply at 'reply'. */
static int normalise_call (lua_State *L, long status, int headers,
                           int reply, const char *body, size_t len) {
  static const char *const ids[] = {"call_id", "Unique Call ID", "id",
                                    NULL};
  int data, call, i;
  if (get_json(L, reply, "data") != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_pushvalue(L, reply);  /* a flat reply */
  }
  data = lua_gettop(L);
  if (get_first_string(L, data, ids) == NULL) {
    static const char *const outcome[] = {"status", NULL};
    const char *said = get_first_string(L, reply, outcome);
    if (said && strcmp(said, "success") != 0)
      return http_failure(L, MODE_CALL, 400, headers, body, len, reply);
    return bad_reply(L, status, headers, body, len,
                     "the reply has no call id");
  }
  lua_createtable(L, 0, 12);
  call = lua_gettop(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, call, "id");
  for (i = 0; call_names[i].field; i++)
    copy_first(L, call, data, call_names[i].field, call_names[i].names);
  copy_message(L, call, reply, data);
  lua_pushinteger(L, status);
  lua_setfield(L, call, "http_status");
  lua_pushvalue(L, headers);
  lua_setfield(L, call, "headers");
  lua_pushvalue(L, reply);
  lua_setfield(L, call, "body");
  return 1;
}


/* The results of a read or other write: the decoded body and a table
** with the status and headers. */
static int decoded_result (lua_State *L, long status, int headers,
                           int decoded) {
  lua_pushvalue(L, decoded);
  lua_createtable(L, 0, 2);
  lua_pushinteger(L, status);
  lua_setfield(L, -2, "status");
  lua_pushvalue(L, headers);
  lua_setfield(L, -2, "headers");
  return 2;
}


/* Moves the 'n' results at the top down to just above 'base', dropping
** the scratch values between; returns 'n'. */
static int keep_results (lua_State *L, int base, int n) {
  int top = lua_gettop(L);
  int i;
  for (i = 1; i <= n; i++) {
    lua_pushvalue(L, top - n + i);
    lua_replace(L, base + i);
  }
  lua_settop(L, base + n);
  return n;
}


int reply_classify (lua_State *L, Mode mode, long status, int headers,
                    const char *body, size_t len) {
  int decoded, results;
  headers = lua_absindex(L, headers);
  if (len > 0)
    decode(L, body, len);
  else if (mode == MODE_CALL)
    lua_pushnil(L);
  else
    lua_newtable(L);  /* 204 and friends: an empty result */
  decoded = lua_gettop(L);
  if (status < 200 || status >= 300) {
    if (status < 400 || status >= 600)
      results = bad_reply(L, status, headers, body, len, status >= 300
            && status < 400 ? "redirect not followed (the API key is "
            "never sent to another address)" : "unexpected status");
    else
      results = http_failure(L, mode, status, headers, body, len, decoded);
  }
  else if (lua_type(L, decoded) != LUA_TTABLE)
    results = bad_reply(L, status, headers, body, len, lua_isnil(L, decoded)
                        ? "the reply is not valid JSON"
                        : "the reply is not a JSON object");
  else if (mode == MODE_CALL)
    results = normalise_call(L, status, headers, decoded, body, len);
  else
    results = decoded_result(L, status, headers, decoded);
  return keep_results(L, decoded - 1, results);
}

/* }====================================================== */


void reply_open (lua_State *L) {
  luaL_newmetatable(L, ERROR_TYPE);
  lua_pushcfunction(L, error_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_setfield(L, -2, "error_mt");  /* module.error_mt */
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cjson.safe");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "decode");
  lua_rawsetp(L, LUA_REGISTRYINDEX, &decoder_key);
  lua_pop(L, 1);
}
