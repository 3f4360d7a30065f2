/*
** validate.c: the call schema of design.md, and the checks of its
** scalar fields. The walk itself (paths, problems, records, lists and
** maps) is in walk.c. Every problem is reported, each with its dotted
** path, in schema order; the body written so far is dropped when there
** was any.
*/

#include <string.h>

#include "walk.h"


#define MAX_NAME        256   /* bytes in 'name' */
#define MAX_ID          128   /* bytes in an id string */
#define MAX_VARIABLE    64    /* bytes in a custom_args_values key */
#define MAX_CATEGORY    64    /* bytes in call_category */
#define MAX_URL         2048  /* bytes in callback_url */


/*
** {======================================================
** Scalars
** =======================================================
*/

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
    json_plain(w->out, s, len);
  else
    e164_hint(w, idx, s, len);
  lua_settop(w->L, top);
}


static void check_e164_or_list (Walk *w, int idx) {
  walk_one_or_list(w, idx, check_e164);
}


static int is_hex (char c) {
  static const unsigned char hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['A'] = 1, ['B'] = 1,
    ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1
  };
  return hex[(unsigned char)c];
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
    json_plain(w->out, s, len);
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
  int plain = 1;  /* no '"' or '\\' to escape */
  const char *s = get_string(w, idx, &len);
  if (s == NULL)
    return;
  for (i = 0; i < len && s[i] > 0x20 && s[i] < 0x7F; i++)
    plain &= s[i] != '"' && s[i] != '\\';
  if (len == 0 || len > MAX_ID || i < len)
    expected(w, idx, "an id (1 to 128 printable characters, no spaces)");
  else if (plain)
    json_plain(w->out, s, len);
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
    json_plain(w->out, s, len);
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
    json_plain(w->out, s, len);
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
    json_plain(w->out, s, len);
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
    json_plain(w->out, s, len);
  else
    expected(w, idx, "a language code of 2 or 3 lower-case letters");
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
  if (i < len)  /* not quoted: header values often carry secrets */
    add_error(w, "expected a header value without CR, LF or NUL, got "
              "one with %s at byte %d", s[i] == '\0' ? "NUL"
              : s[i] == '\r' ? "CR" : "LF", (int)i + 1);
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


/* }====================================================== */


/*
** {======================================================
** The call schema
** =======================================================
*/

static void check_transliteration (Walk *w, int idx) {
  static const Field fields[] = {
    FIELD("source", check_language, 0),
    FIELD("target", check_language, 0),
    END_OF_FIELDS
  };
  walk_record(w, idx, fields);
}


static void check_smart_formatter (Walk *w, int idx) {
  static const Field fields[] = {
    FIELD("extract_first_name", check_boolean, 0),
    FIELD("transliteration", check_boolean, 0),
    FIELD("transliteration_language", check_transliteration, 0),
    END_OF_FIELDS
  };
  walk_record(w, idx, fields);
}


static void check_retry_config (Walk *w, int idx) {
  static const Field fields[] = {
    FIELD("retry_count", check_minutes, 0),
    FIELD("retry_busy", check_minutes, 0),
    FIELD("retry_not_picked", check_minutes, 0),
    FIELD("retry_failed", check_minutes, 0),
    END_OF_FIELDS
  };
  walk_record(w, idx, fields);
}


static void check_call_time (Walk *w, int idx) {
  static const Field fields[] = {
    FIELD("call_start_time", check_hhmm, 0),
    FIELD("call_end_time", check_hhmm, 0),
    FIELD("timezone", check_timezone, 0),
    FIELD("scheduled_at", check_datetime, 0),
    END_OF_FIELDS
  };
  walk_record(w, idx, fields);
}


enum { IDLE_WARNING, IDLE_END };  /* the first two call_config fields */

static const Field call_config_fields[] = {
  FIELD("idle_timeout_warning", check_positive, 0),
  FIELD("idle_timeout_end", check_positive, 0),
  FIELD("max_call_length", check_positive, 0),
  FIELD("call_retry_config", check_retry_config, 0),
  FIELD("call_time", check_call_time, 0),
  END_OF_FIELDS
};


/* idle_timeout_end must come after idle_timeout_warning */
static void check_idle_order (Walk *w, const Record *r) {
  long long warning, end;
  if (get_integer(w->L, r->base + IDLE_WARNING, &warning)
      && get_integer(w->L, r->base + IDLE_END, &end) && end <= warning) {
    int old = path_push_key(w, "idle_timeout_end", 16);
    add_error(w, "expected more than idle_timeout_warning (%d), got %d",
              (int)warning, (int)end);
    path_set(w, old);
  }
}


