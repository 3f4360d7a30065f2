/*
** core.h: what the parts of ringg.core share. Nothing here is public:
** the Lua-visible interface is the module table built in core.c.
*/

#ifndef RINGG_CORE_H
#define RINGG_CORE_H

#include <stddef.h>
#include <string.h>

#include "compat.h"


/*
** {======================================================
** Buffer: a growable byte buffer with a hard size cap
** =======================================================
*/

/* A failed append (cap reached or out of memory) sets 'failed' and makes
** every later append a no-op, so writers check once, at the end. */
typedef struct Buf {
  char *data;
  size_t len;
  size_t size;
  size_t limit;
  int failed;
} Buf;

void buf_init (Buf *b, size_t limit);
void buf_free (Buf *b);
void buf_reset (Buf *b);
void buf_add_slow (Buf *b, const char *s, size_t n);

/* Appends: inline while there is room, the common case on a buffer
** reused from request to request. */
static inline void buf_add (Buf *b, const char *s, size_t n) {
  if (n < b->size - b->len) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
  }
  else
    buf_add_slow(b, s, n);
}

static inline void buf_addc (Buf *b, char c) {
  if (b->len + 1 < b->size)
    b->data[b->len++] = c;
  else
    buf_add_slow(b, &c, 1);
}

#define buf_addlit(b, s)  buf_add((b), "" s, sizeof(s) - 1)

/* }====================================================== */


/*
** {======================================================
** JSON writing (json.c)
** =======================================================
*/

/* Length of the longest prefix of 's' that is valid UTF-8 (RFC 3629:
** no overlong forms, no surrogates, nothing above U+10FFFF). */
size_t utf8_prefix (const char *s, size_t len);

void json_string (Buf *b, const char *s, size_t len);

/* Writes a string known to need no escape (checked to be made of safe
** characters only: digits, letters, and the like). */
void json_plain (Buf *b, const char *s, size_t len);
void json_integer (Buf *b, long long n);
void json_float (Buf *b, double x);

/* Writes the number at 'idx'; integral values print as integers. */
void json_number (lua_State *L, Buf *b, int idx);

/* Nesting allowed in free-form JSON values (extra_body, request bodies) */
#define JSON_MAX_DEPTH  32

/* }====================================================== */


/*
** {======================================================
** Validation and assembly of request bodies (validate.c)
** =======================================================
*/

/* Validates the call parameters at 'idx' and writes their JSON body to
** 'out'. Returns 1 on success (stack unchanged), or 0 with an error
** table of kind "invalid" pushed. */
int call_assemble (lua_State *L, int idx, Buf *out);

/* Writes any JSON-able Lua value at 'idx' (a request body for
** client:request). Same return convention as call_assemble; 'what'
** names the value in error paths. */
int value_assemble (lua_State *L, int idx, Buf *out, const char *what);

/* }====================================================== */


/*
** {======================================================
** Errors and replies (reply.c)
** =======================================================
*/

/* How a reply is read, and which failures may be repeated safely */
typedef enum Mode {
  MODE_CALL,   /* placing a call: normalised call table; never retry */
  MODE_READ,   /* GET: decoded JSON; retry also on 408, 5xx, timeouts */
  MODE_WRITE   /* other methods: decoded JSON; retry like MODE_CALL */
} Mode;

/* Kinds of failure, named as in the public contract */
#define KIND_INVALID    "invalid"
#define KIND_PROTOCOL   "protocol"
#define KIND_TIMEOUT    "timeout"
#define KIND_NETWORK    "network"
#define KIND_CANCELLED  "cancelled"

/* Pushes a new error table with the shared metatable and 'kind'. */
void error_new (lua_State *L, const char *kind);

/* Sets t[k] = v on the table at the top of the stack. */
void error_setstring (lua_State *L, const char *k, const char *v);
void error_setbool (lua_State *L, const char *k, int v);

/* Puts nil under the error at the top of the stack; returns 2, so a
** Lua-visible function can end with "return reply_fail(L);". */
int reply_fail (lua_State *L);

/* Pushes an error for a request that failed before any reply: 'sent'
** says whether it may have reached the server. The message is formatted
** as by lua_pushfstring. */
void reply_transport_error (lua_State *L, Mode mode, const char *kind,
                            int sent, const char *fmt, ...);

/* Turns a reply into results: pushes the call (MODE_CALL) or the decoded
** body and a {status, headers} table (others) and returns their count,
** or pushes nil and an error and returns 2. 'headers' is the index of a
** table with lower-case names; the body is 'body'/'len'. */
int reply_classify (lua_State *L, Mode mode, long status, int headers,
                    const char *body, size_t len);

/* Registers the error metatable and keeps the JSON decoder; called once
** by luaopen_ringg_core with the module table at the top. */
void reply_open (lua_State *L);

/* }====================================================== */


/*
** {======================================================
** The client (client.c) and the multi queue (multi.c)
** =======================================================
*/

void client_open (lua_State *L);

/* }====================================================== */

#endif
