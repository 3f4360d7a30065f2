/*
** fuzz_prepare.c: libFuzzer target for validation and request assembly.
** Each input is decoded into a Lua table of call parameters, which
** check_prepare.lua gives to ringg.validate and client:prepare: neither
** may raise, both must agree, a refusal must be a well-formed "invalid"
** error, and an accepted body must be JSON holding exactly the fields
** given.
**
** The input is a sequence of operations on the table being built (the
** parameters at first). An operation is one byte (taken modulo 16) and
** its operands; one cut short by the end of the input is dropped:
**
**   0 OPEN key         t[key] = {}, and build into it from now on
**   1 CLOSE            back to the table around (ignored at the top)
**   2 STRING key n s   t[key] = the next n bytes (n is one byte)
**   3 VALUE key i      t[key] = values[i], plausible field values
**   4 INTEGER key 8b   t[key] = a 64-bit integer, little-endian
**   5 SMALL key b      t[key] = b as a signed integer (-128..127)
**   6 FLOAT key 8b     t[key] = a double from its bytes (NaN, inf...)
**   7 BOOLEAN key b    t[key] = (b is odd)
**   8 NULL key         t[key] = cjson.null
**   9 ODD key b        t[key] = a function, a light userdata, a full
**                      userdata or a coroutine (by b % 4)
**  10 LONG key b c     t[key] = byte c repeated 64 * (b + 1) times
**  11 ANCESTOR key b   t[key] = the table b % (depth + 1) levels out
**  12 META             gives t a metatable whose every metamethod
**                      raises (the core must use raw access only)
**  13 WHOLE key b      t[key] = b as a float with an integral value
**  14 APPEND i         t[#t + 1] = values[i]
**  15 DELETE key       t[key] = nil
**
** A key is one byte k: k < 128 picks from 'names' (the schema's field
** names and some near misses); 128..191 is the integer k - 127; 192..223
** a string of the next n bytes; 224..239 "k" repeated 4 * (b + 1) times;
** 240..247 a float key; 248..251 a boolean; 252..255 a fresh table.
*/

#include <stdint.h>
#include <string.h>

#include "harness.h"


#define MAX_OPEN  64   /* tables open at once: past JSON_MAX_DEPTH */


typedef struct Reader {
  const uint8_t *data;
  size_t size, pos;
} Reader;


/* A string with its length: some hold NUL bytes. */
typedef struct Text {
  const char *s;
  size_t len;
} Text;

#define T(s)  {"" s, sizeof(s) - 1}
#define COUNT(a)  ((int)(sizeof(a) / sizeof((a)[0])))


static const Text names[] = {
  T("name"), T("mobile_number"), T("agent_id"), T("number_pool_id"),
  T("from_number_id"), T("from_number"), T("custom_args_values"),
  T("smart_formatter"), T("call_config"), T("voice_id"),
  T("call_category"), T("version_id"), T("parent_call_id"),
  T("callback_url"), T("callback_args"), T("extra_body"),
  T("extract_first_name"), T("transliteration"),
  T("transliteration_language"), T("source"), T("target"),
  T("idle_timeout_warning"), T("idle_timeout_end"),
  T("max_call_length"), T("call_retry_config"), T("retry_count"),
  T("retry_busy"), T("retry_not_picked"), T("retry_failed"),
  T("call_time"), T("call_start_time"), T("call_end_time"),
  T("timezone"), T("scheduled_at"), T("headers"), T("params"),
  T("company_name"), T("appointment_date"), T("callee_name"),
  T("order_id"), T("nmae"), T("agentid"), T("mobile"),
  T("Content-Type"), T("X-Token"), T("x"), T("_"), T("9lives"),
  T("a b"), T(""), T("\xc3\xa9t\xc3\xa9"), T("\xff\xfe"),
  T("name\0hidden"), T("extra_body\0x"), T("source\0"),
  T("with\nnewline"), T("custom"), T("callback")
};

