/*
** client.c: the client object of ringg.core, and its blocking libcurl
** transport. One easy handle per client, so connections are kept alive
** between requests. libcurl's callbacks here only copy bytes into
** buffers: no Lua code runs inside libcurl, so no Lua error can unwind
** through it.
*/

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"


#define CALL_PATH  "/calling/v2/outbound/individual"


/*
** {======================================================
** Options (checked once, in ringg.new; mistakes raise)
** =======================================================
*/

/* A copy of the string option 'name' of the table at 1, or NULL. */
static char *opt_string (lua_State *L, const char *name) {
  size_t len;
  const char *s;
  char *copy;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return NULL;
  }
  if (lua_type(L, -1) != LUA_TSTRING)
    luaL_error(L, "option '%s' must be a string, got %s", name,
               luaL_typename(L, -1));
  s = lua_tolstring(L, -1, &len);
  if (strlen(s) != len)
    luaL_error(L, "option '%s' must be a string without NUL", name);
  if ((copy = malloc(len + 1)) == NULL)
    luaL_error(L, "not enough memory");
  memcpy(copy, s, len + 1);
  lua_pop(L, 1);
  return copy;
}


/* Milliseconds from the option 'name' in seconds (> 0), or 'def'. */
static long opt_millis (lua_State *L, const char *name, long def) {
  lua_Number seconds;
  long millis;
  lua_getfield(L, 1, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return def;
  }
  seconds = lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || !(seconds > 0)
      || seconds > 86400.0)
    luaL_error(L, "option '%s' must be a number of seconds > 0", name);
  lua_pop(L, 1);
  millis = (long)(seconds * 1000.0 + 0.5);
  return millis > 0 ? millis : 1;  /* libcurl reads 0 as "no limit" */
}


/* Header values may not carry what would end or split a header. */
static int has_control (const char *s) {
  for (; *s; s++) {
    if ((unsigned char)*s < 0x20 || *s == 0x7F)
      return 1;
  }
  return 0;
}


static int has_space_or_control (const char *s) {
  return has_control(s) || strchr(s, ' ') != NULL;
}


/* Host part of an http(s) URL after the scheme: "localhost", an IPv4
** address in 127.0.0.0/8 or [::1]. */
static int is_loopback (const char *authority) {
  const char *end = authority + strcspn(authority, "/?#");
  const char *at = memchr(authority, '@', (size_t)(end - authority));
  const char *host = at ? at + 1 : authority;
  size_t len;
  int a, b, c, d, n = 0;
  if (strncmp(host, "[::1]", 5) == 0)
    return host[5] == ':' || host + 5 == end;
  len = strcspn(host, ":/?#");
  if (len == 9 && strncasecmp(host, "localhost", 9) == 0)
    return 1;
  if (sscanf(host, "%3d.%3d.%3d.%3d%n", &a, &b, &c, &d, &n) == 4
      && (size_t)n == len && a == 127 && b >= 0 && b < 256 && c >= 0
      && c < 256 && d >= 0 && d < 256)
    return 1;
  return 0;
}


static void check_base_url (lua_State *L, const char *url) {
  if (has_space_or_control(url))
    luaL_error(L, "base_url must not contain spaces or control "
               "characters");
  if (strncasecmp(url, "https://", 8) == 0 && url[8] && url[8] != '/')
    return;
  if (strncasecmp(url, "http://", 7) != 0 || !url[7] || url[7] == '/')
    luaL_error(L, "base_url must be an http:// or https:// URL with a "
               "host");
  if (!is_loopback(url + 7))
    luaL_error(L, "base_url must use https:// (plain http:// is allowed "
               "only for loopback hosts: it would send the API key in "
               "clear text)");
}


static void check_api_key (lua_State *L, const char *key) {
  if (key == NULL)
    luaL_error(L, "option 'api_key' is required");
  if (*key == '\0' || has_space_or_control(key))
    luaL_error(L, "api_key must be a non-empty string without spaces or "
               "control characters");
}


