/*
** walk.h: walking a Lua value against a schema while writing its JSON.
** walk.c has the generic parts (paths, problems, records, lists, maps,
** free-form values); validate.c has the call schema and its checks.
**
** A check looks at the value at a stack index, reports what is wrong
** with add_error and friends, and otherwise writes the value's JSON to
** w->out. Checks leave the stack as they found it. Tables are read with
** raw access only, so no metamethod of the caller's runs during a walk.
*/

#ifndef RINGG_WALK_H
#define RINGG_WALK_H

#include "core.h"


#define MAX_SEGMENTS  48   /* path segments kept; deeper ones show "..." */
#define MAX_ERRORS    100  /* problems listed; more are only counted */
#define MAX_VALUES    1000000  /* free-form values in one body */


/* One step of the path to the value being checked: a name (not copied:
** names are table keys or literals, alive for the whole walk) or, when
** 'key' is NULL, a list position. */
typedef struct Segment {
  const char *key;
  size_t len;
  lua_Integer index;
} Segment;

typedef struct Walk {
  lua_State *L;
  Buf *out;
  int errors;      /* stack index of the list of {field, message} */
  int count;       /* problems found */
  int depth;       /* tables entered by free-form values */
  long values;     /* free-form values written */
  int stopped;     /* a free-form value went out of bounds: stop */
  int nsegments;   /* path length; may pass MAX_SEGMENTS */
  Segment segments[MAX_SEGMENTS];
} Walk;


typedef void (*Check) (Walk *w, int idx);

/* Checks the name of a map member; reports it and returns 0 if bad. */
typedef int (*KeyCheck) (Walk *w, const char *key, size_t len);

/* A field of a record; a NULL check marks a field handled by hand. */
typedef struct Field {
  const char *name;
  size_t len;
  Check check;
  int required;
} Field;

#define FIELD(name, check, required)  {name, sizeof(name) - 1, check, required}
#define END_OF_FIELDS  {NULL, 0, NULL, 0}


/* A record being walked: the value of fields[i] is in stack slot
** base + i (nil when absent). */
typedef struct Record {
  int base;
  unsigned found;   /* bit i: fields[i] is present */
  int named;        /* keys that are strings */
  int unknown;      /* string keys that are not fields */
  int odd;          /* keys that are not strings */
  int first;        /* no member written yet */
} Record;


/* Paths: push returns what path_set restores. */
int path_push_key (Walk *w, const char *key, size_t len);
int path_push_index (Walk *w, lua_Integer i);
void path_set (Walk *w, int old);

/* Problems, at the current path */
void add_error (Walk *w, const char *fmt, ...);
void expected (Walk *w, int idx, const char *what);
void expected_hint (Walk *w, int idx, const char *what, const char *hint);

/* Values */
int get_integer (lua_State *L, int idx, long long *v);
const char *get_string (Walk *w, int idx, size_t *len);
int check_utf8 (Walk *w, const char *s, size_t len);
void check_boolean (Walk *w, int idx);
void check_finite (Walk *w, int idx);
void check_utf8_string (Walk *w, int idx);
const char *hex_byte (char *hex, unsigned char c);

/* Records */
int record_open (Walk *w, int idx, const Field *fields, Record *r);
void record_write (Walk *w, const Field *fields, Record *r, int from,
                   int to);
void record_close (Walk *w, int idx, const Field *fields, Record *r,
                   const char *const *hints);
void walk_record (Walk *w, int idx, const Field *fields);
int field_count (const Field *fields);
int is_field (const Field *fields, const char *key, size_t len);

/* Lists and maps */
void walk_list (Walk *w, int idx, Check check, int unique);
void walk_one_or_list (Walk *w, int idx, Check check);
void walk_members (Walk *w, int idx, KeyCheck key_ok, Check check,
                   int *first);
void walk_map (Walk *w, int idx, KeyCheck key_ok, Check check);
int name_ok (Walk *w, const char *key, size_t len);

/* Free-form JSON values */
void write_value (Walk *w, int idx);

/* Starting and ending a walk */
void walk_start (Walk *w, lua_State *L, Buf *out);
int walk_finish (Walk *w, const char *what);

#endif
