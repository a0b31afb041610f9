/* sup_node: the running supervisor of one node (I/O shell around sup_core). It prepares the
 * node's directories, takes the node lock, opens the supervisor's mailbox, the control socket
 * (ROUTER, for the CLI) and the tap proxy (XSUB <- actors' publishers, XPUB -> any number of
 * `raftvisor tap`), spawns the actors through sup_core's actions and runs one poll loop
 * (signals through a signalfd, child exits by SIGCHLD + waitpid, timers from the core's next
 * deadline) until the node stops. */
#ifndef SUP_NODE_H
#define SUP_NODE_H

#include <stdint.h>

#include "cfg_node.h"

/* Creates the node's data, log and run directories (run: mode 0700). Returns 0 or RV_EIO. */
int sup_node_prepare_dirs(const cfg_node_t *cfg, rv_err_t *err);

/* Runs the node described by cfg (borrowed) until it stops; returns the process exit code
 * (0 after an operator's stop, 1 when it gave up or could not start; the reason is logged and,
 * when ready_fd >= 0, written there). When the node is up, "up <pid>\n" is written to ready_fd
 * (which is then closed): `raftvisor start --daemon` waits on it. */
int sup_node_run(const cfg_node_t *cfg, int ready_fd);

/* How long a fence may take at most: every configured method at its timeout (sshfence's with
 * its connect timeout), plus time for the fencer to be restarted mid-fence. The supervisor waits
 * this long for the fencer's FenceResult before answering RV_ETIMEDOUT; the CLI a little more. */
static inline uint64_t sup_fence_budget_ms(const cfg_node_t *cfg) {
  /* every method at its timeout (sshfence also connects), plus a fencer restart or two; inline,
   * so that the CLI (`raftvisor fence`) does not link the supervisor's shell for it */
  uint64_t per = (uint64_t)cfg->fence_shell_timeout_ms + (uint64_t)cfg->ssh_connect_timeout_ms;
  return (uint64_t)(cfg->nfence_methods > 0 ? cfg->nfence_methods : 1) * per + 30000;
}

#endif
