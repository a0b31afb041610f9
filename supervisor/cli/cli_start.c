/* raftvisor start: runs a node's supervisor in the foreground, or detached (--daemon) returning
 * once the node is up or has failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rv_log.h"
#include "sup_node.h"

static void s_help(void) {
  printf(
      "usage: raftvisor start -c FILE [--daemon]\n"
      "Starts the node that FILE (the node's YAML) describes: its supervisor, which starts the\n"
      "configured actors in order, restarts them when they fail, and stops them in reverse\n"
      "order on SIGTERM, SIGINT or 'raftvisor stop'.\n"
      "  -c, --config FILE  the node's YAML configuration (required)\n"
      "  --daemon           detach; return once every actor is ready (exit 0) or the node\n"
      "                     failed to start (exit 1, with the reason); the supervisor then\n"
      "                     logs to <log-dir>/supervisor.log\n"
      "Actors log to <log-dir>/<actor>.log. Exit codes: 0 stopped cleanly (or, with --daemon,\n"
      "up), 1 failure, 2 usage error.\n");
}

static int s_daemon(cfg_node_t *cfg) {
  rv_err_t err;
  if (sup_node_prepare_dirs(cfg, &err) != RV_OK) {
    fprintf(stderr, "raftvisor start: %s\n", err.msg);
    return CLI_FAILURE;
  }
  char logpath[CFG_PATH_MAX + 32];
  snprintf(logpath, sizeof logpath, "%s/supervisor.log", cfg->log_dir);
  int logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (logfd < 0) {
    fprintf(stderr, "raftvisor start: cannot open %s: %s\n", logpath, strerror(errno));
    return CLI_FAILURE;
  }
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    fprintf(stderr, "raftvisor start: cannot create a pipe: %s\n", strerror(errno));
    return CLI_FAILURE;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "raftvisor start: cannot fork: %s\n", strerror(errno));
    return CLI_FAILURE;
  }
  if (pid == 0) {
    close(pfd[0]);
    setsid();
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    dup2(logfd, STDOUT_FILENO);
    dup2(logfd, STDERR_FILENO);
    close(logfd);
    int code = sup_node_run(cfg, pfd[1]);
    cfg_node_destroy(&cfg);
    /* exit, not _exit: ZeroMQ's context is terminated at exit, which is what delivers the
     * last replies (the StopReply) within the sockets' linger */
    exit(code);
  }
  close(pfd[1]);
  close(logfd);
  int timeout_ms = cfg->start_timeout_ms * (cfg->nactors + 1) + 5000;
  char buf[1024];
  size_t got = 0;
  struct pollfd p = {.fd = pfd[0], .events = POLLIN};
  uint64_t deadline = rv_mono_ms() + (uint64_t)timeout_ms;
  while (got < sizeof buf - 1) {
    uint64_t now = rv_mono_ms();
    if (now >= deadline) break;
    int r = poll(&p, 1, (int)(deadline - now));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    ssize_t n = read(pfd[0], buf + got, sizeof buf - 1 - got);
    if (n <= 0) break;
    got += (size_t)n;
    if (memchr(buf, '\n', got)) break;
  }
  close(pfd[0]);
  buf[got] = '\0';
  char *nl = strchr(buf, '\n');
  if (nl) *nl = '\0';
  if (strncmp(buf, "up ", 3) == 0) {
    if (cfg->security_insecure)
      printf("INSECURE: security.insecure is true: node %s authenticates no one and encrypts "
             "nothing on its raft and client ports\n", cfg->node_id);
    printf("node %s is up: supervisor pid %s, %d actors ('raftvisor status -c %s')\n",
           cfg->node_id, buf + 3, cfg->nactors, cfg->source);
    return CLI_OK;
  }
  if (strncmp(buf, "failed ", 7) == 0) {
    fprintf(stderr, "raftvisor start: node %s failed to start: %s (see %s)\n", cfg->node_id,
            buf + 7, logpath);
    return CLI_FAILURE;
  }
  if (got == 0 && rv_mono_ms() >= deadline)
    fprintf(stderr,
            "raftvisor start: node %s did not come up within %d ms; it may still be starting "
            "(see %s, 'raftvisor status -c %s')\n",
            cfg->node_id, timeout_ms, logpath, cfg->source);
  else
    fprintf(stderr, "raftvisor start: the supervisor of node %s exited before it was up (see %s)\n",
            cfg->node_id, logpath);
  return CLI_FAILURE;
}

int cli_start_main(int argc, char **argv) {
  const char *config = NULL;
  bool daemon = false;
  const cli_opt_t opts[] = {
      {"--config", "-c", NULL, &config}, {"--daemon", "-d", &daemon, NULL}, {NULL}};
  int prc = cli_parse("start", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("start", "missing -c FILE (the node's YAML)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  rc = daemon ? s_daemon(cfg) : sup_node_run(cfg, -1);
  cfg_node_destroy(&cfg);
  return rc;
}
