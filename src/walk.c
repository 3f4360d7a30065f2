/*
** walk.c: the generic half of validation: paths, problems, and walking
** records, lists, maps and free-form values while writing their JSON.
**
** Each table is read in one lua_next pass. The values of a record's
** fields, and of a small map's members, are parked in stack slots, so
** they are written in schema (or sorted) order without looking any key
** up again; keys are compared by length and bytes, never interned.
*/

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "walk.h"


#define PATH_SIZE     200  /* longer paths end in "..." */
#define EXCERPT       40   /* bytes of a bad value quoted in messages */
#define SMALL_MAP     64   /* members a map may park on the stack */
#define MAX_DISTANCE  64   /* longest word edit_distance compares */


/*
** {======================================================
** Paths and problems
** =======================================================
*/

/* Adds a segment (past MAX_SEGMENTS only counted); returns the path's
** length before it, for path_set. */
static int path_push (Walk *w, const char *key, size_t len, lua_Integer i) {
  int old = w->nsegments++;
  if (old < MAX_SEGMENTS) {
    w->segments[old].key = key;
    w->segments[old].len = len;
    w->segments[old].index = i;
  }
  return old;
}


int path_push_key (Walk *w, const char *key, size_t len) {
  return path_push(w, key, len, 0);
}


int path_push_index (Walk *w, lua_Integer i) {
  return path_push(w, NULL, 0, i);
}


void path_set (Walk *w, int old) {
  w->nsegments = old;
}


/* Adds a key of a path with control bytes shown as \xNN: a path goes
** into messages and logs, where a raw CR or LF would forge a line and a
** NUL would cut it short. */
static void add_key (luaL_Buffer *b, const char *key, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)key[i];
    if (c < 0x20 || c == 0x7F) {
      char hex[5];
      snprintf(hex, sizeof(hex), "\\x%02X", c);
      luaL_addstring(b, hex);
    }
    else
      luaL_addchar(b, (char)c);
  }
}


/* Pushes the current path as text: "a.b[2].c". */
static void push_path (Walk *w) {
  luaL_Buffer b;
  size_t used = 0;
  int i, n = w->nsegments < MAX_SEGMENTS ? w->nsegments : MAX_SEGMENTS;
  luaL_buffinit(w->L, &b);
  for (i = 0; i < n && used < PATH_SIZE; i++) {
    const Segment *s = &w->segments[i];
    char index[32];
    if (s->key == NULL) {
      used += (size_t)snprintf(index, sizeof(index), "[%lld]",
                               (long long)s->index);
      luaL_addstring(&b, index);
      continue;
    }
    if (i > 0)
      luaL_addchar(&b, '.');
    add_key(&b, s->key, s->len < PATH_SIZE ? s->len : PATH_SIZE);
    used += s->len + 1;
  }
  if (i < w->nsegments)
    luaL_addstring(&b, "...");
  luaL_pushresult(&b);
}


/* Records a problem at the current path. */
void add_error (Walk *w, const char *fmt, ...) {
  lua_State *L = w->L;
  va_list ap;
  w->count++;
  if (w->count > MAX_ERRORS)
    return;
  luaL_checkstack(L, 4, "too many nested tables");
  if (w->count == 1) {  /* the first problem: make the list */
    lua_newtable(L);
    lua_replace(L, w->errors);
  }
  lua_createtable(L, 0, 2);
  push_path(w);
  lua_setfield(L, -2, "field");
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_setfield(L, -2, "message");
  lua_rawseti(L, w->errors, w->count);
}


