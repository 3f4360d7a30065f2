/*
** fuzz_reply.c: libFuzzer target for the reply classifier. Each input
** is split into what a custom transport returns, {status, headers,
** body}, which check_reply.lua gives to client:classify: it must return
** a call (or decoded body) or nil and a well-formed error, and never
** raise for a status from 100 to 999.
**
** Layout of an input:
**   byte 0         the mode: "call", "read" or "write" (by byte % 3);
**                  when (byte / 3) is odd, the header lines are read by
**                  the core's own reader of libcurl's header bytes
**                  (push_headers), as for a reply that came over libcurl
**   first line     the status: a number as Lua reads it ("404", "2e2"),
**                  or "=" and 8 bytes taken as a double (NaN, inf...);
**                  anything else is 200
**   header lines   "name: value" up to an empty line; a line without a
**                  colon is a name with an empty value; a name given
**                  again makes a list of its values, as OpenResty does
**   the rest       the body; no empty line at all means no body
** Lines end with "\n"; a "\r" before it is dropped.
*/

#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "client.h"


typedef struct Input {
  const char *p;
  const char *end;
} Input;


static const char *const modes[] = {"call", "read", "write"};


/* Returns the next line (without its end) in *len, or NULL when no
** complete line is left. */
static const char *next_line (Input *in, size_t *len) {
  const char *line = in->p;
  const char *eol = memchr(line, '\n', (size_t)(in->end - line));
  if (eol == NULL)
    return NULL;
  in->p = eol + 1;
  if (eol > line && eol[-1] == '\r')
    eol--;
  *len = (size_t)(eol - line);
  return line;
}


static void push_status (lua_State *L, const char *s, size_t len) {
  double x;
  if (len == 9 && s[0] == '=') {
    memcpy(&x, s + 1, sizeof(x));
    lua_pushnumber(L, x);
  }
  else {
    lua_pushlstring(L, s, len);
    if (strlen(lua_tostring(L, -1)) != len
        || lua_stringtonumber(L, lua_tostring(L, -1)) == 0)
      lua_pushinteger(L, 200);
    lua_remove(L, -2);
  }
}


/* headers[name] = value, or a list of the values of a repeated name. */
static void add_header (lua_State *L, int headers, const char *line,
                        size_t len) {
  const char *colon = memchr(line, ':', len);
  const char *value = colon ? colon + 1 : line + len;
  const char *end = line + len;
  lua_pushlstring(L, line, (size_t)((colon ? colon : end) - line));
  while (value < end && (*value == ' ' || *value == '\t'))
    value++;
  lua_pushvalue(L, -1);
  lua_rawget(L, headers);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, value, (size_t)(end - value));
  }
  else {
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_createtable(L, 2, 0);
      lua_insert(L, -2);
      lua_rawseti(L, -2, 1);
    }
    lua_pushlstring(L, value, (size_t)(end - value));
    lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  }
  lua_rawset(L, headers);
}


/* Pushes the headers table push_headers makes of the bytes from 'p' to
** 'end', the header section as libcurl hands it over. */
static void push_raw_headers (lua_State *L, const char *p, const char *end) {
  Buf head;
  buf_init(&head, MAX_HEAD);
  buf_add(&head, p, (size_t)(end - p));
  push_headers(L, &head);
  buf_free(&head);
}


/* Pushes the mode, the reply table and whether its headers came through
** push_headers. */
static void decode (lua_State *L, const uint8_t *data, size_t size) {
  Input in;
  const char *line, *section;
  size_t len;
  int reply, headers, raw = size > 0 && (data[0] / 3) % 2 == 1;
  in.p = (const char *)data + 1;
  in.end = (const char *)data + size;
  lua_pushstring(L, modes[size > 0 ? data[0] % 3 : 0]);
  lua_createtable(L, 0, 3);
  reply = lua_gettop(L);
  line = size > 0 ? next_line(&in, &len) : NULL;
  if (line)
    push_status(L, line, len);
  else
    lua_pushinteger(L, 200);
  lua_setfield(L, reply, "status");
  lua_newtable(L);
  headers = lua_gettop(L);
  section = in.p;
  while (line && (line = next_line(&in, &len)) != NULL && len > 0)
    add_header(L, headers, line, len);
  if (raw) {
    lua_pop(L, 1);
    push_raw_headers(L, section, line ? in.p : in.end);
  }
  lua_setfield(L, reply, "headers");
  if (line) {  /* the empty line: a body follows */
    lua_pushlstring(L, in.p, (size_t)(in.end - in.p));
    lua_setfield(L, reply, "body");
  }
  lua_pushboolean(L, raw);
}


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  lua_State *L = harness_state("reply");
  decode(L, data, size);
  harness_check(L, 3);
  return 0;
}
