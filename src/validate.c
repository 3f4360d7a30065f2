/*
** validate.c: checks call parameters against the schema of design.md
** and writes the JSON body in the same walk. Every problem is reported,
** each with its dotted path, in schema order; the body written so far
** is simply dropped when there was any.
**
** Tables are read with raw access only, so no metamethod of the
** caller's can run (or raise) in the middle of a walk.
*/

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"


#define PATH_SIZE       200   /* longer paths end in "..." */
#define MAX_ERRORS      100   /* problems listed; more are only counted */
#define MAX_NAME        256   /* bytes in 'name' */
#define MAX_ID          128   /* bytes in an id string */
#define MAX_VARIABLE    64    /* bytes in a custom_args_values key */
#define MAX_CATEGORY    64    /* bytes in call_category */
#define MAX_URL         2048  /* bytes in callback_url */
#define EXCERPT         40    /* bytes of a bad value quoted in messages */


typedef struct Walk {
  lua_State *L;
  Buf *out;
  int errors;     /* stack index of the list of {field, message} */
  int count;      /* problems found */
  int depth;      /* tables entered by free-form values */
  size_t pathlen;
  char path[PATH_SIZE + 4];
} Walk;


/* A check validates the value at 'idx' and writes it to w->out. */
typedef void (*Check) (Walk *w, int idx);

typedef struct Field {
  const char *name;
  Check check;
  int required;
} Field;


/*
** {======================================================
** Paths and problems
** =======================================================
*/

static void path_set (Walk *w, size_t len) {
  w->pathlen = len;
  w->path[len] = '\0';
}


/* Appends 'sep' and 'key' to the path; returns the length to restore. */
static size_t path_push (Walk *w, const char *sep, const char *key,
                         size_t len) {
  size_t old = w->pathlen;
  size_t room = PATH_SIZE - old;
  size_t seplen = old > 0 ? strlen(sep) : 0;
  if (old >= PATH_SIZE)
    return old;  /* already cut off */
  if (seplen + len > room) {
    memcpy(w->path + old, "...", 3);
    path_set(w, PATH_SIZE);
    return old;
  }
  memcpy(w->path + old, sep, seplen);
  memcpy(w->path + old + seplen, key, len);
  path_set(w, old + seplen + len);
  return old;
}


static size_t path_push_key (Walk *w, const char *key, size_t len) {
  return path_push(w, ".", key, len);
}


static size_t path_push_index (Walk *w, lua_Integer i) {
  char index[32];
  size_t old = w->pathlen;
  int len = snprintf(index, sizeof(index), "[%lld]", (long long)i);
  path_push(w, "", index, (size_t)len);
  return old;
}


/* Records a problem at the current path. */
static void add_error (Walk *w, const char *fmt, ...) {
  lua_State *L = w->L;
  va_list ap;
  w->count++;
  if (w->count > MAX_ERRORS)
    return;
  luaL_checkstack(L, 4, "too many nested tables");
  lua_createtable(L, 0, 2);
  lua_pushlstring(L, w->path, w->pathlen);
  lua_setfield(L, -2, "field");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_setfield(L, -2, "message");
  lua_rawseti(L, w->errors, w->count);
}


/* Pushes a short quoted excerpt of a string, with control characters
** and bytes that are not UTF-8 shown as \xNN. */
static void push_excerpt (lua_State *L, const char *s, size_t len) {
  luaL_Buffer b;
  size_t valid = utf8_prefix(s, len);
  size_t i, shown = len > EXCERPT ? EXCERPT : len;
  while (shown < len && shown > 0 && (s[shown] & 0xC0) == 0x80)
    shown--;  /* do not cut a character in two */
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '"');
  for (i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && i >= valid)) {
      char hex[8];
      snprintf(hex, sizeof(hex), "\\x%02X", c);
      luaL_addstring(&b, hex);
    }
    else {
      if (c == '"' || c == '\\')
        luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)c);
    }
  }
  luaL_addchar(&b, '"');
  if (shown < len)
    luaL_addstring(&b, "...");
  luaL_pushresult(&b);
}


/* Pushes a description of the value at 'idx' for "got ..." messages. */
static const char *push_description (lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t len;
      const char *s = lua_tolstring(L, idx, &len);
      push_excerpt(L, s, len);
      break;
    }
    case LUA_TNUMBER: {
      lua_Number x = lua_tonumber(L, idx);
      if (x != x)
        lua_pushliteral(L, "NaN");
      else if (x - x != 0)
        lua_pushstring(L, x > 0 ? "infinity" : "-infinity");
      else {
        lua_pushvalue(L, idx);
        lua_pushfstring(L, "the number %s", lua_tostring(L, -1));
        lua_remove(L, -2);
      }
      break;
    }
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, idx) ? "true" : "false");
      break;
    case LUA_TTABLE:
      lua_pushliteral(L, "a table");
      break;
    default:
      lua_pushfstring(L, "a %s", luaL_typename(L, idx));
      break;
  }
  return lua_tostring(L, -1);
}


/* "expected <what>, got <description of the value>" */
static void expected (Walk *w, int idx, const char *what) {
  const char *got = push_description(w->L, idx);
  add_error(w, "expected %s, got %s", what, got);
  lua_pop(w->L, 1);
}