/* Writes "0xNN" for byte 'c' into 'hex' (5 bytes). */
const char *hex_byte (char *hex, unsigned char c) {
  snprintf(hex, 5, "0x%02X", c);
  return hex;
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


static void push_number_description (lua_State *L, int idx) {
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
    case LUA_TNUMBER:
      push_number_description(L, idx);
      break;
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
void expected (Walk *w, int idx, const char *what) {
  const char *got = push_description(w->L, idx);
  add_error(w, "expected %s, got %s", what, got);
  lua_pop(w->L, 1);
}


/* Same, with a hint after a semicolon. */
void expected_hint (Walk *w, int idx, const char *what, const char *hint) {
  const char *got = push_description(w->L, idx);
  add_error(w, "expected %s, got %s; %s", what, got, hint);
  lua_pop(w->L, 1);
}

/* }====================================================== */


/*
** {======================================================
** Values every schema uses
** =======================================================
*/

/* An integral number: Lua 5.4 integers, and floats with an integral
** value that fits (LuaJIT has only floats). */
int get_integer (lua_State *L, int idx, long long *v) {
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


/* The string at 'idx', or NULL after reporting a value of another type */
const char *get_string (Walk *w, int idx, size_t *len) {
  if (lua_type(w->L, idx) != LUA_TSTRING) {
    expected(w, idx, "a string");
    return NULL;
  }
  return lua_tolstring(w->L, idx, len);
}


/* Reports invalid UTF-8; returns 1 when the text is valid. */
int check_utf8 (Walk *w, const char *s, size_t len) {
  char hex[5];
  size_t valid = utf8_prefix(s, len);
  if (valid == len)
    return 1;
  add_error(w, "expected UTF-8 text, got byte %s at position %d",
            hex_byte(hex, (unsigned char)s[valid]), (int)valid + 1);
  return 0;
}


void check_boolean (Walk *w, int idx) {
  if (lua_type(w->L, idx) != LUA_TBOOLEAN)
    expected(w, idx, "true or false");
  else if (lua_toboolean(w->L, idx))
    buf_addlit(w->out, "true");
  else
    buf_addlit(w->out, "false");
}


void check_finite (Walk *w, int idx) {
  lua_Number x = lua_tonumber(w->L, idx);
  if (lua_type(w->L, idx) != LUA_TNUMBER || x != x || x - x != 0)
    expected(w, idx, "a finite number");
  else
    json_number(w->L, w->out, idx);
}


/* A string that is valid UTF-8, with any content. */
void check_utf8_string (Walk *w, int idx) {
  size_t len;
  const char *s = get_string(w, idx, &len);
  if (s && check_utf8(w, s, len))
    json_string(w->out, s, len);
}

/* }====================================================== */


/*
** {======================================================
** Unknown keys, with suggestions for misspelt ones
** =======================================================
*/

/* Levenshtein distance, or a large number for long words. */
static size_t edit_distance (const char *a, size_t la, const char *b,
                             size_t lb) {
  size_t row[MAX_DISTANCE + 1];
  size_t i, j;
  if (la > MAX_DISTANCE || lb > MAX_DISTANCE)
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


/* Reports an unknown field, suggesting a close field name, or, from
** 'hints' (names that belong elsewhere), where it should go. */
static void unknown_field (Walk *w, const char *key, size_t len,
                           const Field *fields, const char *const *hints) {
  const char *names[40];
  const char *hint, *elsewhere = NULL;
  int n = 0;
  for (; fields->name && n < 39; fields++)
    names[n++] = fields->name;
  names[n] = NULL;
  hint = closest(key, len, names);
  if (hints && !hint)
    elsewhere = closest(key, len, hints + 1);
  if (hint)
    add_error(w, "unknown field '%s' (did you mean '%s'?)", key, hint);
  else if (elsewhere && strcmp(elsewhere, key) == 0)
    add_error(w, "unknown field '%s' (%s)", key, hints[0]);
  else if (elsewhere)
    add_error(w, "unknown field '%s' (did you mean '%s'? %s)", key,
              elsewhere, hints[0]);
  else
    add_error(w, "unknown field '%s'", key);
}


/* Reports a key that is not a name: a list entry, or a key of another
** type, in a table that holds named fields only. */
static void unexpected_key (Walk *w, int key) {
  long long i;
  if (get_integer(w->L, key, &i)) {
    int old = path_push_index(w, (lua_Integer)i);
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


/* Reports every key of the record at 'idx' that is not in 'fields',
** sorted so that the list is stable. The error path only: it walks the
** table again. */
static void check_unknown (Walk *w, int idx, const Field *fields,
                           const char *const *hints) {
  lua_State *L = w->L;
  const char *unknown[MAX_ERRORS];
  int i, n = 0, extra = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t len;
    const char *key;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) {
      unexpected_key(w, lua_gettop(L));
      continue;
    }
    key = lua_tolstring(L, -1, &len);
    if (is_field(fields, key, len))
      continue;
    if (n < MAX_ERRORS)
      unknown[n++] = key;  /* anchored by the table */
    else
      extra++;
  }
  qsort(unknown, (size_t)n, sizeof(unknown[0]), compare_strings);
  for (i = 0; i < n; i++) {
    size_t len = strlen(unknown[i]);
    int old = path_push_key(w, unknown[i], len);
    unknown_field(w, unknown[i], len, fields, hints);
    path_set(w, old);
  }
  w->count += extra;
}

/* }====================================================== */


/*
** {======================================================
** Records
** =======================================================
*/

int field_count (const Field *fields) {
  int n = 0;
  while (fields[n].name)
    n++;
  return n;
}


/* Position of the field named 'key' in 'fields', or -1. */
static int field_index (const Field *fields, const char *key, size_t len) {
  int i;
  for (i = 0; fields[i].name; i++) {
    if (fields[i].len == len && memcmp(fields[i].name, key, len) == 0)
      return i;
  }
  return -1;
}


int is_field (const Field *fields, const char *key, size_t len) {
  return field_index(fields, key, len) >= 0;
}


/* A table of named fields (or an empty one); reports anything else. */
static int is_record (Walk *w, int idx) {
  lua_State *L = w->L;
  int list;
  if (lua_type(L, idx) != LUA_TTABLE) {
    expected(w, idx, "a table");
    return 0;
  }
  lua_rawgeti(L, idx, 1);
  list = !lua_isnil(L, -1);
  lua_pop(L, 1);
  if (list)
    add_error(w, "expected a table of named fields, got a list");
  return !list;
}


/* Starts walking the record at 'idx': reads it in one pass, parking
** each field's value in its slot. Returns 0, with nothing pushed, when
** it is not a table (that is reported). */
int record_open (Walk *w, int idx, const Field *fields, Record *r) {
  lua_State *L = w->L;
  int n = field_count(fields);
  if (lua_type(L, idx) != LUA_TTABLE) {
    expected(w, idx, "a table");
    return 0;
  }
  luaL_checkstack(L, n + 4, "too many nested tables");
  r->base = lua_gettop(L) + 1;
  r->found = 0;
  r->named = r->unknown = r->odd = 0;
  r->first = 1;
  lua_settop(L, r->base + n - 1);  /* the slots, all nil */
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    size_t len;
    const char *key;
    int i;
    if (lua_type(L, -2) != LUA_TSTRING) {
      r->odd++;
      lua_pop(L, 1);
      continue;
    }
    r->named++;
    key = lua_tolstring(L, -2, &len);
    i = field_index(fields, key, len);
    if (i < 0) {
      r->unknown++;
      lua_pop(L, 1);
      continue;
    }
    r->found |= 1u << i;
    lua_replace(L, r->base + i);  /* value to its slot; key stays */
  }
  return 1;
}


/* Checks and writes fields[from..to) in order, and reports missing
** required ones. Fields without a check are left to the caller. */
void record_write (Walk *w, const Field *fields, Record *r, int from,
                   int to) {
  int i;
  for (i = from; i < to; i++) {
    const Field *f = &fields[i];
    int old;
    if (f->check == NULL)
      continue;
    old = path_push_key(w, f->name, f->len);
    if (r->found & (1u << i)) {
      buf_addc(w->out, r->first ? '{' : ',');
      r->first = 0;
      buf_addc(w->out, '"');
      buf_add(w->out, f->name, f->len);
      buf_addlit(w->out, "\":");
      f->check(w, r->base + i);
    }
    else if (f->required)
      add_error(w, "required field is missing");
    path_set(w, old);
  }
}


/* Ends the record: reports unknown keys (suggesting names from 'hints'
** too, when given: its first entry says where they belong), closes the
** object and drops the slots. */
void record_close (Walk *w, int idx, const Field *fields, Record *r,
                   const char *const *hints) {
  if (r->odd > 0 && r->named == 0)
    add_error(w, "expected a table of named fields, got a list");
  else if (r->unknown > 0 || r->odd > 0)
    check_unknown(w, idx, fields, hints);
  if (r->first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
  lua_settop(w->L, r->base - 1);
}


void walk_record (Walk *w, int idx, const Field *fields) {
  Record r;
  if (!record_open(w, idx, fields, &r))
    return;
  record_write(w, fields, &r, 0, field_count(fields));
  record_close(w, idx, fields, &r, NULL);
}

/* }====================================================== */


/*
** {======================================================
** Lists
** =======================================================
*/

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


/* Reports entry 'i' if its string was already seen (set at 'seen'). */
static void check_duplicate (Walk *w, int seen, lua_Integer i) {
  lua_State *L = w->L;
  lua_pushvalue(L, -1);
  lua_rawget(L, seen);
  if (!lua_isnil(L, -1))
    add_error(w, "duplicate of entry [%d]", (int)lua_tointeger(L, -1));
  lua_pop(L, 1);
  lua_pushvalue(L, -1);
  lua_pushinteger(L, i);
  lua_rawset(L, seen);  /* seen[value] = i */
}


/* Checks and writes a non-empty list, each element with 'check'; with
** 'unique', equal strings are reported. */
void walk_list (Walk *w, int idx, Check check, int unique) {
  lua_State *L = w->L;
  lua_Integer i, n = list_length(L, idx);
  int seen;
  if (n <= 0) {
    add_error(w, "expected a non-empty list, got %s",
              n == 0 ? "an empty table" : "a table with other keys");
    return;
  }
  lua_newtable(L);  /* strings seen: value -> position */
  seen = lua_gettop(L);
  for (i = 1; i <= n; i++) {
    int old = path_push_index(w, i);
    buf_addc(w->out, i == 1 ? '[' : ',');
    lua_rawgeti(L, idx, i);
    check(w, lua_gettop(L));
    if (unique && lua_type(L, -1) == LUA_TSTRING)
      check_duplicate(w, seen, i);
    lua_pop(L, 1);
    path_set(w, old);
  }
  buf_addc(w->out, ']');
  lua_pop(L, 1);  /* seen */
}


/* A value that is one item or a non-empty list of unique items. */
void walk_one_or_list (Walk *w, int idx, Check check) {
  if (lua_type(w->L, idx) == LUA_TTABLE)
    walk_list(w, idx, check, 1);
  else
    check(w, idx);
}

/* }====================================================== */


/*
** {======================================================
** Maps: members written sorted by name
** =======================================================
*/

typedef struct Member {
  const char *key;  /* anchored by the map */
  size_t len;
  int slot;         /* stack index of the value; 0: look it up */
} Member;


/* Orders members by name, as memcmp orders bytes. */
static int compare_names (const Member *a, const Member *b) {
  size_t n = a->len < b->len ? a->len : b->len;
  int c = memcmp(a->key, b->key, n);
  return c != 0 ? c : (a->len > b->len) - (a->len < b->len);
}


static int member_before (const Member *a, const Member *b) {
  return compare_names(a, b) < 0;
}


static int compare_members (const void *a, const void *b) {
  return compare_names((const Member *)a, (const Member *)b);
}


static void sort_members (Member *m, size_t n) {
  size_t i, j;
  if (n > 16) {
    qsort(m, n, sizeof(Member), compare_members);
    return;
  }
  for (i = 1; i < n; i++) {  /* insertion sort: maps are small */
    Member x = m[i];
    for (j = i; j > 0 && member_before(&x, &m[j - 1]); j--)
      m[j] = m[j - 1];
    m[j] = x;
  }
}


/* Parks the values of a map of at most SMALL_MAP string keys on the
** stack. Returns their number, or -1 (nothing pushed) for a larger map.
** Keys that are not strings are counted in *odd. */
static int park_members (lua_State *L, int idx, Member *m, int *odd) {
  int top = lua_gettop(L), n = 0;
  luaL_checkstack(L, SMALL_MAP + 4, "too many nested tables");
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      (*odd)++;
      lua_pop(L, 1);
      continue;
    }
    if (n == SMALL_MAP) {
      lua_settop(L, top);
      return -1;
    }
    m[n].key = lua_tolstring(L, -2, &m[n].len);
    lua_insert(L, -2);  /* the value stays below the key */
    m[n].slot = lua_gettop(L) - 1;
    n++;
  }
  return n;
}


/* Collects the string keys of a large map into a userdata pushed on the
** stack (so nothing leaks if an error unwinds), and parks their values
** above it when the stack can grow that far. Returns their number. */
static size_t list_members (lua_State *L, int idx, Member **m, int *odd) {
  size_t n = 0, size = 0;
  int park;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    size++;
  }
  *m = (Member *)lua_newuserdatauv(L, size * sizeof(Member), 0);
  park = size < 100000 && lua_checkstack(L, (int)size + 4);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      (*odd)++;
      lua_pop(L, 1);
      continue;
    }
    (*m)[n].key = lua_tolstring(L, -2, &(*m)[n].len);
    (*m)[n].slot = 0;
    if (park) {
      lua_insert(L, -2);  /* the value stays below the key */
      (*m)[n].slot = lua_gettop(L) - 1;
    }
    else
      lua_pop(L, 1);
    n++;
  }
  return n;
}


