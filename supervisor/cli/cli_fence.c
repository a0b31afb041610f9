/* raftvisor fence TARGET: asks the node's fencer, through its supervisor, to fence node TARGET
 * with the configured methods (ha.fencing.methods), and prints each attempt's outcome. The
 * answer comes when some method has fenced TARGET or all have failed; a fencer restarted
 * mid-fence retries, and the answer still comes. I/O: the control socket only. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sup_node.h"

static void s_help(void) {
  printf(
      "usage: raftvisor fence -c FILE [--reason TEXT] TARGET\n"
      "Fences node TARGET (a node id of cluster.nodes) from the node that FILE describes: its\n"
      "fencer tries the methods of ha.fencing.methods in order until one succeeds, as HDFS'\n"
      "NodeFencer does; each method runs with a timeout (ha.fencing.shell-timeout-ms). Prints\n"
      "every attempt, then the verdict.\n"
      "  -c, --config FILE  the YAML of the node whose fencer acts (required)\n"
      "  --reason TEXT      why, for the logs (default \"raftvisor fence\")\n"
      "Exit codes: 0 fenced, 1 not fenced (every method failed) or refused, 2 usage error,\n"
      "3 node not running.\n");
}

static const char *s_outcome(Rv__FenceOutcome o) {
  switch (o) {
    case RV__FENCE_OUTCOME__FENCE_FENCED: return "fenced";
    case RV__FENCE_OUTCOME__FENCE_FAILED: return "failed";
    case RV__FENCE_OUTCOME__FENCE_TIMED_OUT: return "timed out";
    case RV__FENCE_OUTCOME__FENCE_INTERRUPTED: return "interrupted";
    default: return "started";
  }
}

int cli_fence_main(int argc, char **argv) {
  const char *config = NULL, *reason = "raftvisor fence", *pos[1] = {NULL};
  int npos = 0;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config}, {"--reason", NULL, NULL, &reason},
                            {NULL}};
  int prc = cli_parse("fence", argc, argv, opts, s_help, pos, 1, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("fence", "missing -c FILE (the node's YAML)");
  if (npos < 1 || !pos[0][0])
    return cli_usage_error("fence", "missing TARGET (a node id of cluster.nodes)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  bool known = false;
  for (int i = 0; i < cfg->nnodes; i++) known |= strcmp(cfg->nodes[i].id, pos[0]) == 0;
  if (!known) {
    fprintf(stderr, "raftvisor fence: no node \"%s\" in cluster.nodes of %s\n", pos[0], config);
    rc = CLI_FAILURE;
    goto out;
  }
  if (cfg->nfence_methods == 0) {
    fprintf(stderr, "raftvisor fence: %s configures no fencing methods (ha.fencing.methods, or "
                    "dfs.ha.fencing.methods)\n", config);
    rc = CLI_FAILURE;
    goto out;
  }
  if ((rc = cli_require_running(cfg, NULL))) goto out;
  Rv__FenceRequest req = RV__FENCE_REQUEST__INIT;
  req.target = (char *)pos[0];
  req.reason = (char *)reason;
  rv_msg_t reply;
  rv_err_t err;
  /* longer than the supervisor's own wait, which answers RV_ETIMEDOUT itself */
  int timeout = (int)(sup_fence_budget_ms(cfg) + 5000);
  if (cli_request(cfg, RV_MSG_FENCE_REQUEST, &req.base, timeout, &reply, &err) != RV_OK) {
    fprintf(stderr, "raftvisor fence: %s\n", err.msg);
    rc = CLI_FAILURE;
    goto out;
  }
  if (reply.type == RV_MSG_REPLY) { /* the supervisor refused or gave up */
    fprintf(stderr, "raftvisor fence: %s\n", ((const Rv__Reply *)reply.body)->message);
    rc = CLI_FAILURE;
  } else if (reply.type != RV_MSG_FENCE_RESULT) {
    fprintf(stderr, "raftvisor fence: unexpected answer from node %s\n", cfg->node_id);
    rc = CLI_FAILURE;
  } else {
    const Rv__FenceResult *r = (const Rv__FenceResult *)reply.body;
    for (size_t i = 0; i < r->n_attempts; i++) {
      const Rv__FenceAttempt *a = r->attempts[i];
      printf("method %u/%d %s: attempt %u: %s: %s (%llu ms)\n", a->method_index + 1,
             cfg->nfence_methods, a->method, a->attempt, s_outcome(a->outcome), a->detail,
             (unsigned long long)a->elapsed_ms);
    }
    if (r->restarts)
      printf("the fencer was restarted %u time%s during this fence; it retried\n", r->restarts,
             r->restarts == 1 ? "" : "s");
    if (r->fenced) {
      printf("%s\n", r->message);
      rc = CLI_OK;
    } else {
      fprintf(stderr, "raftvisor fence: %s\n", r->message);
      rc = CLI_FAILURE;
    }
  }
  rv_msg_clear(&reply);
out:
  cfg_node_destroy(&cfg);
  return rc;
}
