/*
** baseline.h: what the two C baselines share (easy_baseline.c and
** multi_baseline.c): the command line, the request body, the headers,
** the reply buffer and the clock. They are the least a C program must
** do to POST the same call body with libcurl: no validation, no
** decoding, only a check that every reply is a 200.
**
**   PROGRAM URL BODY_FILE SECONDS [IN_FLIGHT]   -> "rate <calls/s>"
**   PROGRAM --version                           -> "libcurl <version>"
*/

#ifndef BENCH_BASELINE_H
#define BENCH_BASELINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>


#define CALL_PATH  "/calling/v2/outbound/individual"

typedef struct Reply {
  char *data;
  size_t len;
  size_t size;
} Reply;

typedef struct Args {
  char url[1024];
  char *body;
  long body_len;
  double seconds;
  int in_flight;
} Args;


static double now_seconds (void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


static void die (const char *what, const char *why) {
  fprintf(stderr, "baseline: %s: %s\n", what, why);
  exit(1);
}


/* Reads the whole file 'path' into args->body. */
static void read_body (Args *args, const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    die(path, "cannot open");
  if (fseek(f, 0, SEEK_END) != 0 || (args->body_len = ftell(f)) < 0
      || fseek(f, 0, SEEK_SET) != 0)
    die(path, "cannot read");
  args->body = malloc((size_t)args->body_len + 1);
  if (args->body == NULL
      || fread(args->body, 1, (size_t)args->body_len, f)
         != (size_t)args->body_len)
    die(path, "cannot read");
  fclose(f);
}


/* Reads the command line; prints the libcurl version for --version. */
static void read_args (Args *args, int argc, char **argv, int want_flight) {
  if (argc == 2 && strcmp(argv[1], "--version") == 0) {
    printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    exit(0);
  }
  if (argc != 4 + want_flight) {
    fprintf(stderr, "usage: %s BASE_URL BODY_FILE SECONDS%s\n", argv[0],
            want_flight ? " IN_FLIGHT" : "");
    exit(2);
  }
  if (snprintf(args->url, sizeof(args->url), "%s%s", argv[1], CALL_PATH)
      >= (int)sizeof(args->url))
    die("BASE_URL", "too long");
  read_body(args, argv[2]);
  args->seconds = atof(argv[3]);
  args->in_flight = want_flight ? atoi(argv[4]) : 1;
  if (!(args->seconds > 0) || args->in_flight < 1)
    die("arguments", "SECONDS and IN_FLIGHT must be positive");
}


/* libcurl write callback: keeps the reply, as any real client must. */
static size_t on_body (char *data, size_t size, size_t n, void *ud) {
  Reply *r = (Reply *)ud;
  size_t len = size * n;
  if (r->len + len > r->size) {
    size_t size2 = r->size ? r->size : 1024;
    char *p;
    while (size2 < r->len + len)
      size2 *= 2;
    if ((p = realloc(r->data, size2)) == NULL)
      return 0;
    r->data = p;
    r->size = size2;
  }
  memcpy(r->data + r->len, data, len);
  r->len += len;
  return len;
}


/* The headers ringg sends with a call (its API key made up). */
static struct curl_slist *make_headers (void) {
  static const char *const lines[] = {
    "X-API-KEY: bench-key-3d51c2aa", "User-Agent: bench-baseline/1",
    "Accept: application/json", "Content-Type: application/json",
    "Expect:", NULL
  };
  struct curl_slist *list = NULL;
  int i;
  for (i = 0; lines[i]; i++) {
    if ((list = curl_slist_append(list, lines[i])) == NULL)
      die("headers", "not enough memory");
  }
  return list;
}


/* Sets the same options ringg sets on its handles, and the request. */
static void setup_easy (CURL *easy, const Args *args,
                        struct curl_slist *headers, Reply *reply) {
  CURLcode r = CURLE_OK;
#define SET(option, value) \
  if (r == CURLE_OK) r = curl_easy_setopt(easy, option, value)
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_TIMEOUT_MS, 10000L);
  SET(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_URL, args->url);
  SET(CURLOPT_HTTPHEADER, headers);
  SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)args->body_len);
  SET(CURLOPT_POSTFIELDS, args->body);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, reply);
#undef SET
  if (r != CURLE_OK)
    die("curl_easy_setopt", curl_easy_strerror(r));
}


/* Fails the run on anything but a 200. */
static void check_reply (CURL *easy, CURLcode code) {
  long status = 0;
  if (code != CURLE_OK)
    die("transfer", curl_easy_strerror(code));
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200)
    die("transfer", "the reply is not a 200");
}

#endif