/* Same, with a hint after a semicolon. */
static void expected_hint (Walk *w, int idx, const char *what,
                           const char *hint) {
  const char *got = push_description(w->L, idx);
  add_error(w, "expected %s, got %s; %s", what, got, hint);
  lua_pop(w->L, 1);
}

/* }====================================================== */


/*
** {======================================================
** Shapes of tables
** =======================================================
*/

/* Pushes t[name] without metamethods. */
static void raw_field (lua_State *L, int idx, const char *name) {
  lua_pushstring(L, name);
  lua_rawget(L, idx);
}


/* An integral number: Lua 5.4 integers, and floats with an integral
** value that fits (LuaJIT has only floats). */
static int get_integer (lua_State *L, int idx, long long *v) {
  lua_Number x;
  if (lua_type(L, idx) != LUA_TNUMBER)
    return 0;
#if RINGG_HAS_INTEGERS
  if (lua_isinteger(L, idx)) {
    *v = (long long)lua_tointeger(L, idx);
    return 1;
  }
#endif
  x = lua_tonumber(L, idx);
  if (x != x || x < -9007199254740992.0 || x > 9007199254740992.0
      || x != (lua_Number)(long long)x)
    return 0;
  *v = (long long)x;
  return 1;
}


/* Length of the sequence at 'idx' when its keys are exactly 1..n, 0 for
** an empty table, -1 for anything else. */
static lua_Integer list_length (lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    long long k;
    lua_pop(L, 1);  /* the value; keep the key */
    if (!get_integer(L, -1, &k) || k < 1 || k > (long long)n) {
      lua_pop(L, 1);
      return -1;
    }
    count++;
  }
  return count == n ? n : -1;
}


/* A table of named fields (or an empty one); reports anything else. */
static int is_record (Walk *w, int idx) {
  lua_State *L = w->L;
  if (lua_type(L, idx) != LUA_TTABLE) {
    expected(w, idx, "a table");
    return 0;
  }
  lua_rawgeti(L, idx, 1);
  if (!lua_isnil(L, -1)) {
    lua_pop(L, 1);
    add_error(w, "expected a table of named fields, got a list");
    return 0;
  }
  lua_pop(L, 1);
  return 1;
}

/* }====================================================== */


/*
** {======================================================
** Suggestions for misspelt keys
** =======================================================
*/

