/*
** client.h: the client object, shared by client.c (blocking requests)
** and multi.c (requests in flight on a curl multi handle).
*/

#ifndef RINGG_CLIENT_H
#define RINGG_CLIENT_H

#include <curl/curl.h>

#include "core.h"


/* The pre-request callback keeps a call from being sent twice */
#if LIBCURL_VERSION_NUM < 0x075000
#error "ringg needs libcurl 7.80 or later (CURLOPT_PREREQFUNCTION)"
#endif


#define RINGG_VERSION     "0.1.0"
#define DEFAULT_BASE_URL  "https://prod-api.ringg.ai/ca/api/v0"

#define CLIENT_TYPE  "ringg.client"
#define HANDLE_TYPE  "ringg.handle"

/* Hard caps: a request body, a reply body, its header lines, a URL */
#define MAX_BODY       (4u << 20)
#define MAX_REPLY      (8u << 20)
#define MAX_HEAD       (64u << 10)
#define MAX_URL_BYTES  (16u << 10)


typedef struct Multi Multi;

/* A request body, and how many times libcurl set out to send it: the
** pre-request callback lets only the first go (see set_body). */
typedef struct Upload {
  const char *data;   /* NULL: no body */
  size_t len;
  int sends;          /* requests started (pre-request callback) */
} Upload;


typedef struct Client {
  CURL *easy;                        /* for blocking requests */
  struct curl_slist *json_headers;   /* requests with a JSON body */
  struct curl_slist *plain_headers;  /* requests without one */
  char *api_key;
  char *base_url;     /* without a trailing '/' */
  char *call_url;     /* base_url .. the call-initiate path */
  char *user_agent;
  char *proxy;
  char *ca_file;
  long timeout_ms;
  long connect_timeout_ms;
  int verbose;
  int closed;
  Buf body;           /* the request body being assembled or sent */
  Buf reply;          /* reply body of a blocking request */
  Buf head;           /* its header lines */
  Buf url;            /* URL of a request other than a call */
  Multi *multi;       /* in-flight requests (multi.c) */
  Upload up;          /* body of the blocking request */
  char errbuf[CURL_ERROR_SIZE];
} Client;


Client *client_check (lua_State *L, int idx);

int client_setup_easy (Client *c, CURL *easy, Buf *reply, Buf *head,
                       char *errbuf);
int client_aim_easy (Client *c, CURL *easy, const char *method,
                     const char *url, Upload *up);
void push_headers (lua_State *L, const Buf *head);
int client_request_left (CURL *easy);
int client_assemble (lua_State *L, Client *c, const char **method,
                     const Buf **body);
void client_curl_error (lua_State *L, Mode mode, CURL *easy, CURLcode code,
                        const Buf *reply, const Buf *head,
                        const char *errbuf);

/* multi.c */
void multi_init (lua_State *L, Client *c);
void multi_cancel_all (lua_State *L, Client *c);
void multi_free (lua_State *L, Client *c);
void multi_methods (lua_State *L);
void multi_open (lua_State *L);

#endif