/* Reads every option into the fresh client 'c' (on the stack, so
** whatever is set is freed by __gc should an option raise). */
static void read_options (lua_State *L, Client *c) {
  char *extra;
  size_t len;
  c->api_key = opt_string(L, "api_key");
  check_api_key(L, c->api_key);
  c->base_url = opt_string(L, "base_url");
  if (c->base_url == NULL && (c->base_url = strdup(DEFAULT_BASE_URL))
      == NULL)
    luaL_error(L, "not enough memory");
  check_base_url(L, c->base_url);
  len = strlen(c->base_url);
  while (len > 0 && c->base_url[len - 1] == '/')
    c->base_url[--len] = '\0';  /* paths start with '/' */
  c->timeout_ms = opt_millis(L, "timeout", 30000);
  c->connect_timeout_ms = opt_millis(L, "connect_timeout", 10000);
  c->proxy = opt_string(L, "proxy");
  c->ca_file = opt_string(L, "ca_file");
  extra = opt_string(L, "user_agent");
  if (extra && has_control(extra)) {
    free(extra);
    luaL_error(L, "user_agent must not contain control characters");
  }
  lua_pushfstring(L, "lua-ringg/%s%s%s", RINGG_VERSION, extra ? " " : "",
                  extra ? extra : "");
  free(extra);
  c->user_agent = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  lua_getfield(L, 1, "verbose");
  c->verbose = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (c->user_agent == NULL)
    luaL_error(L, "not enough memory");
}

/* }====================================================== */


/*
** {======================================================
** The easy handle
** =======================================================
*/

/* libcurl write callback: the reply body, up to the cap. */
static size_t on_body (char *data, size_t size, size_t n, void *ud) {
  Buf *b = (Buf *)ud;
  buf_add(b, data, size * n);
  return b->failed ? 0 : size * n;
}


/* libcurl header callback: the header lines of the last response only
** (a 100 Continue or other interim response starts again). */
static size_t on_header (char *data, size_t size, size_t n, void *ud) {
  Buf *b = (Buf *)ud;
  if (size * n >= 5 && memcmp(data, "HTTP/", 5) == 0)
    buf_reset(b);
  buf_add(b, data, size * n);
  return b->failed ? 0 : size * n;
}


/* Where "x-api-key" starts within p[0..len), in any case, or NULL. */
static const char *find_key_name (const char *p, size_t len) {
  size_t i;
  for (i = 0; i + 9 <= len; i++) {
    if (strncasecmp(p + i, "x-api-key", 9) == 0)
      return p + i;
  }
  return NULL;
}


/* Writes a block of trace lines to stderr after 'prefix'. A line that
** names the X-API-KEY header (an HTTP/1 header line, or libcurl's own
** note of an HTTP/2 header) is cut after the name: the key itself never
** reaches the trace. */
static void trace (const char *prefix, const char *data, size_t size) {
  const char *p = data, *end = data + size;
  fputs(prefix, stderr);
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    size_t len = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
    const char *name = find_key_name(p, len);
    if (name) {
      fwrite(p, 1, (size_t)(name - p) + 9, stderr);
      fputs(": [redacted]", stderr);
      fputs(len >= 2 && p[len - 2] == '\r' ? "\r\n" : "\n", stderr);
    }
    else
      fwrite(p, 1, len, stderr);
    p += len;
  }
}


/* libcurl debug callback of the verbose option: curl's trace of text
** and headers, as its default one shows them, but without the key. */
static int on_debug (CURL *easy, curl_infotype type, char *data,
                     size_t size, void *ud) {
  static const char *const prefixes[] = {"* ", "< ", "> "};
  (void)easy;
  (void)ud;
  if (type == CURLINFO_TEXT || type == CURLINFO_HEADER_IN
      || type == CURLINFO_HEADER_OUT)
    trace(prefixes[type], data, size);
  return 0;
}


static struct curl_slist *add_header (struct curl_slist *list,
                                      const char *line, int *ok) {
  struct curl_slist *longer = curl_slist_append(list, line);
  if (longer == NULL)
    *ok = 0;
  return longer ? longer : list;
}


/* The two header lists: with and without a JSON body. */
static int make_headers (lua_State *L, Client *c) {
  int ok = 1;
  lua_pushfstring(L, "X-API-KEY: %s", c->api_key);
  c->plain_headers = add_header(NULL, lua_tostring(L, -1), &ok);
  c->json_headers = add_header(NULL, lua_tostring(L, -1), &ok);
  lua_pop(L, 1);
  lua_pushfstring(L, "User-Agent: %s", c->user_agent);
  c->plain_headers = add_header(c->plain_headers, lua_tostring(L, -1), &ok);
  c->json_headers = add_header(c->json_headers, lua_tostring(L, -1), &ok);
  lua_pop(L, 1);
  c->plain_headers = add_header(c->plain_headers,
                                "Accept: application/json", &ok);
  c->json_headers = add_header(c->json_headers, "Accept: application/json",
                               &ok);
  c->json_headers = add_header(c->json_headers,
                               "Content-Type: application/json", &ok);
  /* no "Expect: 100-continue" round trip for larger bodies */
  c->json_headers = add_header(c->json_headers, "Expect:", &ok);
  return ok;
}


