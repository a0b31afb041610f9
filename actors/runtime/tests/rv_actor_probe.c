/* rv-actor-probe: the smallest actor, for test_rv_actor: it answers every message that is not
 * the runtime's with a Reply counting what it saw ("messages=N drained=M"), says it is unhealthy
 * when told, fails its start when told (--fail-start CODE), and logs its stop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rv_actor.h"

typedef struct {
  int messages, drained;
  bool unhealthy;
} s_probe_t;

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  s_probe_t *p = state;
  char **argv = rv_actor_argv(a);
  for (int i = 0; i < rv_actor_argc(a); i++) {
    if (strcmp(argv[i], "--unhealthy") == 0) p->unhealthy = true;
    if (strcmp(argv[i], "--fail-start") == 0 && i + 1 < rv_actor_argc(a))
      return rv_err_set(err, atoi(argv[i + 1]), "told to fail its start");
  }
  return RV_OK;
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  s_probe_t *p = state;
  p->messages++;
  char text[64];
  snprintf(text, sizeof text, "messages=%d drained=%d", p->messages, p->drained);
  Rv__Reply r = RV__REPLY__INIT;
  r.message = text;
  rv_actor_reply(a, m, RV_MSG_REPLY, &r.base);
}

static void s_drained(rv_actor_t *a, void *state) {
  (void)a;
  ((s_probe_t *)state)->drained++;
}

static void s_stop(rv_actor_t *a, void *state) {
  (void)a;
  rv_info("probe stop after %d messages", ((s_probe_t *)state)->messages);
}

static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  (void)a;
  if (((s_probe_t *)state)->unhealthy) snprintf(reason, len, "told to be unhealthy");
  return !((s_probe_t *)state)->unhealthy;
}

int main(int argc, char **argv) {
  static const rv_actor_def_t def = {.name = "probe", .start = s_start, .message = s_message,
                                     .drained = s_drained, .stop = s_stop, .health = s_health};
  s_probe_t state = {0};
  return rv_actor_main(argc, argv, &def, &state);
}