/* Reports the keys of the map at 'idx' that are not strings. */
static void report_odd_keys (Walk *w, int idx) {
  lua_State *L = w->L;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      unexpected_key(w, lua_gettop(L));
  }
}


/* Checks and writes one member: its name with 'key_ok', its value with
** 'check'. */
static void write_member (Walk *w, int idx, const Member *m, KeyCheck key_ok,
                          Check check, int *first) {
  int old = path_push_key(w, m->key, m->len);
  if (key_ok(w, m->key, m->len)) {
    buf_addc(w->out, *first ? '{' : ',');
    *first = 0;
    json_string(w->out, m->key, m->len);
    buf_addc(w->out, ':');
    if (m->slot)
      check(w, m->slot);
    else {
      lua_pushlstring(w->L, m->key, m->len);
      lua_rawget(w->L, idx);
      check(w, lua_gettop(w->L));
      lua_pop(w->L, 1);
    }
  }
  path_set(w, old);
}


/* Checks and writes the members of the map at 'idx' sorted by name,
** continuing an object whose state is '*first'. */
void walk_members (Walk *w, int idx, KeyCheck key_ok, Check check,
                   int *first) {
  lua_State *L = w->L;
  Member small[SMALL_MAP];
  Member *m = small;
  int top = lua_gettop(L), odd = 0;
  int parked = park_members(L, idx, small, &odd);
  size_t i, n = parked >= 0 ? (size_t)parked
                            : list_members(L, idx, &m, &odd);
  if (odd > 0)
    report_odd_keys(w, idx);
  sort_members(m, n);
  for (i = 0; i < n; i++)
    write_member(w, idx, &m[i], key_ok, check, first);
  lua_settop(L, top);
}