/* Options that hold for every transfer of the client, on the handle
** 'easy' (the client's own, or one of its multi transfers). */
int client_setup_easy (Client *c, CURL *easy, Buf *reply, Buf *head,
                       char *errbuf) {
  CURLcode r = CURLE_OK;
#define SET(option, value) \
  if (r == CURLE_OK) r = curl_easy_setopt(easy, option, value)
  SET(CURLOPT_NOSIGNAL, 1L);
  SET(CURLOPT_TIMEOUT_MS, c->timeout_ms);
  SET(CURLOPT_CONNECTTIMEOUT_MS, c->connect_timeout_ms);
  SET(CURLOPT_FOLLOWLOCATION, 0L);
  SET(CURLOPT_SSL_VERIFYPEER, 1L);
  SET(CURLOPT_SSL_VERIFYHOST, 2L);
  SET(CURLOPT_TCP_KEEPALIVE, 1L);
  SET(CURLOPT_WRITEFUNCTION, on_body);
  SET(CURLOPT_WRITEDATA, reply);
  SET(CURLOPT_HEADERFUNCTION, on_header);
  SET(CURLOPT_HEADERDATA, head);
  SET(CURLOPT_ERRORBUFFER, errbuf);
  SET(CURLOPT_VERBOSE, (long)c->verbose);
  if (c->verbose)
    SET(CURLOPT_DEBUGFUNCTION, on_debug);
#if LIBCURL_VERSION_NUM >= 0x075500
  SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
  SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  if (c->ca_file)
    SET(CURLOPT_CAINFO, c->ca_file);
  if (c->proxy)
    SET(CURLOPT_PROXY, c->proxy);
#undef SET
  return r == CURLE_OK;
}



/* libcurl's pre-request callback, run each time a request is about to go
** out on a connection: it lets the first one go and stops any other. */
static int on_prereq (void *ud, char *remote_ip, char *local_ip,
                      int remote_port, int local_port) {
  Upload *up = (Upload *)ud;
  (void)remote_ip;  /* which connection does not matter */
  (void)local_ip;
  (void)remote_port;
  (void)local_port;
  return up->sends++ == 0 ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
}


/* Sets the body of 'up' as libcurl's POSTFIELDS, which it sends with the
** request's header in one write. When a reused connection closes before
** any reply, libcurl would send the request again on a new one and could
** place a call twice: the pre-request callback refuses that second
** request, so the transfer fails instead (CURLE_ABORTED_BY_CALLBACK). */
static CURLcode set_body (CURL *easy, Upload *up) {
  CURLcode r = curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE,
                                (curl_off_t)up->len);
  up->sends = 0;
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_POSTFIELDS, up->data);
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq);
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_PREREQDATA, up);
  return r;
}


/* Requests without a body may be sent again: libcurl does that safely. */
static CURLcode clear_body (CURL *easy) {
  CURLcode r = curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, NULL);
  return r;
}


/* Points the handle at one request: method, URL and body ('up', whose
** data must stay alive until the transfer ends); a call is never sent
** twice (see set_body). */
int client_aim_easy (Client *c, CURL *easy, const char *method,
                     const char *url, Upload *up) {
  CURLcode r = curl_easy_setopt(easy, CURLOPT_URL, url);
  int is_post = strcmp(method, "POST") == 0;
  int body = up->data != NULL;
  if (r == CURLE_OK && body)
    r = set_body(easy, up);
  else if (r == CURLE_OK)
    r = clear_body(easy);
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST,
                         (is_post && body) || strcmp(method, "GET") == 0
                         ? NULL : method);
  if (r == CURLE_OK)
    r = curl_easy_setopt(easy, CURLOPT_HTTPHEADER,
                         body ? c->json_headers : c->plain_headers);
  return r == CURLE_OK;
}


