/* raftvisor-ots-replicator: the off-cluster copy of the namespace (issue 9): the leader's
 * replicator uploads every committed change to the remote store (ots.endpoint: Tablestore or a
 * shared directory); every node's reads the remote meta row so that its kv-store trims the
 * change log. See README.md and shell/repl_actor.h. */
#include "repl_actor.h"

int main(int argc, char **argv) {
  repl_actor_t *state = repl_actor_new();
  if (!state) return RV_EXIT_TEMPFAIL;
  int code = rv_actor_main(argc, argv, &repl_actor_def, state);
  repl_actor_destroy(&state);
  return code;
}
