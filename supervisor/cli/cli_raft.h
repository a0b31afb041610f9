/* The parts of `raftvisor raft` that take more than one request (cli_raft_rejoin.c). */
#ifndef CLI_RAFT_H
#define CLI_RAFT_H

#include <stdbool.h>

#include "cfg_node.h"

/* `raftvisor raft rejoin NODE` against the node cfg describes (the leader): removes NODE if it is
 * a member, adds it as a learner, and, if it was a voter, waits up to timeout_s for it to catch
 * up and promotes it. Prints the outcome (text, or one JSON object with json); returns CLI_OK or
 * CLI_FAILURE. */
int cli_raft_rejoin(const cfg_node_t *cfg, const char *node, int timeout_s, bool json);

#endif