static char lower_ascii (char c) {
  return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}


static int is_blank_char (char c) {
  return c == ' ' || c == '\t';
}


/* Pushes the name of a header, from 'p' to 'colon', in lower case.
** Names fit a small local buffer (the longest in common use is about 40
** bytes); a longer one goes through a luaL_Buffer. */
static void push_header_name (lua_State *L, const char *p,
                              const char *colon) {
  char small[64];
  size_t i, len = (size_t)(colon - p);
  if (len > sizeof(small)) {
    luaL_Buffer name;
    luaL_buffinit(L, &name);
    for (i = 0; i < len; i++)
      luaL_addchar(&name, lower_ascii(p[i]));
    luaL_pushresult(&name);
    return;
  }
  for (i = 0; i < len; i++)
    small[i] = lower_ascii(p[i]);
  lua_pushlstring(L, small, len);
}


/* Adds the header line from 'p' to 'eol' to the table at the top; a
** repeated header is joined to the earlier value with ", ". */
static void add_header_line (lua_State *L, const char *p, const char *eol) {
  const char *colon = memchr(p, ':', (size_t)(eol - p));
  const char *value, *stop = eol;
  if (colon == NULL || colon == p
      || (eol - p >= 5 && memcmp(p, "HTTP/", 5) == 0))
    return;  /* the status line, or not a header */
  value = colon + 1;
  while (value < stop && is_blank_char(*value))
    value++;
  while (stop > value && (is_blank_char(stop[-1]) || stop[-1] == '\r'))
    stop--;
  push_header_name(L, p, colon);
  lua_pushvalue(L, -1);
  lua_rawget(L, -3);  /* an earlier value of the same header? */
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushlstring(L, value, (size_t)(stop - value));
  }
  else {
    lua_pushliteral(L, ", ");
    lua_pushlstring(L, value, (size_t)(stop - value));
    lua_concat(L, 3);
  }
  lua_rawset(L, -3);
}


/* Pushes a table of the header lines in 'head', names in lower case. */
void push_headers (lua_State *L, const Buf *head) {
  const char *p = head->data;
  const char *end = p ? p + head->len : p;  /* no reply yet: no memory */
  lua_createtable(L, 0, 8);  /* room for a usual reply: no rehash */
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (eol == NULL)
      eol = end;
    add_header_line(L, p, eol);
    p = eol + 1;
  }
}


/* Whether any of the request left: libcurl counts the request bytes it
** wrote, and a connect that failed wrote none. */
int client_request_left (CURL *easy) {
  long bytes = 0;
  return curl_easy_getinfo(easy, CURLINFO_REQUEST_SIZE, &bytes)
         == CURLE_OK && bytes > 0;
}


/* Pushes the error for a transfer that ended with 'code'. */
void client_curl_error (lua_State *L, Mode mode, CURL *easy, CURLcode code,
                        const Buf *reply, const Buf *head,
                        const char *errbuf) {
  const char *kind = KIND_NETWORK;
  const char *detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(code);
  int sent = client_request_left(easy);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
      sent = 0;
      break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
      /* the ca_file hint only where a CA can be the cause */
      reply_transport_error(L, mode, KIND_NETWORK, 0, "TLS handshake "
                            "failed: %s%s", detail,
                            code == CURLE_PEER_FAILED_VERIFICATION
                            || code == CURLE_SSL_CACERT_BADFILE
                            ? " (a private CA is trusted with the ca_file "
                            "option)" : "");
      return;
    case CURLE_OPERATION_TIMEDOUT:
      kind = KIND_TIMEOUT;
      break;
    case CURLE_ABORTED_BY_CALLBACK:
      /* libcurl wanted to send the request again: see set_body */
      reply_transport_error(L, mode, KIND_NETWORK, 1, "the connection "
                            "closed before any reply");
      return;
    case CURLE_WRITE_ERROR:
      if (reply->failed || head->failed) {
        reply_transport_error(L, mode, KIND_PROTOCOL, 1, "the reply is "
                              "larger than %d bytes", (int)(reply->failed
                              ? reply->limit : head->limit));
        return;
      }
      break;
    default:
      break;
  }
  reply_transport_error(L, mode, kind, sent, "%s", detail);
}


