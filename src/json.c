/*
** json.c: the pieces of JSON the core writes. Strings are escaped as
** RFC 8259 requires (quote, backslash, control characters) and valid
** UTF-8 passes through untouched; numbers are printed exactly: integers
** digit for digit, floats in the shortest form that reads back the same.
*/

#include <math.h>
#include <stdint.h>
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
  while (len - i >= 8) {  /* skip ASCII eight bytes at a time */
    uint64_t word;
    memcpy(&word, p + i, 8);
    if (word & 0x8080808080808080u)
      break;
    i += 8;
  }
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


/* Bytes a JSON string may not hold as they are: controls, '"', '\\' */
static const unsigned char must_escape[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0
};


/* Writes the escape of byte 'c', which must_escape. */
static void json_escape (Buf *b, unsigned char c) {
  static const char hex[] = "0123456789abcdef";
  char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
  switch (c) {
    case '"': esc[1] = '"'; break;
    case '\\': esc[1] = '\\'; break;
    case '\b': esc[1] = 'b'; break;
    case '\f': esc[1] = 'f'; break;
    case '\n': esc[1] = 'n'; break;
    case '\r': esc[1] = 'r'; break;
    case '\t': esc[1] = 't'; break;
    default:
      buf_add(b, esc, 6);
      return;
  }
  buf_add(b, esc, 2);
}


/* Copies runs of bytes that need no escape whole: most strings are one
** run. */
void json_string (Buf *b, const char *s, size_t len) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  buf_addc(b, '"');
  while (i < len) {
    size_t run = i;
    while (run < len && !must_escape[p[run]])
      run++;
    buf_add(b, s + i, run - i);
    if (run == len)
      break;
    json_escape(b, p[run]);
    i = run + 1;
  }
  buf_addc(b, '"');
}


void json_plain (Buf *b, const char *s, size_t len) {
  buf_addc(b, '"');
  buf_add(b, s, len);
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
