/* raftvisor raft: Raft membership administration through any node (add-learner, promote,
 * remove, transfer). The request goes to the node's supervisor, which relays it to its
 * raft-peer; only the leader acts, any other node answers "not the leader" naming it. A change is
 * answered once its configuration entry has committed (or failed, or after the supervisor's
 * relay timeout). I/O: the control socket only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_raft.h"

static void s_help(void) {
  printf(
      "usage: raftvisor raft -c FILE [--json] add-learner NODE | promote NODE | remove NODE | "
      "transfer NODE | rejoin NODE [--timeout S]\n"
      "Changes the Raft membership, one server at a time, while the cluster keeps serving:\n"
      "  add-learner NODE  NODE (a node of cluster.nodes, e.g. a spare with voter: false) starts\n"
      "                    receiving the log without voting; answered once the change commits\n"
      "  promote NODE      the learner NODE becomes a voter (wait until its match index in\n"
      "                    'raftvisor status' on the leader has caught up first)\n"
      "  remove NODE       NODE leaves the configuration (voter or learner); a removed node\n"
      "                    keeps running and shows 'not-member' in its status until stopped\n"
      "  transfer NODE     hand leadership to the voter NODE (answered when NODE leads, or\n"
      "                    with why not: it did not catch up and win in time, another won)\n"
      "  rejoin NODE       NODE lost its data-dir and came back with a new incarnation: its\n"
      "                    peers ignore it ('strangers' in 'raftvisor status') so that it can\n"
      "                    never vote twice in a term; this removes it, adds it as a learner\n"
      "                    (it receives a snapshot) and, if it was a voter, promotes it once it\n"
      "                    has caught up (waiting up to --timeout S seconds, default 120)\n"
      "Only the leader acts: against another node the answer names the leader to run it against.\n"
      "One change at a time: a second one while the first has not committed is refused (retry).\n"
      "  -c, --config FILE  the YAML of the node to ask (required)\n"
      "  --json             the answer as one JSON object on stdout: ok, code, error (the\n"
      "                     code's name, e.g. \"ENOTLEADER\", or null), message\n"
      "Exit codes: 0 done, 1 refused or failed (the message says why), 2 usage error,\n"
      "3 node not running.\n");
}

static const struct {
  const char *name;
  Rv__RaftAdminOp op;
} s_ops[] = {
    {"add-learner", RV__RAFT_ADMIN_OP__RAFT_ADMIN_ADD_LEARNER},
    {"promote", RV__RAFT_ADMIN_OP__RAFT_ADMIN_PROMOTE},
    {"remove", RV__RAFT_ADMIN_OP__RAFT_ADMIN_REMOVE},
    {"transfer", RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER},
};

int cli_raft_main(int argc, char **argv) {
  const char *config = NULL, *pos[2] = {NULL, NULL};
  int npos = 0;
  const char *timeout = NULL;
  bool json = false;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config}, {"--json", NULL, &json, NULL},
                            {"--timeout", NULL, NULL, &timeout}, {NULL}};
  int prc = cli_parse("raft", argc, argv, opts, s_help, pos, 2, &npos);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("raft", "missing -c FILE (the node's YAML)");
  if (npos < 1)
    return cli_usage_error("raft", "missing the operation (add-learner, promote, remove, transfer, "
                           "rejoin)");
  bool rejoin = strcmp(pos[0], "rejoin") == 0;
  int timeout_s = 120;
  if (timeout) {
    char *end;
    long v = strtol(timeout, &end, 10);
    if (!rejoin) return cli_usage_error("raft", "--timeout goes with rejoin");
    if (!*timeout || *end || v < 1 || v > 86400)
      return cli_usage_error("raft", "--timeout: expected seconds 1..86400, got \"%s\"", timeout);
    timeout_s = (int)v;
  }
  int op = rejoin ? 0 : -1;
  for (size_t i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
    if (strcmp(pos[0], s_ops[i].name) == 0) op = (int)i;
  if (op < 0)
    return cli_usage_error("raft", "unknown operation \"%s\" (add-learner, promote, remove, "
                           "transfer, rejoin)", pos[0]);
  if (npos < 2 || !pos[1][0])
    return cli_usage_error("raft", "%s: missing NODE (a node id of cluster.nodes)", pos[0]);
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  int known = 0;
  for (int i = 0; i < cfg->nnodes; i++) known |= strcmp(cfg->nodes[i].id, pos[1]) == 0;
  if (!known) {
    fprintf(stderr, "raftvisor raft: %s: no node \"%s\" in cluster.nodes of %s\n", pos[0], pos[1],
            config);
    rc = CLI_FAILURE;
    goto out;
  }
  if ((rc = cli_require_running(cfg, NULL))) goto out;
  if (rejoin) {
    rc = cli_raft_rejoin(cfg, pos[1], timeout_s, json);
    goto out;
  }
  Rv__RaftAdmin req = RV__RAFT_ADMIN__INIT;
  req.op = s_ops[op].op;
  req.node = (char *)pos[1];
  /* longer than the supervisor's relay timeout, which answers RV_ETIMEDOUT itself */
  rc = cli_request_reply_as("raft", cfg, RV_MSG_RAFT_ADMIN, &req.base, 20000, json);
out:
  cfg_node_destroy(&cfg);
  return rc;
}