/* Runs the request the handle is aimed at; pushes its results. */
static int perform (lua_State *L, Client *c, Mode mode) {
  CURLcode code;
  long status = 0;
  buf_reset(&c->reply);
  buf_reset(&c->head);
  c->errbuf[0] = '\0';
  code = curl_easy_perform(c->easy);
  if (code != CURLE_OK) {
    client_curl_error(L, mode, c->easy, code, &c->reply, &c->head,
                      c->errbuf);
    return reply_fail(L);
  }
  curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
  push_headers(L, &c->head);
  return reply_classify(L, mode, status, -1, c->reply.data, c->reply.len);
}

/* }====================================================== */


/*
** {======================================================
** URLs and request tables
** =======================================================
*/

/* Appends 's' percent-encoded: all but RFC 3986's unreserved
** characters, so "+" in a date becomes %2B. */
static void url_encode (Buf *b, const char *s, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z')
        || (ch >= '0' && ch <= '9') || (ch && strchr("-._~", ch)))
      buf_addc(b, (char)ch);
    else {
      char escaped[3] = {'%', hex[ch >> 4], hex[ch & 15]};
      buf_add(b, escaped, 3);
    }
  }
}


static int compare_names (const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}


/* Appends "?k=v&..." from the query table at 'idx', names sorted.
** Values: strings, numbers (integral ones without a fraction) and
** booleans; anything else raises (a programmer mistake). */
static void append_query (lua_State *L, Buf *b, int idx) {
  const char *names[64];
  int i, n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || n == 64)
      luaL_error(L, "query names must be strings (at most 64 of them)");
    names[n++] = lua_tostring(L, -1);
  }
  qsort(names, (size_t)n, sizeof(names[0]), compare_names);
  for (i = 0; i < n; i++) {
    size_t len;
    const char *v;
    lua_getfield(L, idx, names[i]);
    if (lua_type(L, -1) == LUA_TBOOLEAN)
      lua_pushstring(L, lua_toboolean(L, -1) ? "true" : "false");
    else if (lua_type(L, -1) == LUA_TNUMBER) {
      Buf number;
      buf_init(&number, 64);
      json_number(L, &number, -1);
      lua_pushlstring(L, number.data, number.len);
      buf_free(&number);
    }
    else if (lua_type(L, -1) == LUA_TSTRING)
      lua_pushvalue(L, -1);
    else
      luaL_error(L, "query value '%s' must be a string, number or "
                 "boolean, got %s", names[i], luaL_typename(L, -1));
    v = lua_tolstring(L, -1, &len);
    buf_addc(b, i == 0 ? '?' : '&');
    url_encode(b, names[i], strlen(names[i]));
    buf_addc(b, '=');
    url_encode(b, v, len);
    lua_pop(L, 2);
  }
}


/* Builds base_url .. path .. query into c->url; raises on a bad path
** (paths come from the module's verbs or a programmer). */
static void build_url (lua_State *L, Client *c, const char *path,
                       int query) {
  if (path[0] != '/' || strpbrk(path, "?# ") || has_control(path))
    luaL_error(L, "path must start with '/' and hold no '?', '#', spaces "
               "or control characters");
  buf_reset(&c->url);
  buf_add(&c->url, c->base_url, strlen(c->base_url));
  buf_add(&c->url, path, strlen(path));
  if (query)
    append_query(L, &c->url, query);
  buf_addc(&c->url, '\0');
  if (c->url.failed)
    luaL_error(L, "URL too long");
}


/* Strings of every request table, kept in the client's user value so
** that building one interns nothing (prepare is on the hot path). */
enum {
  S_METHOD = 1, S_URL, S_HEADERS, S_BODY, S_TIMEOUT, S_API_KEY_HEADER,
  S_USER_AGENT_HEADER, S_ACCEPT_HEADER, S_CONTENT_TYPE_HEADER, S_JSON,
  S_POST, S_API_KEY, S_USER_AGENT, S_CALL_URL, S_LAST = S_CALL_URL
};


