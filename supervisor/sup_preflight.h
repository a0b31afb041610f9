/* sup_preflight: what a node needs from its host before any actor starts, checked where the
 * operator sees the answer (`raftvisor config check`, `raftvisor start`) instead of as an actor's
 * exit code in a log: the data-dir's parent exists (an unmounted data disk must not be replaced
 * silently by the root file system), this node's host resolves and is an address of this
 * machine, and the ports its actors will listen on are free. I/O: getaddrinfo, bind. */
#ifndef SUP_PREFLIGHT_H
#define SUP_PREFLIGHT_H

#include <stdbool.h>

#include "cfg_node.h"

/* Checks that the parent of node.data-dir exists and is a directory (the data-dir itself may be
 * missing: start creates it). Returns 0 or RV_ECONFIG naming the key and the path. */
int sup_preflight_dirs(const cfg_node_t *cfg, rv_err_t *err);

/* Refuses settings the configuration accepts but this build cannot carry out yet, rather than
 * start a node that silently ignores them: ots.recovery-mode (no recovery from the remote copy
 * exists yet). Returns 0 or RV_ECONFIG naming the key and saying so. */
int sup_preflight_features(const cfg_node_t *cfg, rv_err_t *err);

/* Checks that this node's host (cluster.nodes[self].host) resolves and is local (a socket can
 * bind to it), and, when check_ports, that every port an actor of this node will listen on is
 * free (raft-port for raft-peer, client-port for kv-store, metrics.listen). Returns 0, or RV_ECONFIG naming the
 * key, the host or port and the system's reason. */
int sup_preflight_network(const cfg_node_t *cfg, bool check_ports, rv_err_t *err);

#endif
