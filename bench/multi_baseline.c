/*
** multi_baseline.c: the C baseline of the pair "16 in flight" (and of
** the in-flight table): a curl multi handle with IN_FLIGHT easy handles,
** each put back to work as soon as its reply is in, so that IN_FLIGHT
** requests are always on the wire over at most IN_FLIGHT connections.
**
**   multi_baseline BASE_URL BODY_FILE SECONDS IN_FLIGHT
**                                              -> "rate <calls/s>"
*/

#include "baseline.h"


typedef struct Slot {
  CURL *easy;
  Reply reply;
} Slot;


/* Takes in the finished transfers and starts them again; returns how
** many finished. */
static long recycle (CURLM *multi) {
  CURLMsg *msg;
  int left;
  long done = 0;
  while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
    Slot *slot = NULL;
    if (msg->msg != CURLMSG_DONE)
      continue;
    check_reply(msg->easy_handle, msg->data.result);
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&slot);
    curl_multi_remove_handle(multi, slot->easy);
    slot->reply.len = 0;
    if (curl_multi_add_handle(multi, slot->easy) != CURLM_OK)
      die("curl_multi_add_handle", "refused");
    done++;
  }
  return done;
}


/* Drives the transfers until the clock reaches 'until'; returns how
** many finished. */
static long drive (CURLM *multi, double until) {
  long done = 0;
  int running;
  do {
    curl_multi_perform(multi, &running);
    done += recycle(multi);
    curl_multi_poll(multi, NULL, 0, 100, NULL);
  } while (now_seconds() < until);
  return done;
}


int main (int argc, char **argv) {
  Args args;
  struct curl_slist *headers;
  CURLM *multi;
  Slot *slots;
  double start, t;
  long ops, warm;
  int i;
  read_args(&args, argc, argv, 1);
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK
      || (multi = curl_multi_init()) == NULL
      || (slots = calloc((size_t)args.in_flight, sizeof(Slot))) == NULL)
    die("libcurl", "cannot start");
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)args.in_flight);
  headers = make_headers();
  for (i = 0; i < args.in_flight; i++) {
    if ((slots[i].easy = curl_easy_init()) == NULL)
      die("libcurl", "cannot start");
    setup_easy(slots[i].easy, &args, headers, &slots[i].reply);
    curl_easy_setopt(slots[i].easy, CURLOPT_PRIVATE, &slots[i]);
    curl_multi_add_handle(multi, slots[i].easy);
  }
  warm = drive(multi, now_seconds() + args.seconds / 10);  /* warm-up */
  start = now_seconds();
  ops = drive(multi, start + args.seconds);
  t = now_seconds();
  printf("rate %.6g\nops %ld\ntotal %ld\n", (double)ops / (t - start), ops,
         ops + warm);
  for (i = 0; i < args.in_flight; i++) {
    curl_multi_remove_handle(multi, slots[i].easy);
    curl_easy_cleanup(slots[i].easy);
    free(slots[i].reply.data);
  }
  curl_multi_cleanup(multi);
  curl_slist_free_all(headers);
  curl_global_cleanup();
  free(slots);
  free(args.body);
  return 0;
}