/* Makes the string cache of a new client and sets it as the user value
** of the client at the top of the stack. */
static void make_strings (lua_State *L, Client *c) {
  static const char *const fixed[] = {"method", "url", "headers", "body",
    "timeout", "X-API-KEY", "User-Agent", "Accept", "Content-Type",
    "application/json", "POST"};
  int i;
  lua_createtable(L, S_LAST, 0);
  for (i = 0; i < S_API_KEY - 1; i++) {
    lua_pushstring(L, fixed[i]);
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushstring(L, c->api_key);
  lua_rawseti(L, -2, S_API_KEY);
  lua_pushstring(L, c->user_agent);
  lua_rawseti(L, -2, S_USER_AGENT);
  lua_pushstring(L, c->call_url);
  lua_rawseti(L, -2, S_CALL_URL);
  lua_setiuservalue(L, -2, 1);
}


/* t[strings[key]] = strings[value] */
static void set_cached (lua_State *L, int strings, int t, int key,
                        int value) {
  lua_rawgeti(L, strings, key);
  lua_rawgeti(L, strings, value);
  lua_rawset(L, t);
}


/* Pushes the headers a custom transport sends, key included. */
static void push_request_headers (lua_State *L, int strings, int has_body) {
  int t;
  lua_createtable(L, 0, 4);
  t = lua_gettop(L);
  set_cached(L, strings, t, S_API_KEY_HEADER, S_API_KEY);
  set_cached(L, strings, t, S_USER_AGENT_HEADER, S_USER_AGENT);
  set_cached(L, strings, t, S_ACCEPT_HEADER, S_JSON);
  if (has_body)
    set_cached(L, strings, t, S_CONTENT_TYPE_HEADER, S_JSON);
}


/* Replaces the method and URL at the top of the stack with the request
** {method, url, headers, body, timeout}; 'strings' is the string
** cache's stack index. */
static void push_request (lua_State *L, Client *c, int strings,
                          const Buf *body) {
  int t;
  lua_createtable(L, 0, 5);
  t = lua_gettop(L);
  lua_rawgeti(L, strings, S_METHOD);
  lua_pushvalue(L, t - 2);
  lua_rawset(L, t);
  lua_rawgeti(L, strings, S_URL);
  lua_pushvalue(L, t - 1);
  lua_rawset(L, t);
  lua_rawgeti(L, strings, S_HEADERS);
  push_request_headers(L, strings, body != NULL);
  lua_rawset(L, t);
  if (body) {
    lua_rawgeti(L, strings, S_BODY);
    lua_pushlstring(L, body->data, body->len);
    lua_rawset(L, t);
  }
  lua_rawgeti(L, strings, S_TIMEOUT);
  lua_pushnumber(L, (lua_Number)c->timeout_ms / 1000.0);
  lua_rawset(L, t);
  lua_replace(L, t - 2);  /* the request over the method */
  lua_pop(L, 1);          /* the URL */
}


/* Pushes the client's string cache (its user value). */
static int push_strings (lua_State *L) {
  lua_getiuservalue(L, 1, 1);
  return lua_gettop(L);
}

/* }====================================================== */


/*
** {======================================================
** Methods
** =======================================================
*/

Client *client_check (lua_State *L, int idx) {
  Client *c = (Client *)luaL_checkudata(L, idx, CLIENT_TYPE);
  if (c->closed)
    luaL_error(L, "attempt to use a closed client");
  return c;
}


/* client:prepare(params) -> req | nil, err */
static int client_prepare (lua_State *L) {
  Client *c = client_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  int strings;
  if (!call_assemble(L, 2, &c->body))
    return reply_fail(L);
  strings = push_strings(L);
  lua_rawgeti(L, strings, S_POST);
  lua_rawgeti(L, strings, S_CALL_URL);
  push_request(L, c, strings, &c->body);
  return 1;
}


/* client:call(params) -> call | nil, err; blocking */
static int client_call (lua_State *L) {
  Client *c = client_check(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (!call_assemble(L, 2, &c->body))
    return reply_fail(L);
  c->up.data = c->body.data;
  c->up.len = c->body.len;
  if (!client_aim_easy(c, c->easy, "POST", c->call_url, &c->up))
    return luaL_error(L, "libcurl refused the request options");
  return perform(L, c, MODE_CALL);
}


static const char *const methods[] = {"GET", "POST", "PUT", "PATCH",
                                      "DELETE", NULL};


/* Assembles the request of client:build, client:send and client:start
** from arguments 2 to 5 (method, path, query, body): the URL in c->url,
** the body in c->body (*body is NULL when there is none). Returns 1, or
** 0 with an "invalid" error pushed. */
int client_assemble (lua_State *L, Client *c, const char **method,
                     const Buf **body) {
  *method = methods[luaL_checkoption(L, 2, NULL, methods)];
  luaL_checkstring(L, 3);
  if (!lua_isnoneornil(L, 4))
    luaL_checktype(L, 4, LUA_TTABLE);
  build_url(L, c, lua_tostring(L, 3), lua_isnoneornil(L, 4) ? 0 : 4);
  *body = NULL;
  if (lua_isnoneornil(L, 5))
    return 1;
  if (!value_assemble(L, 5, &c->body, "body"))
    return 0;
  *body = &c->body;
  return 1;
}


/* client:build(method, path, query, body) -> req | nil, err */
static int client_build (lua_State *L) {
  Client *c = client_check(L, 1);
  const char *method;
  const Buf *body;
  int strings;
  if (!client_assemble(L, c, &method, &body))
    return reply_fail(L);
  strings = push_strings(L);
  lua_pushstring(L, method);
  lua_pushstring(L, c->url.data);
  push_request(L, c, strings, body);
  return 1;
}


static Mode mode_of (const char *method) {
  return strcmp(method, "GET") == 0 ? MODE_READ : MODE_WRITE;
}


/* client:send(method, path, query, body) -> decoded, res | nil, err */
static int client_send (lua_State *L) {
  Client *c = client_check(L, 1);
  const char *method;
  const Buf *body;
  if (!client_assemble(L, c, &method, &body))
    return reply_fail(L);
  c->up.data = body ? body->data : NULL;
  c->up.len = body ? body->len : 0;
  if (!client_aim_easy(c, c->easy, method, c->url.data, &c->up))
    return luaL_error(L, "libcurl refused the request options");
  return perform(L, c, mode_of(method));
}


static Mode check_mode (lua_State *L, int idx) {
  static const char *const names[] = {"call", "read", "write", NULL};
  static const Mode modes[] = {MODE_CALL, MODE_READ, MODE_WRITE};
  return modes[luaL_checkoption(L, idx, NULL, names)];
}


/* Pushes a transport's failure: a message, or a table {message, kind,
** sent} from transports that know more (kind "timeout" or "network"). */
static int transport_failure (lua_State *L, Mode mode, int idx) {
  const char *kind = KIND_NETWORK;
  const char *message;
  int sent = 1;
  if (lua_type(L, idx) == LUA_TTABLE) {
    lua_getfield(L, idx, "kind");
    if (lua_isstring(L, -1)
        && strcmp(lua_tostring(L, -1), KIND_TIMEOUT) == 0)
      kind = KIND_TIMEOUT;
    lua_getfield(L, idx, "sent");
    sent = lua_isnil(L, -1) || lua_toboolean(L, -1);
    lua_getfield(L, idx, "message");
    idx = lua_gettop(L);
  }
  message = lua_tostring(L, idx);
  reply_transport_error(L, mode, kind, sent, "%s",
                        message ? message : "the transport failed");
  return reply_fail(L);
}


/* Copies a transport's headers with lower-case names. */
static void push_lower_headers (lua_State *L, int idx) {
  lua_newtable(L);
  if (lua_type(L, idx) != LUA_TTABLE)
    return;
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      lua_getglobal(L, "string");
      lua_getfield(L, -1, "lower");
      lua_pushvalue(L, -4);
      lua_call(L, 1, 1);
      lua_pushvalue(L, -3);
      lua_rawset(L, -6);
      lua_pop(L, 1);  /* string */
    }
    lua_pop(L, 1);
  }
}


