/*
** json.c: the pieces of JSON the core writes. Strings are escaped as
** RFC 8259 requires (quote, backslash, control characters) and valid
** UTF-8 passes through untouched; numbers are printed exactly: integers
** digit for digit, floats in the shortest form that reads back the same.
*/

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"


/* Number of continuation bytes after lead byte 'c', or -1 if 'c' cannot
** start a sequence. */
static int utf8_tail (unsigned char c) {
  if (c < 0x80) return 0;
  if (c >= 0xC2 && c <= 0xDF) return 1;
  if (c >= 0xE0 && c <= 0xEF) return 2;
  if (c >= 0xF0 && c <= 0xF4) return 3;
  return -1;  /* continuation byte, overlong lead (C0, C1) or above F4 */
}


/* Checks the bytes after the lead that RFC 3629 restricts further: no
** overlong three- or four-byte forms, no surrogates, nothing past
** U+10FFFF. */
static int utf8_second_ok (unsigned char lead, unsigned char next) {
  switch (lead) {
    case 0xE0: return next >= 0xA0;
    case 0xED: return next <= 0x9F;
    case 0xF0: return next >= 0x90;
    case 0xF4: return next <= 0x8F;
    default: return 1;
  }
}


size_t utf8_prefix (const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < len) {
    int tail = utf8_tail(p[i]);
    int k;
    if (tail < 0 || (size_t)tail >= len - i)
      return i;
    if (tail > 0 && !utf8_second_ok(p[i], p[i + 1]))
      return i;
    for (k = 1; k <= tail; k++) {
      if ((p[i + k] & 0xC0) != 0x80)
        return i;
    }
    i += tail + 1;
  }
  return i;
}


void json_string (Buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;  /* start of the bytes not yet copied */
  buf_addc(b, '"');
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc;
    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    buf_add(b, s + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': esc = '"'; break;
      case '\\': esc = '\\'; break;
      case '\b': esc = 'b'; break;
      case '\f': esc = 'f'; break;
      case '\n': esc = 'n'; break;
      case '\r': esc = 'r'; break;
      case '\t': esc = 't'; break;
      default: esc = 0; break;
    }
    if (esc) {
      char pair[2];
      pair[0] = '\\';
      pair[1] = esc;
      buf_add(b, pair, 2);
    }
    else {
      char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      buf_add(b, u, 6);
    }
  }
  buf_add(b, s + run, len - run);
  buf_addc(b, '"');
}


void json_integer (Buf *b, long long n) {
  char digits[32];
  int len = snprintf(digits, sizeof(digits), "%lld", n);
  buf_add(b, digits, (size_t)len);
}


/* A decimal point written under a locale that uses a comma would not be
** JSON; put the point back. */
static void fix_decimal_point (char *s) {
  for (; *s; s++) {
    if (*s == ',')
      *s = '.';
  }
}


/* Shortest of %.15g, %.16g and %.17g that reads back as 'x' (%.17g
** always does for a double). */
void json_float (Buf *b, double x) {
  char digits[40];
  int precision, len = 0;
  for (precision = 15; precision <= 17; precision++) {
    len = snprintf(digits, sizeof(digits), "%.*g", precision, x);
    fix_decimal_point(digits);
    if (strtod(digits, NULL) == x)
      break;
  }
  buf_add(b, digits, (size_t)len);
}


/* Integral doubles below 2^63 print with every digit, never as 1e+15. */
static void json_double (Buf *b, double x) {
  if (x == floor(x) && fabs(x) < 9223372036854775808.0) {
    char digits[32];
    int len = snprintf(digits, sizeof(digits), "%.0f", x);
    buf_add(b, digits, (size_t)len);
  }
  else
    json_float(b, x);
}


void json_number (lua_State *L, Buf *b, int idx) {
#if RINGG_HAS_INTEGERS
  if (lua_isinteger(L, idx)) {
    json_integer(b, (long long)lua_tointeger(L, idx));
    return;
  }
#endif
  json_double(b, (double)lua_tonumber(L, idx));
}
