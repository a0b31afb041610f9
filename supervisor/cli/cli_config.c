/* raftvisor config: checks a node's YAML, prints its effective values, documents every key. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "sup_lock.h"
#include "sup_preflight.h"

static void s_help(void) {
  printf(
      "usage: raftvisor config check -c FILE   validate FILE; print \"ok\" or the first\n"
      "                                        problem (file:line:column: key: what); also\n"
      "                                        checks this host: the data-dir's parent\n"
      "                                        exists, the node's host is this machine, its\n"
      "                                        ports are free (unless the node runs)\n"
      "       raftvisor config show -c FILE    print the effective configuration (defaults\n"
      "                                        filled in, secrets hidden)\n"
      "       raftvisor config keys            document every key: path, alias, type,\n"
      "                                        default (Markdown)\n"
      "Exit codes: 0 ok, 1 invalid configuration, 2 usage error.\n");
}

int cli_config_main(int argc, char **argv) {
  if (argc < 2 || cli_is_help(argv[1])) {
    s_help();
    return argc < 2 ? CLI_USAGE : CLI_OK;
  }
  const char *verb = argv[1], *config = NULL;
  for (int i = 2; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      s_help();
      return CLI_OK;
    } else if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
      config = argv[++i];
    } else {
      return cli_usage_error("config", "unexpected argument \"%s\"", argv[i]);
    }
  }
  if (strcmp(verb, "keys") == 0) {
    fflush(stdout);
    cfg_keys_document(STDOUT_FILENO);
    return CLI_OK;
  }
  if (strcmp(verb, "check") != 0 && strcmp(verb, "show") != 0)
    return cli_usage_error("config", "unknown action \"%s\" (check, show or keys)", verb);
  if (!config) return cli_usage_error("config", "missing -c FILE (the node's YAML)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  if (strcmp(verb, "check") == 0) {
    /* the host as well as the file: a running node holds its own ports, so they are checked
     * only while it is stopped */
    pid_t pid = 0;
    rv_err_t err;
    bool running = sup_lock_holder(cfg, &pid, &err) == RV_OK && sup_pid_alive(pid);
    if (sup_preflight_dirs(cfg, &err) || sup_preflight_features(cfg, &err) ||
        sup_preflight_network(cfg, !running, &err)) {
      fprintf(stderr, "raftvisor: %s\n", err.msg);
      cfg_node_destroy(&cfg);
      return CLI_FAILURE;
    }
    printf("ok: %s (node %s, cluster %s, %d nodes, %d actors%s)\n", config, cfg->node_id,
           cfg->cluster_id, cfg->nnodes, cfg->nactors,
           running ? "; running, so its ports were not checked" : "");
    if (cfg->security_insecure)
      printf("INSECURE: security.insecure is true: no authentication, no encryption on the raft "
             "and client ports\n");
    else
      printf("security: CURVE, %d node keys pinned, %d clients accepted\n", cfg->nnodes,
             cfg->nclients);
  } else {
    fflush(stdout);
    cfg_node_dump(cfg, STDOUT_FILENO);
  }
  cfg_node_destroy(&cfg);
  return CLI_OK;
}
