/* raftvisor-kv-store: the replicated namespace of a node: applies Raft's committed entries to
 * the namespace in RocksDB and serves clients on the node's client-port (see
 * shell/kv_actor.h). */
#include "kv_actor.h"

int main(int argc, char **argv) {
  kv_actor_t *state = kv_actor_new();
  if (!state) return RV_EXIT_TEMPFAIL;
  int code = rv_actor_main(argc, argv, &kv_actor_def, state);
  kv_actor_destroy(&state);
  return code;
}
