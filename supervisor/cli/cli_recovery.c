/* raftvisor finish-recovery: leave recovery mode without a restart. A cluster rebuilt from its
 * remote copy (ots.recovery-mode) stays read-only once the recovery reaches FINISH, so that the
 * operator can compare counts first (the published procedure); this makes it writable: one
 * replicated RecoveryLeave through the leader (FS_RECOVERY_LEAVE over any node's client port),
 * refused while the recovery is RUNNING. The published way works too: set ots.recovery-mode
 * false and restart; the leader's replicator then leaves a FINISHed recovery by itself. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_auth.h"
#include "rv_client.h"

#define S_RETRY_MS 10000 /* an election, a failover: then "is the cluster running?" */

static void s_help(void) {
  printf(
      "usage: raftvisor finish-recovery -c FILE [--json]\n"
      "Makes a cluster rebuilt from its remote copy writable: leaves recovery mode once the\n"
      "recovery reached state=FINISH (see `raftvisor meta-status --detail`), through the\n"
      "Raft leader, without a restart. Refused while the recovery is RUNNING (the namespace\n"
      "is then incomplete and stays read-only). Idempotent: on a cluster not in recovery\n"
      "mode it says so and succeeds. Turn ots.recovery-mode off in every node's YAML too, or\n"
      "the next restart's replicator loads nothing but keeps reporting recovery mode.\n"
      "  -c, --config FILE   a node's YAML (cluster.nodes gives every client port)\n"
      "      --key FILE      our CURVE key pair (default: $RV_CLIENT_KEY, else the YAML's\n"
      "                      security.client-key)\n"
      "      --json          one JSON object: {\"ok\",\"code\",\"error\",\"message\",\"left\"}\n"
      "Exit codes: 0 left (or nothing to leave), 1 refused or failed, 2 usage error,\n"
      "3 no node answered (within 10 s).\n");
}

int cli_recovery_main(int argc, char **argv) {
  const char *config = NULL, *key = NULL;
  bool json = false;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config}, {"--json", NULL, &json, NULL},
                            {"--key", NULL, NULL, &key},
                            {NULL}};
  int prc = cli_parse("finish-recovery", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("finish-recovery", "missing -c FILE (a node's YAML)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  char nodes[CFG_MAX_NODES * RV_CLIENT_ADDR_MAX];
  cli_cluster_nodes(cfg, nodes, sizeof nodes);
  rv_client_t *c = NULL;
  rv_err_t err;
  rv_client_result_t res = {0};
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.retry_ms = S_RETRY_MS;
  static cli_auth_t auth; /* CURVE: our key pair and the nodes' public keys (o borrows them) */
  rc = cli_auth_load("finish-recovery", cfg, key, NULL, &auth, &o);
  cfg_node_destroy(&cfg);
  if (rc) return rc;
  if (rv_client_new(nodes, &o, &c, &err) != RV_OK) {
    fprintf(stderr, "raftvisor finish-recovery: %s\n", err.msg);
    return CLI_FAILURE;
  }
  rv_client_recovery_leave(c, &res);
  bool unreachable = res.code == RV_ETIMEDOUT && res.attempts == 0;
  char msg[RV_CLIENT_MSG_MAX + 64];
  if (res.code == RV_OK)
    snprintf(msg, sizeof msg, "%s",
             res.n ? "recovery mode left: the namespace is writable"
                   : "not in recovery mode: nothing to leave");
  else
    snprintf(msg, sizeof msg, "%s%s", res.msg, unreachable ? "; is the cluster running?" : "");
  if (json) {
    printf("{\"ok\":%s,\"code\":%d,\"error\":", res.code ? "false" : "true", res.code);
    if (res.code)
      cli_json_str(rv_code_name(res.code));
    else
      printf("null");
    printf(",\"message\":");
    cli_json_str(msg);
    printf(",\"left\":%s}\n", res.code == RV_OK && res.n ? "true" : "false");
  } else if (res.code) {
    fprintf(stderr, "raftvisor finish-recovery: %s\n", msg);
  } else {
    printf("%s\n", msg);
  }
  rc = res.code == RV_OK ? CLI_OK : unreachable ? CLI_NOT_RUNNING : CLI_FAILURE;
  rv_client_result_clear(&res);
  rv_client_destroy(&c);
  return rc;
}