/* Levenshtein distance, or a large number for long words. */
static size_t edit_distance (const char *a, size_t la, const char *b,
                             size_t lb) {
  size_t row[MAX_VARIABLE + 1];
  size_t i, j;
  if (la > MAX_VARIABLE || lb > MAX_VARIABLE)
    return (size_t)-1;
  for (j = 0; j <= lb; j++)
    row[j] = j;
  for (i = 1; i <= la; i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (j = 1; j <= lb; j++) {
      size_t above = row[j];
      size_t best = diagonal + (a[i - 1] != b[j - 1]);
      if (above + 1 < best) best = above + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[lb];
}


/* The name closest to 'key' within distance 2; else the first name that
** 'key' (of 4 bytes or more) begins; else NULL. */
static const char *closest (const char *key, size_t len,
                            const char *const *names) {
  const char *best = NULL;
  size_t best_distance = 3;
  const char *const *name;
  for (name = names; *name; name++) {
    size_t d = edit_distance(key, len, *name, strlen(*name));
    if (d < best_distance) {
      best = *name;
      best_distance = d;
    }
  }
  for (name = names; !best && len >= 4 && *name; name++) {
    if (strncmp(*name, key, len) == 0)
      best = *name;
  }
  return best;
}


/* Prompt variables the docs use; seen as a top-level key, they were
** meant for custom_args_values. */
static const char *const prompt_variables[] = {
  "callee_name", "company_name", "appointment_date", "product_name",
  "order_id", "transfer_to", NULL
};


static void unknown_field (Walk *w, const char *key, size_t len,
                           const Field *fields, int top) {
  const char *names[40];
  const char *hint, *variable = NULL;
  int n = 0;
  for (; fields->name && n < 38; fields++)
    names[n++] = fields->name;
  if (top)
    names[n++] = "extra_body";
  names[n] = NULL;
  hint = closest(key, len, names);
  if (top && !hint)
    variable = closest(key, len, prompt_variables);
  if (hint)
    add_error(w, "unknown field '%s' (did you mean '%s'?)", key, hint);
  else if (variable && strcmp(variable, key) == 0)
    add_error(w, "unknown field '%s' (prompt variables go in "
              "custom_args_values)", key);
  else if (variable)
    add_error(w, "unknown field '%s' (did you mean '%s'? prompt "
              "variables go in custom_args_values)", key, variable);
  else
    add_error(w, "unknown field '%s'", key);
}


/* Reports a key that is not a name: a list entry, or a key of another
** type, in a table that holds named fields only. */
static void unexpected_key (Walk *w, int key) {
  long long i;
  if (get_integer(w->L, key, &i)) {
    size_t old = path_push_index(w, (lua_Integer)i);
    add_error(w, "expected named fields only, got a list entry");
    path_set(w, old);
  }
  else
    add_error(w, "expected named fields only, got a key of type %s",
              luaL_typename(w->L, key));
}


static int compare_strings (const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}


static int is_field (const char *key, const Field *fields, int top) {
  for (; fields->name; fields++) {
    if (strcmp(key, fields->name) == 0)
      return 1;
  }
  return top && strcmp(key, "extra_body") == 0;
}


/* Reports every key of the table at 'idx' that is not in 'fields',
** sorted so that the list is stable. */
static void check_unknown (Walk *w, int idx, const Field *fields,
                           int top) {
  lua_State *L = w->L;
  const char *unknown[MAX_ERRORS];
  int i, n = 0, extra = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      unexpected_key(w, lua_gettop(L));
    else if (!is_field(lua_tostring(L, -1), fields, top)) {
      if (n < MAX_ERRORS)
        unknown[n++] = lua_tostring(L, -1);  /* anchored by the table */
      else
        extra++;
    }
  }
  qsort(unknown, (size_t)n, sizeof(unknown[0]), compare_strings);
  for (i = 0; i < n; i++) {
    size_t old = path_push_key(w, unknown[i], strlen(unknown[i]));
    unknown_field(w, unknown[i], strlen(unknown[i]), fields, top);
    path_set(w, old);
  }
  w->count += extra;
}

/* }====================================================== */


/*
** {======================================================
** Walking records, lists and maps
** =======================================================
*/

/* Writes the separator before a member: '{' or '[' for the first. */
static void open_or_comma (Walk *w, int *first, char open) {
  buf_addc(w->out, *first ? open : ',');
  *first = 0;
}


static void write_key (Walk *w, const char *key, size_t len) {
  json_string(w->out, key, len);
  buf_addc(w->out, ':');
}


/* Checks and writes fields[0..n) of the record at 'idx', continuing an
** object whose state is '*first'. Returns a bit set of the fields found. */
static unsigned walk_fields (Walk *w, int idx, const Field *fields, int n,
                             int *first) {
  lua_State *L = w->L;
  unsigned found = 0;
  int i;
  for (i = 0; i < n; i++) {
    size_t len = strlen(fields[i].name);
    size_t old = path_push_key(w, fields[i].name, len);
    lua_pushlstring(L, fields[i].name, len);
    lua_rawget(L, idx);
    if (!lua_isnil(L, -1)) {
      found |= 1u << i;
      open_or_comma(w, first, '{');
      write_key(w, fields[i].name, len);
      fields[i].check(w, lua_gettop(L));
    }
    else if (fields[i].required)
      add_error(w, "required field is missing");
    lua_pop(L, 1);
    path_set(w, old);
  }
  return found;
}


static int count_fields (const Field *fields) {
  int n = 0;
  while (fields[n].name)
    n++;
  return n;
}


/* A record with only the given fields, all optional or required. */
static void walk_record (Walk *w, int idx, const Field *fields) {
  int first = 1;
  if (!is_record(w, idx))
    return;
  walk_fields(w, idx, fields, count_fields(fields), &first);
  check_unknown(w, idx, fields, 0);
  if (first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
}


/* Checks and writes a non-empty list, each element with 'check'; with
** 'unique', equal strings are reported. */
static void walk_list (Walk *w, int idx, Check check, int unique) {
  lua_State *L = w->L;
  lua_Integer i, n;
  int seen;
  n = list_length(L, idx);
  if (n <= 0) {
    add_error(w, "expected a non-empty list, got %s",
              n == 0 ? "an empty table" : "a table with other keys");
    return;
  }
  lua_newtable(L);  /* strings seen: value -> position */
  seen = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    size_t old = path_push_index(w, i);
    buf_addc(w->out, i == 1 ? '[' : ',');
    lua_rawgeti(L, idx, i);
    check(w, lua_gettop(L));
    if (unique && lua_type(L, -1) == LUA_TSTRING) {
      lua_pushvalue(L, -1);
      lua_rawget(L, seen);
      if (!lua_isnil(L, -1))
        add_error(w, "duplicate of entry [%d]", (int)lua_tointeger(L, -1));
      lua_pop(L, 1);
      lua_pushinteger(L, i);
      lua_rawset(L, seen);  /* seen[value] = i; pops both */
    }
    else
      lua_pop(L, 1);
    path_set(w, old);
  }
  buf_addc(w->out, ']');
  lua_pop(L, 1);  /* seen */
}


/* A value that is one item or a non-empty list of unique items. */
static void walk_one_or_list (Walk *w, int idx, Check check) {
  if (lua_type(w->L, idx) == LUA_TTABLE)
    walk_list(w, idx, check, 1);
  else
    check(w, idx);
}


/* Checks the name of a member of a map; returns 1 if it is acceptable. */
typedef int (*KeyCheck) (Walk *w, const char *key, size_t len);

typedef struct Key {
  const char *s;
  size_t len;
} Key;


static int compare_keys (const void *a, const void *b) {
  const Key *x = (const Key *)a, *y = (const Key *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = memcmp(x->s, y->s, n);
  return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}


/* Collects the string keys of the table at 'idx' into a userdata array
** pushed on the stack (so nothing leaks if an error unwinds), sorted.
** Reports keys that are not strings. Returns the number of keys. */
static size_t sorted_keys (Walk *w, int idx, Key **keys) {
  lua_State *L = w->L;
  size_t n = 0, size = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    size++;
  }
  *keys = (Key *)lua_newuserdatauv(L, (size ? size : 1) * sizeof(Key), 0);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) == LUA_TSTRING) {
      (*keys)[n].s = lua_tolstring(L, -1, &(*keys)[n].len);
      n++;
    }
    else
      unexpected_key(w, lua_gettop(L));
  }
  qsort(*keys, n, sizeof(Key), compare_keys);
  return n;
}


