/*
** easy_baseline.c: the C baseline of the pair "one at a time": one
** libcurl easy handle, reused (so the connection is kept alive), POSTing
** the call body again and again, as fast as the replies come.
**
**   easy_baseline BASE_URL BODY_FILE SECONDS   -> "rate <calls/s>"
*/

#include "baseline.h"


/* One request on the aimed handle; the reply is kept, then dropped. */
static void post_once (CURL *easy, Reply *reply) {
  reply->len = 0;
  check_reply(easy, curl_easy_perform(easy));
}


int main (int argc, char **argv) {
  Args args;
  Reply reply = {NULL, 0, 0};
  struct curl_slist *headers;
  CURL *easy;
  double start, stop, t;
  long ops = 0, warm = 0;
  read_args(&args, argc, argv, 0);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK
      || (easy = curl_easy_init()) == NULL)
    die("libcurl", "cannot start");
  headers = make_headers();
  setup_easy(easy, &args, headers, &reply);
  stop = now_seconds() + args.seconds / 10;  /* warm-up */
  while (now_seconds() < stop) {
    post_once(easy, &reply);
    warm++;
  }
  start = now_seconds();
  stop = start + args.seconds;
  do {
    post_once(easy, &reply);
    ops++;
  } while ((t = now_seconds()) < stop);
  printf("rate %.6g\nops %ld\ntotal %ld\n", (double)ops / (t - start), ops,
         ops + warm);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  free(reply.data);
  free(args.body);
  return 0;
}
