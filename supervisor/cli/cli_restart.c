/* raftvisor restart ACTOR: restarts one actor of a running node (SIGTERM, wait, respawn). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void s_help(void) {
  printf(
      "usage: raftvisor restart -c FILE ACTOR\n"
      "Restarts one actor of a running node: SIGTERM, SIGKILL past its shutdown timeout, then a\n"
      "new process at once. An operator's restart does not count against the restart\n"
      "intensity. 'raftvisor status -c FILE' lists the actors.\n"
      "  -c, --config FILE  the node's YAML configuration (required)\n"
      "Exit codes: 0 restarting, 1 failure (unknown actor, node stopping), 2 usage error,\n"
      "3 node not running.\n");
}

int cli_restart_main(int argc, char **argv) {
  const char *config = NULL, *actor = NULL;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config}, {NULL}};
  int prc = cli_parse("restart", argc, argv, opts, s_help, &actor, 1, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("restart", "missing -c FILE (the node's YAML)");
  if (!actor) return cli_usage_error("restart", "missing ACTOR (the name of the actor)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  if ((rc = cli_require_running(cfg, NULL))) goto out;
  Rv__RestartRequest req = RV__RESTART_REQUEST__INIT;
  req.actor = (char *)actor;
  rc = cli_request_reply("restart", cfg, RV_MSG_RESTART_REQUEST, &req.base, 5000);
out:
  cfg_node_destroy(&cfg);
  return rc;
}