/* Checks and writes the members of the map at 'idx' in key order: each
** key with 'key_ok', each value with 'check'. Continues an object whose
** state is '*first'. Leaves the stack as it found it. */
static void walk_members (Walk *w, int idx, KeyCheck key_ok, Check check,
                          int *first) {
  lua_State *L = w->L;
  Key *keys;
  size_t i, n = sorted_keys(w, idx, &keys);
  for (i = 0; i < n; i++) {
    size_t old = path_push_key(w, keys[i].s, keys[i].len);
    if (key_ok(w, keys[i].s, keys[i].len)) {
      open_or_comma(w, first, '{');
      write_key(w, keys[i].s, keys[i].len);
      lua_pushlstring(L, keys[i].s, keys[i].len);
      lua_rawget(L, idx);
      check(w, lua_gettop(L));
      lua_pop(L, 1);
    }
    path_set(w, old);
  }
  lua_pop(L, 1);  /* the key array */
}


/* A whole JSON object of named values. */
static void walk_map (Walk *w, int idx, KeyCheck key_ok, Check check) {
  int first = 1;
  if (!is_record(w, idx))
    return;
  walk_members(w, idx, key_ok, check, &first);
  if (first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
}

/* }====================================================== */


/*
** {======================================================
** Scalars
** =======================================================
*/

/* The string at 'idx', or NULL after reporting a value of another type */
static const char *get_string (Walk *w, int idx, size_t *len) {
  if (lua_type(w->L, idx) != LUA_TSTRING) {
    expected(w, idx, "a string");
    return NULL;
  }
  return lua_tolstring(w->L, idx, len);
}


static int is_blank (const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (!strchr(" \t\r\n\v\f", s[i]))
      return 0;
  }
  return 1;
}


/* Position (1-based) of the first control character, or 0. */
static size_t control_at (const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == 0x7F)
      return i + 1;
  }
  return 0;
}


/* Writes "0xNN" for byte 'c' into 'hex' (5 bytes). */
static const char *hex_byte (char *hex, unsigned char c) {
  snprintf(hex, 5, "0x%02X", c);
  return hex;
}


/* Reports invalid UTF-8; returns 1 when the text is valid. */
static int check_utf8 (Walk *w, const char *s, size_t len) {
  char hex[5];
  size_t valid = utf8_prefix(s, len);
  if (valid == len)
    return 1;
  add_error(w, "expected UTF-8 text, got byte %s at position %d",
            hex_byte(hex, (unsigned char)s[valid]), (int)valid + 1);
  return 0;
}


/* Free text: not blank, bounded, valid UTF-8, no control characters. */
static const char *check_text (Walk *w, int idx, size_t max, size_t *len) {
  char hex[5];
  size_t at;
  const char *s = get_string(w, idx, len);
  if (s == NULL)
    return NULL;
  if (is_blank(s, *len)) {
    add_error(w, "expected text, got %s", *len ? "only spaces" : "\"\"");
    return NULL;
  }
  if (*len > max) {
    add_error(w, "expected at most %d bytes, got %d", (int)max, (int)*len);
    return NULL;
  }
  if (!check_utf8(w, s, *len))
    return NULL;
  if ((at = control_at(s, *len)) != 0) {
    add_error(w, "expected no control characters, got byte %s at "
              "position %d", hex_byte(hex, (unsigned char)s[at - 1]),
              (int)at);
    return NULL;
  }
  return s;
}


static void check_name (Walk *w, int idx) {
  size_t len;
  const char *s = check_text(w, idx, MAX_NAME, &len);
  if (s)
    json_string(w->out, s, len);
}


static void check_category (Walk *w, int idx) {
  size_t len;
  const char *s = check_text(w, idx, MAX_CATEGORY, &len);
  if (s)
    json_string(w->out, s, len);
}


static void check_boolean (Walk *w, int idx) {
  if (lua_type(w->L, idx) != LUA_TBOOLEAN)
    expected(w, idx, "true or false");
  else if (lua_toboolean(w->L, idx))
    buf_addlit(w->out, "true");
  else
    buf_addlit(w->out, "false");
}


static void check_integer_min (Walk *w, int idx, long long min,
                               const char *what) {
  long long v;
  if (!get_integer(w->L, idx, &v) || v < min)
    expected(w, idx, what);
  else
    json_integer(w->out, v);
}


static void check_positive (Walk *w, int idx) {
  check_integer_min(w, idx, 1, "a positive whole number of seconds");
}


static void check_minutes (Walk *w, int idx) {
  check_integer_min(w, idx, 0, "a whole number >= 0");
}


static int is_digits (const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
  }
  return 1;
}


/* "+", then 7 to 15 digits, the first not 0 */
static int is_e164 (const char *s, size_t len) {
  return len >= 8 && len <= 16 && s[0] == '+' && s[1] >= '1'
      && s[1] <= '9' && is_digits(s + 1, len - 1);
}