/* client:classify(mode, res, message) -> what call/send would return
** for the reply (or failure) a custom transport gave. */
static int client_classify (lua_State *L) {
  Client *c = client_check(L, 1);
  Mode mode = check_mode(L, 2);
  size_t len;
  const char *body;
  lua_Number status;
  if (lua_isnoneornil(L, 3))
    return transport_failure(L, mode, 4);
  luaL_checktype(L, 3, LUA_TTABLE);
  lua_getfield(L, 3, "status");
  status = lua_tonumber(L, -1);
  if (lua_type(L, -1) != LUA_TNUMBER || !(status >= 100 && status <= 999))
    return luaL_error(L, "transport reply needs a numeric status");
  lua_getfield(L, 3, "body");
  body = lua_tolstring(L, -1, &len);
  if (body == NULL && !lua_isnil(L, -1))
    return luaL_error(L, "transport reply body must be a string");
  lua_getfield(L, 3, "headers");
  push_lower_headers(L, lua_gettop(L));
  if (len > c->reply.limit) {
    reply_transport_error(L, mode, KIND_PROTOCOL, 1, "the reply is larger "
                          "than %d bytes", (int)c->reply.limit);
    return reply_fail(L);
  }
  return reply_classify(L, mode, (long)status, -1, body ? body : "",
                        body ? len : 0);
}