static const Text values[] = {
  T("Asha Verma"), T("Mr Rajesh Kumar"), T("+919876543210"),
  T("+15550100200"), T("+12025550141"),
  T("830f767a-397e-4b39-82ff-235cd344e2f9"),
  T("2b7e1c1e-5a4f-4b7b-9a43-1f2d3c4b5a69"),
  T("5d7f9a2b-0c1d-4e2f-8a3b-4c5d6e7f8a91"),
  T("830f767a397e4b3982ff235cd344e2f9"), T("09:30"), T("18:00"),
  T("24:00"), T("Asia/Kolkata"), T("UTC"),
  T("America/Argentina/Buenos_Aires"), T("Etc/GMT+5"),
  T("2025-01-20T10:00"), T("2025-01-20T10:00:00Z"),
  T("2024-02-29T23:59:59.123456+05:30"), T("2023-02-29T10:00"),
  T("https://example.com/ringg/callback?x=1"),
  T("http://127.0.0.1:8080/cb"), T("https://user@host"),
  T("ftp://example.com"), T("en"), T("hi"), T("eng"), T("EN"),
  T("XYZ Corp"), T("2025-01-20"), T("value"), T(""), T(" "),
  T("\t\n"), T("+91 98765 43210"), T("0091 98765-43210"),
  T("9876543210"), T("+0123456789"), T("\xc3\xa9"), T("\xff"),
  T("\xe6\x97\xa5\xe6\x9c\xac"), T("\xed\xa0\x80"),
  T("\xf4\x90\x80\x80"), T("a\"b\\c\n\x01\x7f"), T("id-1"),
  T("id 1"), T("tok\0en")
};

/* Float keys: ordinary, integral, huge and negative */
static const double float_keys[] = {0.5, 1.0, 2.0, -1.0, 0.0, 1e300,
                                    9007199254740993.0, 3.5};


static int get_byte (Reader *r, int *b) {
  if (r->pos >= r->size)
    return 0;
  *b = r->data[r->pos++];
  return 1;
}


/* Points 's' at the next 'n' bytes; fails when fewer are left. */
static int get_bytes (Reader *r, size_t n, const char **s) {
  if (r->size - r->pos < n)
    return 0;
  *s = (const char *)r->data + r->pos;
  r->pos += n;
  return 1;
}


/* Pushes a string whose length is the next byte; 0 at the end. */
static int push_counted (lua_State *L, Reader *r) {
  int n;
  const char *s;
  if (!get_byte(r, &n) || !get_bytes(r, (size_t)n, &s))
    return 0;
  lua_pushlstring(L, s, (size_t)n);
  return 1;
}


/* Pushes 'len' copies of 'c'. */
static void push_run (lua_State *L, char c, size_t len) {
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, len);
  memset(p, c, len);
  luaL_pushresultsize(&b, len);
}


static void push_text (lua_State *L, const Text *t) {
  lua_pushlstring(L, t->s, t->len);
}


/* Pushes a key read from the input; returns 0 at its end. */
static int push_key (lua_State *L, Reader *r) {
  int k, b;
  if (!get_byte(r, &k))
    return 0;
  if (k < 128)
    push_text(L, &names[k % COUNT(names)]);
  else if (k < 192)
    lua_pushinteger(L, k - 127);
  else if (k < 224)
    return push_counted(L, r);
  else if (k < 240) {
    if (!get_byte(r, &b))
      return 0;
    push_run(L, 'k', 4 * ((size_t)b + 1));
  }
  else if (k < 248)
    lua_pushnumber(L, float_keys[k - 240]);
  else if (k < 252)
    lua_pushboolean(L, k & 1);
  else
    lua_newtable(L);
  return 1;
}


static int noop (lua_State *L) {
  (void)L;
  return 0;
}


static int refuse (lua_State *L) {
  return luaL_error(L, "a metamethod ran during validation");
}


/* Pushes the shared metatable whose metamethods all raise. */
static void push_hostile_meta (lua_State *L) {
  static const char *const events[] = {"__index", "__newindex", "__len",
                                       "__pairs", "__eq", "__call",
                                       "__concat", NULL};
  static const char key = 'm';
  int i;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &key);
  if (!lua_isnil(L, -1))
    return;
  lua_pop(L, 1);
  lua_newtable(L);
  for (i = 0; events[i]; i++) {
    lua_pushcfunction(L, refuse);
    lua_setfield(L, -2, events[i]);
  }
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &key);
}


