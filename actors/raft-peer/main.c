/* raftvisor-raft-peer: the Raft consensus actor of a node (see shell/raft_peer.h). */
#include <stdlib.h>

#include "raft_peer.h"

int main(int argc, char **argv) {
  raft_peer_t *state = raft_peer_new();
  if (!state) return RV_EXIT_TEMPFAIL;
  int code = rv_actor_main(argc, argv, &raft_peer_def, state);
  free(state);
  return code;
}