/* Pushes the number written without separators, and whether only spaces
** were removed (so the hint can say which). */
static const char *push_without_separators (lua_State *L, const char *s,
                                            size_t len, int *only_spaces) {
  luaL_Buffer b;
  size_t i;
  *only_spaces = 1;
  luaL_buffinit(L, &b);
  for (i = 0; i < len; i++) {
    if (strchr(" -().\t", s[i]) == NULL)
      luaL_addchar(&b, s[i]);
    else if (s[i] != ' ')
      *only_spaces = 0;
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}


static void e164_hint (Walk *w, int idx, const char *s, size_t len) {
  static const char what[] = "an E.164 number (+ and 7 to 15 digits)";
  lua_State *L = w->L;
  int only_spaces;
  size_t n;
  const char *bare = push_without_separators(L, s, len, &only_spaces);
  n = strlen(bare);
  if (n != len && is_e164(bare, n))
    expected_hint(w, idx, what, lua_pushfstring(L, "remove %s: %s",
                  only_spaces ? "spaces" : "separators", bare));
  else if (n > 2 && bare[0] == '0' && bare[1] == '0'
           && is_e164(lua_pushfstring(L, "+%s", bare + 2), n - 1))
    expected_hint(w, idx, what, lua_pushfstring(L, "write + instead of "
                  "00: %s", lua_tostring(L, -1)));
  else if (n >= 7 && is_digits(bare, n))
    expected_hint(w, idx, what, "start with + and the country code");
  else
    expected(w, idx, what);
}


static void check_e164 (Walk *w, int idx) {
  int top = lua_gettop(w->L);
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (is_e164(s, len))
    json_string(w->out, s, len);
  else
    e164_hint(w, idx, s, len);
  lua_settop(w->L, top);
}


static void check_e164_or_list (Walk *w, int idx) {
  walk_one_or_list(w, idx, check_e164);
}


static int is_hex (char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
      || (c >= 'A' && c <= 'F');
}


/* Number of hex digits 's' starts with. */
static size_t hex_run (const char *s, size_t len) {
  size_t i = 0;
  while (i < len && is_hex(s[i]))
    i++;
  return i;
}


/* 8-4-4-4-12 hex digits */
static int is_uuid (const char *s, size_t len) {
  size_t i;
  if (len != 36)
    return 0;
  for (i = 0; i < len; i++) {
    int dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !is_hex(s[i]))
      return 0;
  }
  return 1;
}


static void check_uuid (Walk *w, int idx) {
  static const char what[] = "a UUID (8-4-4-4-12 hex digits)";
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (is_uuid(s, len)) {
    json_string(w->out, s, len);
    return;
  }
  if (len == 32 && hex_run(s, len) == len) {
    char dashed[37];
    const char *at = s;
    size_t i, o = 0;
    static const size_t groups[] = {8, 4, 4, 4, 12};
    for (i = 0; i < 5; i++) {
      if (i > 0)
        dashed[o++] = '-';
      memcpy(dashed + o, at, groups[i]);
      o += groups[i];
      at += groups[i];
    }
    dashed[o] = '\0';
    expected_hint(w, idx, what, lua_pushfstring(w->L, "add dashes: %s",
                  dashed));
    lua_pop(w->L, 1);
    return;
  }
  expected(w, idx, what);
}


/* An opaque id: 1 to MAX_ID bytes of printable ASCII, no spaces. */
static void check_id (Walk *w, int idx) {
  size_t len, i;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  for (i = 0; i < len && s[i] > 0x20 && s[i] < 0x7F; i++)
    ;
  if (len == 0 || len > MAX_ID || i < len)
    expected(w, idx, "an id (1 to 128 printable characters, no spaces)");
  else
    json_string(w->out, s, len);
}


static void check_id_or_list (Walk *w, int idx) {
  walk_one_or_list(w, idx, check_id);
}


/* Two digits from 's' into *v if they are digits and *v <= max. */
static int two_digits (const char *s, int max, int *v) {
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
    return 0;
  *v = (s[0] - '0') * 10 + (s[1] - '0');
  return *v <= max;
}


static int is_hhmm (const char *s, size_t len) {
  int h, m;
  return len == 5 && s[2] == ':' && two_digits(s, 23, &h)
      && two_digits(s + 3, 59, &m);
}


static void check_hhmm (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (is_hhmm(s, len))
    json_string(w->out, s, len);
  else
    expected(w, idx, "a 24-hour time \"HH:MM\"");
}


/* An IANA zone name: "UTC", or segments of letters, digits, "_", "-"
** and "+" joined by "/", the first starting with a capital letter. */
static int is_timezone (const char *s, size_t len) {
  size_t i, segments = 1, seglen = 0;
  if (len == 3 && memcmp(s, "UTC", 3) == 0)
    return 1;
  if (len == 0 || len > 64 || s[0] < 'A' || s[0] > 'Z')
    return 0;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (c == '/') {
      if (seglen == 0)
        return 0;
      segments++;
      seglen = 0;
    }
    else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
             || (c >= '0' && c <= '9') || c == '_' || c == '-'
             || c == '+')
      seglen++;
    else
      return 0;
  }
  return segments >= 2 && seglen > 0;
}


static void check_timezone (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (is_timezone(s, len))
    json_string(w->out, s, len);
  else
    expected(w, idx, "an IANA time zone such as \"Asia/Kolkata\" or "
             "\"UTC\"");
}


static int days_in_month (int year, int month) {
  static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                             31};
  int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : days[month - 1];
}


/* "YYYY-MM-DD" that names a real day */
static int is_date (const char *s) {
  int century, year, month, day;
  if (!two_digits(s, 99, &century) || !two_digits(s + 2, 99, &year)
      || s[4] != '-' || s[7] != '-' || !two_digits(s + 5, 12, &month)
      || !two_digits(s + 8, 31, &day) || month < 1 || day < 1)
    return 0;
  return day <= days_in_month(century * 100 + year, month);
}