static void check_call_config (Walk *w, int idx) {
  Record r;
  if (!record_open(w, idx, call_config_fields, &r))
    return;
  record_write(w, call_config_fields, &r, 0, IDLE_END + 1);
  check_idle_order(w, &r);
  record_write(w, call_config_fields, &r, IDLE_END + 1,
               field_count(call_config_fields));
  record_close(w, idx, call_config_fields, &r, NULL);
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
    FIELD("headers", check_callback_headers, 0),
    FIELD("params", check_callback_params, 0),
    END_OF_FIELDS
  };
  walk_record(w, idx, fields);
}


/* The fields of a call, in the order they are checked, reported and
** sent. The caller sources follow agent_id; extra_body is not sent as
** itself (its check is NULL) but merged at the end. */
enum { NUMBER_POOL_ID = 3, FROM_NUMBER = 5, EXTRA_BODY = 15 };

static const Field call_fields[] = {
  FIELD("name", check_name, 1),
  FIELD("mobile_number", check_e164, 1),
  FIELD("agent_id", check_uuid, 1),
  FIELD("number_pool_id", check_id, 0),
  FIELD("from_number_id", check_id_or_list, 0),
  FIELD("from_number", check_e164_or_list, 0),
  FIELD("custom_args_values", check_custom_args, 0),
  FIELD("smart_formatter", check_smart_formatter, 0),
  FIELD("call_config", check_call_config, 0),
  FIELD("voice_id", check_id, 0),
  FIELD("call_category", check_category, 0),
  FIELD("version_id", check_uuid, 0),
  FIELD("parent_call_id", check_uuid, 0),
  FIELD("callback_url", check_url, 0),
  FIELD("callback_args", check_callback_args, 0),
  FIELD("extra_body", NULL, 0),
  END_OF_FIELDS
};


/* Prompt variables the docs use: seen as a top-level key, they were
** meant for custom_args_values. The first entry says so. */
static const char *const prompt_variables[] = {
  "prompt variables go in custom_args_values",
  "callee_name", "company_name", "appointment_date", "product_name",
  "order_id", "transfer_to", NULL
};


/* Exactly one of number_pool_id, from_number_id and from_number. */
static void check_caller (Walk *w, const Record *r) {
  int i, second = -1, seen = 0;
  for (i = NUMBER_POOL_ID; i <= FROM_NUMBER; i++) {
    if ((r->found & (1u << i)) && seen++ == 1)
      second = i;
  }
  if (seen == 1)
    return;
  if (seen == 0) {
    int old = path_push_key(w, "number_pool_id", 14);
    add_error(w, "required: give one of number_pool_id, from_number_id "
              "or from_number");
    path_set(w, old);
  }
  else {
    const Field *f = &call_fields[second];
    int old = path_push_key(w, f->name, f->len);
    add_error(w, "give only one of number_pool_id, from_number_id and "
              "from_number, got %d", seen);
    path_set(w, old);
  }
}


/* extra_body members may add fields, never replace a checked one */
static int extra_key_ok (Walk *w, const char *key, size_t len) {
  if (is_field(call_fields, key, len)) {
    add_error(w, "extra_body may not override '%s': set it directly",
              key);
    return 0;
  }
  return name_ok(w, key, len);
}


/* Merges the members of extra_body into the call's object. */
static void walk_extra_body (Walk *w, Record *r) {
  lua_State *L = w->L;
  int extra = r->base + EXTRA_BODY;
  int old;
  if (lua_isnil(L, extra))
    return;
  old = path_push_key(w, "extra_body", 10);
  if (lua_type(L, extra) != LUA_TTABLE)
    expected(w, extra, "a table");
  else {
    lua_rawgeti(L, extra, 1);
    if (!lua_isnil(L, -1))
      add_error(w, "expected a table of named fields, got a list");
    else {
      w->depth = 1;
      walk_members(w, extra, extra_key_ok, write_value, &r->first);
    }
    lua_pop(L, 1);
  }
  path_set(w, old);
}


static void walk_call (Walk *w, int idx) {
  Record r;
  if (!record_open(w, idx, call_fields, &r))
    return;
  record_write(w, call_fields, &r, 0, FROM_NUMBER + 1);
  check_caller(w, &r);
  record_write(w, call_fields, &r, FROM_NUMBER + 1, EXTRA_BODY);
  walk_extra_body(w, &r);
  record_close(w, idx, call_fields, &r, prompt_variables);
}

/* }====================================================== */


/*
** {======================================================
** Entry points
** =======================================================
*/

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
