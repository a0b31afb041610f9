/* fence_ssh: what sshfence runs: the OpenSSH client's command line, and the script it runs on
 * the target host (sent on ssh's stdin).
 *
 * HDFS' sshfence kills what listens on the NameNode's port (fuser -k -n tcp PORT). Here that
 * would be one actor, which its supervisor restarts within milliseconds; fenced means no process
 * of the target node runs and nothing restarts it. So the script finds the processes that
 * listen on the target's raft-port and client-port, takes their supervisor from their
 * environment (RV_SUPERVISOR_PID, which every actor carries), stops that supervisor (SIGSTOP,
 * so it restarts nothing), kills it and every process of its node (SIGKILL), and waits, with a
 * deadline, until none is left and nothing listens on the ports. Exit 0 = fenced. When nothing
 * of the node runs it succeeds only if nothing listens on the ports; a port held by a process
 * that is not a raftvisor actor (or that this user cannot see) is a failure, never a kill.
 * The target host needs bash, ss (iproute2) and /proc. */
#ifndef FENCE_SSH_H
#define FENCE_SSH_H

#include "cfg_node.h"
#include "fence_methods.h"

/* The remote script (static). */
extern const char fence_ssh_script[];

/* ssh's argv for method m against target: batch mode (never a password prompt), the connect
 * timeout and private keys of the configuration, host keys learnt on first use into
 * known_hosts (the fencer's own file), m's user and port, then "bash -s -- RAFT CLIENT".
 * Returns a NULL-terminated array (caller frees with fence_ssh_argv_free), or NULL (ENOMEM). */
char **fence_ssh_argv(const cfg_node_t *cfg, const fence_method_t *m, const cfg_peer_t *target,
                      const char *known_hosts);
void fence_ssh_argv_free(char ***argv);

#endif