/* What may follow "HH:MM": ":SS", a fraction after it, then "Z" or an
** offset "+HH:MM" / "-HH:MM", each optional. */
static int is_time_rest (const char *s, size_t len) {
  size_t i = 0;
  int v;
  if (i < len && s[i] == ':') {
    if (len - i < 3 || !two_digits(s + i + 1, 59, &v))
      return 0;
    i += 3;
    if (i < len && s[i] == '.') {
      size_t start = ++i;
      while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
      if (i == start)
        return 0;
    }
  }
  if (i == len)
    return 1;
  if (s[i] == 'Z')
    return i + 1 == len;
  return (s[i] == '+' || s[i] == '-') && len - i == 6
      && is_hhmm(s + i + 1, 5);
}


static int is_datetime (const char *s, size_t len) {
  return len >= 16 && is_date(s) && s[10] == 'T' && is_hhmm(s + 11, 5)
      && is_time_rest(s + 16, len - 16);
}


static void check_datetime (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (is_datetime(s, len))
    json_string(w->out, s, len);
  else
    expected(w, idx, "a date and time \"YYYY-MM-DDTHH:MM[:SS]\" with an "
             "optional Z or +HH:MM");
}


static int starts_with_nocase (const char *s, size_t len, const char *p) {
  size_t i, n = strlen(p);
  if (len < n)
    return 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != p[i])
      return 0;
  }
  return 1;
}


/* An absolute http(s) URL with a host and no spaces or controls. */
static int is_url (const char *s, size_t len) {
  size_t i, start;
  if (starts_with_nocase(s, len, "https://"))
    start = 8;
  else if (starts_with_nocase(s, len, "http://"))
    start = 7;
  else
    return 0;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 0x20 || c == 0x7F)
      return 0;
  }
  for (i = start; i < len && !strchr("/?#", s[i]); i++) {
    if (s[i] == '@')
      start = i + 1;  /* skip user information */
  }
  return i > start && s[start] != ':';
}


static void check_url (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  if (len > MAX_URL)
    add_error(w, "expected at most %d bytes, got %d", MAX_URL, (int)len);
  else if (is_url(s, len))
    json_string(w->out, s, len);
  else
    expected(w, idx, "an absolute http:// or https:// URL with a host and "
             "no spaces");
}


/* 2 or 3 lower-case letters */
static void check_language (Walk *w, int idx) {
  size_t len, i;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  for (i = 0; i < len && s[i] >= 'a' && s[i] <= 'z'; i++)
    ;
  if ((len == 2 || len == 3) && i == len)
    json_string(w->out, s, len);
  else
    expected(w, idx, "a language code of 2 or 3 lower-case letters");
}


/* A string that is valid UTF-8, with any content. */
static void check_utf8_string (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s && check_utf8(w, s, len))
    json_string(w->out, s, len);
}


/* A finite number */
static void check_finite (Walk *w, int idx) {
  lua_Number x = lua_tonumber(w->L, idx);
  if (x != x || x - x != 0)
    expected(w, idx, "a finite number");
  else
    json_number(w->L, w->out, idx);
}


/* A flat value: string, finite number or boolean. */
static void check_flat (Walk *w, int idx) {
  switch (lua_type(w->L, idx)) {
    case LUA_TSTRING: check_utf8_string(w, idx); break;
    case LUA_TNUMBER: check_finite(w, idx); break;
    case LUA_TBOOLEAN: check_boolean(w, idx); break;
    case LUA_TTABLE:
      add_error(w, "expected a string, number or boolean, got a table "
                "(nested tables are not allowed)");
      break;
    default:
      expected(w, idx, "a string, number or boolean");
      break;
  }
}


static void check_header_value (Walk *w, int idx) {
  size_t len, i;
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  for (i = 0; i < len && s[i] != '\r' && s[i] != '\n' && s[i] != '\0'; i++)
    ;
  if (i < len)
    expected(w, idx, "a header value without CR, LF or NUL");
  else if (check_utf8(w, s, len))
    json_string(w->out, s, len);
}

/* }====================================================== */


/*
** {======================================================
** Keys of maps
** =======================================================
*/

/* [A-Za-z_][A-Za-z0-9_]*, at most MAX_VARIABLE bytes */
static int variable_ok (Walk *w, const char *key, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    char c = key[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'
          || (i > 0 && c >= '0' && c <= '9')))
      break;
  }
  if (len > 0 && len <= MAX_VARIABLE && i == len)
    return 1;
  add_error(w, "expected a variable name of letters, digits and _ (not "
            "starting with a digit, at most %d bytes)", MAX_VARIABLE);
  return 0;
}


/* An HTTP token (RFC 9110 tchar) */
static int token_ok (Walk *w, const char *key, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    char c = key[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c))))
      break;
  }
  if (len > 0 && i == len)
    return 1;
  add_error(w, "expected a header name (an HTTP token: letters, digits "
            "and !#$%%&'*+-.^_`|~)");
  return 0;
}


/* Any non-empty UTF-8 name */
static int name_ok (Walk *w, const char *key, size_t len) {
  if (len == 0) {
    add_error(w, "expected a non-empty name");
    return 0;
  }
  return check_utf8(w, key, len);
}

/* }====================================================== */


/*
** {======================================================
** Free-form JSON values (extra_body, request bodies)
** =======================================================
*/

