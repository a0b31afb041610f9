/* raftvisor-fencer: runs the configured fencing methods (ha.fencing.methods) against another
 * node on request (FenceRequest), as a supervised action: requests are persisted, and a fence
 * cut short by a crash is retried after the restart. Logic: core/fence_core; I/O: shell/. */
#include "fence_actor.h"

int main(int argc, char **argv) {
  static fence_actor_t state;
  const rv_actor_def_t def = {.name = "fencer",
                              .start = fence_actor_start,
                              .message = fence_actor_message,
                              .stop = fence_actor_stop};
  return rv_actor_main(argc, argv, &def, &state);
}