/* A whole JSON object of named values. */
void walk_map (Walk *w, int idx, KeyCheck key_ok, Check check) {
  int first = 1;
  if (!is_record(w, idx))
    return;
  walk_members(w, idx, key_ok, check, &first);
  if (first)
    buf_addc(w->out, '{');
  buf_addc(w->out, '}');
}


/* Any non-empty UTF-8 name */
int name_ok (Walk *w, const char *key, size_t len) {
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

static void write_list (Walk *w, int idx, lua_Integer n) {
  lua_Integer i;
  buf_addc(w->out, '[');
  for (i = 1; i <= n; i++) {
    int old = path_push_index(w, i);
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


/* Free-form values may share tables, so that a small table stands for
** an enormous body (a table holding itself twice, to begin with): the
** walk stops at the size cap of the body, or after MAX_VALUES values.
** Returns 1 while it may go on. */
static int within_bounds (Walk *w) {
  if (w->stopped)
    return 0;
  if (w->out->failed)
    add_error(w, "expected a body of at most %d bytes", (int)w->out->limit);
  else if (++w->values > MAX_VALUES)
    add_error(w, "expected at most %d values", MAX_VALUES);
  else
    return 1;
  w->stopped = 1;
  return 0;
}


/* Writes a free-form value; w->depth counts the tables around it. */
void write_value (Walk *w, int idx) {
  if (!within_bounds(w))
    return;
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
** Starting and ending a walk
** =======================================================
*/

void walk_start (Walk *w, lua_State *L, Buf *out) {
  w->L = L;
  w->out = out;
  w->count = 0;
  w->depth = 0;
  w->values = 0;
  w->stopped = 0;
  w->nsegments = 0;
  buf_reset(out);
  lua_pushnil(L);  /* the list of problems, made at the first one */
  w->errors = lua_gettop(L);
}


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


/* Ends a walk: returns 1 with the stack as before walk_start when the
** body in w->out is ready, or 0 with the "invalid" error pushed. */
int walk_finish (Walk *w, const char *what) {
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

/* }====================================================== */