/* Writes a free-form value; w->depth counts the tables around it. */
static void write_value (Walk *w, int idx);


static void write_list (Walk *w, int idx, lua_Integer n) {
  lua_Integer i;
  buf_addc(w->out, '[');
  for (i = 1; i <= n; i++) {
    size_t old = path_push_index(w, i);
    if (i > 1)
      buf_addc(w->out, ',');
    lua_rawgeti(w->L, idx, i);
    write_value(w, lua_gettop(w->L));
    lua_pop(w->L, 1);
    path_set(w, old);
  }
  buf_addc(w->out, ']');
}


static void write_table (Walk *w, int idx) {
  lua_Integer n;
  if (w->depth >= JSON_MAX_DEPTH) {
    add_error(w, "expected at most %d nested tables", JSON_MAX_DEPTH);
    return;
  }
  luaL_checkstack(w->L, 8, "too many nested tables");
  w->depth++;
  n = list_length(w->L, idx);
  if (n > 0)
    write_list(w, idx, n);
  else {
    int first = 1;
    walk_members(w, idx, name_ok, write_value, &first);
    if (first)
      buf_addc(w->out, '{');
    buf_addc(w->out, '}');
  }
  w->depth--;
}


static void write_value (Walk *w, int idx) {
  switch (lua_type(w->L, idx)) {
    case LUA_TSTRING: check_utf8_string(w, idx); break;
    case LUA_TNUMBER: check_finite(w, idx); break;
    case LUA_TBOOLEAN: check_boolean(w, idx); break;
    case LUA_TTABLE: write_table(w, idx); break;
    case LUA_TLIGHTUSERDATA:  /* cjson.null */
      if (lua_touserdata(w->L, idx) == NULL) {
        buf_addlit(w->out, "null");
        break;
      }
      /* FALLTHROUGH */
    default:
      expected(w, idx, "a string, number, boolean, table or cjson.null");
      break;
  }
}

/* }====================================================== */


/*
** {======================================================
** The call schema
** =======================================================
*/

static void check_transliteration (Walk *w, int idx) {
  static const Field fields[] = {
    {"source", check_language, 0},
    {"target", check_language, 0},
    {NULL, NULL, 0}
  };
  walk_record(w, idx, fields);
}


static void check_smart_formatter (Walk *w, int idx) {
  static const Field fields[] = {
    {"extract_first_name", check_boolean, 0},
    {"transliteration", check_boolean, 0},
    {"transliteration_language", check_transliteration, 0},
    {NULL, NULL, 0}
  };
  walk_record(w, idx, fields);
}


static void check_retry_config (Walk *w, int idx) {
  static const Field fields[] = {
    {"retry_count", check_minutes, 0},
    {"retry_busy", check_minutes, 0},
    {"retry_not_picked", check_minutes, 0},
    {"retry_failed", check_minutes, 0},
    {NULL, NULL, 0}
  };
  walk_record(w, idx, fields);
}


static void check_call_time (Walk *w, int idx) {
  static const Field fields[] = {
    {"call_start_time", check_hhmm, 0},
    {"call_end_time", check_hhmm, 0},
    {"timezone", check_timezone, 0},
    {"scheduled_at", check_datetime, 0},
    {NULL, NULL, 0}
  };
  walk_record(w, idx, fields);
}


static const Field call_config_fields[] = {
  {"idle_timeout_warning", check_positive, 0},
  {"idle_timeout_end", check_positive, 0},
  {"max_call_length", check_positive, 0},
  {"call_retry_config", check_retry_config, 0},
  {"call_time", check_call_time, 0},
  {NULL, NULL, 0}
};


/* idle_timeout_end must come after idle_timeout_warning */
static void check_idle_order (Walk *w, int idx) {
  lua_State *L = w->L;
  long long warning, end;
  raw_field(L, idx, "idle_timeout_warning");
  raw_field(L, idx, "idle_timeout_end");
  if (get_integer(L, -2, &warning) && get_integer(L, -1, &end)
      && end <= warning) {
    size_t old = path_push_key(w, "idle_timeout_end", 16);
    add_error(w, "expected more than idle_timeout_warning (%d), got %d",
              (int)warning, (int)end);
    path_set(w, old);
  }
  lua_pop(L, 2);
}


