/*
** buf.c: a growable byte buffer with a hard cap. Buffers are embedded in
** userdata whose __gc frees them, so a Lua error between an append and
** the end of a request cannot leak what they hold.
*/

#include <stdlib.h>
#include <string.h>

#include "core.h"


#define BUF_MIN_SIZE  256


void buf_init (Buf *b, size_t limit) {
  b->data = NULL;
  b->len = 0;
  b->size = 0;
  b->limit = limit;
  b->failed = 0;
}


void buf_free (Buf *b) {
  free(b->data);
  buf_init(b, b->limit);
}


/* Keeps the memory: a client reuses its buffers for every request. */
void buf_reset (Buf *b) {
  b->len = 0;
  b->failed = 0;
}


/* Makes room for 'n' more bytes; on failure marks the buffer failed. */
static int buf_grow (Buf *b, size_t n) {
  size_t need, size;
  char *data;
  if (b->failed)
    return 0;
  if (n <= b->size - b->len)
    return 1;
  if (n > b->limit - b->len) {  /* over the cap */
    b->failed = 1;
    return 0;
  }
  need = b->len + n;
  size = b->size < BUF_MIN_SIZE ? BUF_MIN_SIZE : b->size;
  while (size < need)
    size = (size > b->limit / 2) ? b->limit : size * 2;
  data = realloc(b->data, size);
  if (data == NULL) {
    b->failed = 1;
    return 0;
  }
  b->data = data;
  b->size = size;
  return 1;
}


void buf_add_slow (Buf *b, const char *s, size_t n) {
  if (n > 0 && buf_grow(b, n)) {
    memcpy(b->data + b->len, s, n);
    b->len += n;
  }
}