static void push_odd (lua_State *L, int b) {
  static char anchor;  /* any address will do */
  switch (b % 4) {
    case 0: lua_pushcfunction(L, noop); break;
    case 1: lua_pushlightuserdata(L, &anchor); break;
    case 2: lua_newuserdatauv(L, 8, 0); break;
    default: lua_newthread(L); break;
  }
}


static double read_double (const char *s) {
  double x;
  memcpy(&x, s, sizeof(x));
  return x;
}


static lua_Integer read_integer (const char *s) {
  uint64_t u = 0;
  int i;
  for (i = 7; i >= 0; i--)
    u = (u << 8) | (uint8_t)s[i];
  return (lua_Integer)u;
}


/* Pushes the value of a key-value operation 'op'; returns 0 when the
** input ends first. 'depth' is the number of tables open around. */
static int push_operand (lua_State *L, Reader *r, int op, int top,
                         int depth) {
  int b, c;
  const char *s;
  switch (op) {
    case 2: return push_counted(L, r);
    case 3:
      if (!get_byte(r, &b)) return 0;
      push_text(L, &values[b % COUNT(values)]);
      return 1;
    case 4:
      if (!get_bytes(r, 8, &s)) return 0;
      lua_pushinteger(L, read_integer(s));
      return 1;
    case 5:
      if (!get_byte(r, &b)) return 0;
      lua_pushinteger(L, (signed char)b);
      return 1;
    case 6:
      if (!get_bytes(r, 8, &s)) return 0;
      lua_pushnumber(L, read_double(s));
      return 1;
    case 7:
      if (!get_byte(r, &b)) return 0;
      lua_pushboolean(L, b & 1);
      return 1;
    case 8: lua_pushlightuserdata(L, NULL); return 1;
    case 9:
      if (!get_byte(r, &b)) return 0;
      push_odd(L, b);
      return 1;
    case 10:
      if (!get_byte(r, &b) || !get_byte(r, &c)) return 0;
      push_run(L, (char)c, 64 * ((size_t)b + 1));
      return 1;
    case 11:
      if (!get_byte(r, &b)) return 0;
      lua_pushvalue(L, top - b % (depth + 1));
      return 1;
    case 13:
      if (!get_byte(r, &b)) return 0;
      lua_pushnumber(L, (lua_Number)(signed char)b);
      return 1;
    case 15: lua_pushnil(L); return 1;
    default: return 0;
  }
}


/* Builds the parameters table from the input; leaves it on the stack.
** The tables being built sit in slots root .. root + depth. */
static void decode (lua_State *L, Reader *r) {
  int root, depth = 0, op;
  luaL_checkstack(L, MAX_OPEN + 8, "decoder");
  lua_newtable(L);
  root = lua_gettop(L);
  while (get_byte(r, &op)) {
    int top = root + depth;
    op %= 16;
    if (op == 1) {
      if (depth > 0) {
        lua_pop(L, 1);
        depth--;
      }
    }
    else if (op == 12) {
      push_hostile_meta(L);
      lua_setmetatable(L, top);
    }
    else if (op == 14) {
      int i;
      if (!get_byte(r, &i))
        break;
      push_text(L, &values[i % COUNT(values)]);
      lua_rawseti(L, top, (lua_Integer)lua_rawlen(L, top) + 1);
    }
    else if (op == 0) {
      if (!push_key(L, r))
        break;
      if (depth == MAX_OPEN) {
        lua_pop(L, 1);
        continue;
      }
      lua_newtable(L);
      lua_pushvalue(L, -1);
      lua_insert(L, -3);  /* key, table above the new table */
      lua_rawset(L, top);
      depth++;
    }
    else {
      if (!push_key(L, r))
        break;
      if (!push_operand(L, r, op, top, depth)) {
        lua_pop(L, 1);
        break;
      }
      lua_rawset(L, top);
    }
  }
  lua_settop(L, root);
}


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  lua_State *L = harness_state("prepare");
  Reader r;
  r.data = data;
  r.size = size;
  r.pos = 0;
  decode(L, &r);
  harness_check(L, 1);
  return 0;
}