static void check_call_config (Walk *w, int idx) {
  int first = 1;
  if (!is_record(w, idx))
    return;
  walk_fields(w, idx, call_config_fields, 2, &first);
  check_idle_order(w, idx);
  walk_fields(w, idx, call_config_fields + 2, 3, &first);
  check_unknown(w, idx, call_config_fields, 0);
  if (first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
}


static void check_custom_args (Walk *w, int idx) {
  walk_map(w, idx, variable_ok, check_flat);
}


static void check_callback_headers (Walk *w, int idx) {
  walk_map(w, idx, token_ok, check_header_value);
}


static void check_callback_params (Walk *w, int idx) {
  walk_map(w, idx, name_ok, check_flat);
}


static void check_callback_args (Walk *w, int idx) {
  static const Field fields[] = {
    {"headers", check_callback_headers, 0},
    {"params", check_callback_params, 0},
    {NULL, NULL, 0}
  };
  walk_record(w, idx, fields);
}


/* The body fields, in the order they are checked, reported and sent. */
static const Field call_fields[] = {
  {"name", check_name, 1},
  {"mobile_number", check_e164, 1},
  {"agent_id", check_uuid, 1},
  {"number_pool_id", check_id, 0},
  {"from_number_id", check_id_or_list, 0},
  {"from_number", check_e164_or_list, 0},
  {"custom_args_values", check_custom_args, 0},
  {"smart_formatter", check_smart_formatter, 0},
  {"call_config", check_call_config, 0},
  {"voice_id", check_id, 0},
  {"call_category", check_category, 0},
  {"version_id", check_uuid, 0},
  {"parent_call_id", check_uuid, 0},
  {"callback_url", check_url, 0},
  {"callback_args", check_callback_args, 0},
  {NULL, NULL, 0}
};

#define CALLER_FIELDS  3   /* the three caller sources follow agent_id */
#define FIRST_CALLER   3


/* Exactly one of number_pool_id, from_number_id and from_number. */
static void check_caller (Walk *w, unsigned found) {
  unsigned sources = (found >> FIRST_CALLER) & 7u;
  int i, second = -1, seen = 0;
  for (i = 0; i < CALLER_FIELDS; i++) {
    if (sources & (1u << i)) {
      if (seen++ == 1)
        second = FIRST_CALLER + i;
    }
  }
  if (seen == 1)
    return;
  if (seen == 0) {
    size_t old = path_push_key(w, "number_pool_id", 14);
    add_error(w, "required: give one of number_pool_id, from_number_id "
              "or from_number");
    path_set(w, old);
  }
  else {
    const char *name = call_fields[second].name;
    size_t old = path_push_key(w, name, strlen(name));
    add_error(w, "give only one of number_pool_id, from_number_id and "
              "from_number, got %d", seen);
    path_set(w, old);
  }
}


static int is_call_field (const char *key) {
  return is_field(key, call_fields, 0);
}


/* extra_body members may add fields, never replace a checked one */
static int extra_key_ok (Walk *w, const char *key, size_t len) {
  if (len > 0 && is_call_field(key)) {
    add_error(w, "extra_body may not override '%s': set it directly",
              key);
    return 0;
  }
  return name_ok(w, key, len);
}


static void walk_extra_body (Walk *w, int idx, int *first) {
  lua_State *L = w->L;
  size_t old = path_push_key(w, "extra_body", 10);
  raw_field(L, idx, "extra_body");
  if (!lua_isnil(L, -1) && is_record(w, lua_gettop(L))) {
    w->depth = 1;
    walk_members(w, lua_gettop(L), extra_key_ok, write_value, first);
  }
  lua_pop(L, 1);
  path_set(w, old);
}


static void walk_call (Walk *w, int idx) {
  int first = 1;
  int fields = count_fields(call_fields);
  int upto = FIRST_CALLER + CALLER_FIELDS;
  unsigned found = walk_fields(w, idx, call_fields, upto, &first);
  check_caller(w, found);
  walk_fields(w, idx, call_fields + upto, fields - upto, &first);
  walk_extra_body(w, idx, &first);
  check_unknown(w, idx, call_fields, 1);
  if (first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
}

/* }====================================================== */


/*
** {======================================================
** Entry points
** =======================================================
*/

/* Turns the list of problems at w->errors into an error of kind
** "invalid" in its place: "invalid call: <first problem> (and N more)". */
static void push_invalid (Walk *w, const char *what) {
  lua_State *L = w->L;
  lua_rawgeti(L, w->errors, 1);
  lua_getfield(L, -1, "field");
  lua_getfield(L, -2, "message");
  error_new(L, KIND_INVALID);
  if (w->count > 1)
    lua_pushfstring(L, "invalid %s: %s: %s (and %d more problem%s)", what,
                    lua_tostring(L, -3), lua_tostring(L, -2),
                    w->count - 1, w->count > 2 ? "s" : "");
  else
    lua_pushfstring(L, "invalid %s: %s: %s", what, lua_tostring(L, -3),
                    lua_tostring(L, -2));
  lua_setfield(L, -2, "message");
  lua_pushvalue(L, w->errors);
  lua_setfield(L, -2, "errors");
  error_setbool(L, "sent", 0);
  error_setbool(L, "retryable", 0);
  lua_replace(L, w->errors);
  lua_settop(L, w->errors);
}


static void walk_start (Walk *w, lua_State *L, Buf *out) {
  w->L = L;
  w->out = out;
  w->count = 0;
  w->depth = 0;
  path_set(w, 0);
  buf_reset(out);
  lua_newtable(L);
  w->errors = lua_gettop(L);
}


/* Common end of both entry points: 1 when the body is ready. */
static int walk_finish (Walk *w, const char *what) {
  if (w->count == 0 && w->out->failed)
    add_error(w, "expected a body of at most %d bytes",
              (int)w->out->limit);
  if (w->count > 0) {
    push_invalid(w, what);
    return 0;
  }
  lua_settop(w->L, w->errors - 1);
  return 1;
}


int call_assemble (lua_State *L, int idx, Buf *out) {
  Walk w;
  idx = lua_absindex(L, idx);
  walk_start(&w, L, out);
  walk_call(&w, idx);
  return walk_finish(&w, "call");
}


int value_assemble (lua_State *L, int idx, Buf *out, const char *what) {
  Walk w;
  idx = lua_absindex(L, idx);
  walk_start(&w, L, out);
  path_push_key(&w, what, strlen(what));
  write_value(&w, idx);
  return walk_finish(&w, what);
}

/* }====================================================== */
