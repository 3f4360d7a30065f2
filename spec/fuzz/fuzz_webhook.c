/*
** fuzz_webhook.c: libFuzzer target for the webhook parser. Each input
** is a request body, given as is to check_webhook.lua, which checks
** that require("ringg.webhook").parse returns an event or nil and a
** "protocol" error, and never raises.
*/

#include <stdint.h>

#include "harness.h"


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);


int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size) {
  lua_State *L = harness_state("webhook");
  lua_pushlstring(L, (const char *)data, size);
  harness_check(L, 1);
  return 0;
}