static void client_free (lua_State *L, Client *c) {
  multi_free(L, c);
  if (c->easy)
    curl_easy_cleanup(c->easy);
  curl_slist_free_all(c->json_headers);
  curl_slist_free_all(c->plain_headers);
  if (c->api_key) {
    memset(c->api_key, 0, strlen(c->api_key));
    free(c->api_key);
  }
  free(c->base_url);
  free(c->call_url);
  free(c->user_agent);
  free(c->proxy);
  free(c->ca_file);
  buf_free(&c->body);
  buf_free(&c->reply);
  buf_free(&c->head);
  buf_free(&c->url);
  memset(c, 0, sizeof(*c));
  c->closed = 1;
}


/* client:close(); also __gc and __close. Idempotent. Transfers still in
** flight are cancelled; their callbacks run with kind "cancelled". */
static int client_close (lua_State *L) {
  Client *c = (Client *)luaL_checkudata(L, 1, CLIENT_TYPE);
  if (c->closed)
    return 0;
  multi_cancel_all(L, c);  /* pushes the first callback error, or nil */
  client_free(L, c);
  return lua_isnil(L, -1) ? 0 : lua_error(L);
}


static int client_gc (lua_State *L) {
  Client *c = (Client *)luaL_checkudata(L, 1, CLIENT_TYPE);
  if (!c->closed)
    client_free(L, c);  /* callbacks cannot run in a finaliser */
  return 0;
}


static int client_tostring (lua_State *L) {
  Client *c = (Client *)luaL_checkudata(L, 1, CLIENT_TYPE);
  if (c->closed)
    lua_pushliteral(L, "ringg.client (closed)");
  else
    lua_pushfstring(L, "ringg.client (%p)", (void *)c);
  return 1;
}


/* ringg.core.new(options) -> client; raises on programmer mistakes */
static int client_new (lua_State *L) {
  Client *c;
  luaL_checktype(L, 1, LUA_TTABLE);
  c = (Client *)lua_newuserdatauv(L, sizeof(Client), 1);
  memset(c, 0, sizeof(*c));  /* all empty: __gc can free a half-made one */
  luaL_setmetatable(L, CLIENT_TYPE);
  buf_init(&c->body, MAX_BODY);
  buf_init(&c->reply, MAX_REPLY);
  buf_init(&c->head, MAX_HEAD);
  buf_init(&c->url, MAX_URL_BYTES);
  read_options(L, c);
  lua_pushfstring(L, "%s%s", c->base_url, CALL_PATH);
  c->call_url = strdup(lua_tostring(L, -1));
  lua_pop(L, 1);
  multi_init(L, c);
  if (c->call_url == NULL || (c->easy = curl_easy_init()) == NULL
      || !make_headers(L, c)
      || !client_setup_easy(c, c->easy, &c->reply, &c->head, c->errbuf))
    return luaL_error(L, "could not set up libcurl");
  make_strings(L, c);
  return 1;
}


static const luaL_Reg client_methods[] = {
  {"prepare", client_prepare},
  {"call", client_call},
  {"build", client_build},
  {"send", client_send},
  {"classify", client_classify},
  {"close", client_close},
  {NULL, NULL}
};


static const luaL_Reg client_metamethods[] = {
  {"__gc", client_gc},
  {"__tostring", client_tostring},
#if LUA_VERSION_NUM >= 504
  {"__close", client_close},
#endif
  {"__index", NULL},  /* placeholder */
  {NULL, NULL}
};


/* Registers the client metatable; adds core.new to the module table at
** the top of the stack. */
void client_open (lua_State *L) {
  luaL_newmetatable(L, CLIENT_TYPE);
  luaL_setfuncs(L, client_metamethods, 0);
  lua_newtable(L);
  luaL_setfuncs(L, client_methods, 0);
  multi_methods(L);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, client_new);
  lua_setfield(L, -2, "new");
}

/* }====================================================== */
