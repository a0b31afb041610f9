/* raftvisor stop: asks a node's supervisor to stop its actors (reverse start order, SIGTERM then
 * SIGKILL at each actor's shutdown timeout), reports what had to be killed and how each actor
 * ended (an abort at exit is what a sanitizer does on a leak: it must be seen), and waits until
 * the supervisor itself is gone. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rv_log.h"
#include "sup_lock.h"

static void s_help(void) {
  printf(
      "usage: raftvisor stop -c FILE [--force] [--json]\n"
      "Stops a running node gracefully: its actors in reverse start order, each with SIGTERM\n"
      "and, past its shutdown timeout, SIGKILL; then the supervisor exits. Prints which actors\n"
      "stopped, which had to be killed and which did not end cleanly (exit code 0 on SIGTERM),\n"
      "and returns once no process of the node is left.\n"
      "  -c, --config FILE  the node's YAML configuration (required)\n"
      "  --force            SIGKILL the supervisor at once (its actors die with it)\n"
      "  --json             one JSON object: node, stopped, killed, clean (every actor ended\n"
      "                     cleanly), and actors: [{name, state_at_stop, exit, code, signal,\n"
      "                     killed, clean, restarts}] in start order\n"
      "Exit codes: 0 stopped (or was not running, as LSB init scripts do), 1 failure, 2 usage\n"
      "error.\n");
}

static void s_join(char *buf, size_t len, char **names, size_t n) {
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
  }
}

static void s_print_json(const char *node, const Rv__StopReply *r, bool gone) {
  bool clean = true;
  printf("{\"node\":");
  cli_json_str(node);
  printf(",\"supervisor_gone\":%s,\"stopped\":[", gone ? "true" : "false");
  for (size_t i = 0; i < r->n_stopped; i++) {
    printf("%s", i ? "," : "");
    cli_json_str(r->stopped[i]);
  }
  printf("],\"killed\":[");
  for (size_t i = 0; i < r->n_killed; i++) {
    printf("%s", i ? "," : "");
    cli_json_str(r->killed[i]);
  }
  printf("],\"actors\":[");
  for (size_t i = 0; i < r->n_exits; i++) {
    const Rv__ActorExit *e = r->exits[i];
    clean = clean && e->clean;
    printf("%s{\"name\":", i ? "," : "");
    cli_json_str(e->name);
    printf(",\"state_at_stop\":");
    cli_json_str(e->state_at_stop);
    printf(",\"exit\":");
    cli_json_str(e->exit);
    printf(",\"code\":%d,\"signal\":%d,\"killed\":%s,\"clean\":%s,\"restarts\":%u}", e->code,
           e->signal, e->killed ? "true" : "false", e->clean ? "true" : "false", e->restarts);
  }
  printf("],\"clean\":%s}\n", clean ? "true" : "false");
}

/* Prints "; not clean: a (killed by signal 6), b (...)" for the actors that did not end
 * cleanly, nothing if all did. */
static void s_print_unclean(const Rv__StopReply *r) {
  int k = 0;
  for (size_t i = 0; i < r->n_exits; i++) {
    const Rv__ActorExit *e = r->exits[i];
    if (e->clean) continue;
    printf("%s%s (%s%s)", k++ ? ", " : "; not clean: ", e->name, e->exit[0] ? e->exit : "never ran",
           e->killed ? " at its shutdown timeout" : "");
  }
}

/* Waits until pid is gone (a zombie counts as gone), up to ms. */
static bool s_wait_gone(pid_t pid, int ms) {
  uint64_t deadline = rv_mono_ms() + (uint64_t)ms;
  while (sup_pid_alive(pid)) {
    if (rv_mono_ms() >= deadline) return false;
    usleep(10000);
  }
  return true;
}

int cli_stop_main(int argc, char **argv) {
  const char *config = NULL;
  bool force = false, json = false;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config},
                            {"--force", NULL, &force, NULL},
                            {"--json", NULL, &json, NULL},
                            {NULL}};
  int prc = cli_parse("stop", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  if (!config) return cli_usage_error("stop", "missing -c FILE (the node's YAML)");
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  pid_t pid = 0;
  rv_err_t lerr;
  int lrc = sup_lock_holder(cfg, &pid, &lerr);
  if (lrc == RV_EPERM) {
    fprintf(stderr, "raftvisor stop: %s\n", lerr.msg);
    rc = CLI_FAILURE;
    goto out;
  }
  if (lrc != RV_OK || !sup_pid_alive(pid)) {
    /* LSB: stopping a stopped service succeeds (a service manager or a script calling stop
     * twice must not see a failure) */
    printf("node %s is not running; nothing to stop\n", cfg->node_id);
    goto out;
  }

  if (force) {
    kill(pid, SIGKILL);
    if (!s_wait_gone(pid, 5000)) {
      fprintf(stderr, "raftvisor stop: supervisor pid %d survived SIGKILL for 5 s\n", (int)pid);
      rc = CLI_FAILURE;
    } else {
      printf("node %s killed (supervisor pid %d; its actors die with it)\n", cfg->node_id,
             (int)pid);
    }
    goto out;
  }
  int timeout_ms = 10000;
  for (int i = 0; i < cfg->nactors; i++) timeout_ms += cfg->actors[i].shutdown_timeout_ms;
  Rv__StopRequest req = RV__STOP_REQUEST__INIT;
  rv_msg_t reply;
  rv_err_t err;
  if (cli_request(cfg, RV_MSG_STOP_REQUEST, &req.base, timeout_ms, &reply, &err) != RV_OK) {
    fprintf(stderr, "raftvisor stop: %s; 'raftvisor stop --force -c %s' kills it\n", err.msg,
            config);
    rc = CLI_FAILURE;
    goto out;
  }
  if (reply.type != RV_MSG_STOP_REPLY) {
    fprintf(stderr, "raftvisor stop: unexpected answer from node %s\n", cfg->node_id);
    rv_msg_clear(&reply);
    rc = CLI_FAILURE;
    goto out;
  }
  Rv__StopReply *r = (Rv__StopReply *)reply.body;
  char stopped[1024], killed[1024];
  s_join(stopped, sizeof stopped, r->stopped, r->n_stopped);
  s_join(killed, sizeof killed, r->killed, r->n_killed);
  bool gone = s_wait_gone(pid, 10000);
  if (json) {
    s_print_json(cfg->node_id, r, gone);
  } else {
    printf("node %s stopped", cfg->node_id);
    if (r->n_stopped) printf("; stopped: %s", stopped);
    if (r->n_killed) printf("; killed after their shutdown timeout: %s", killed);
    s_print_unclean(r);
    printf("\n");
  }
  rv_msg_clear(&reply);
  if (!gone) {
    fprintf(stderr, "raftvisor stop: supervisor pid %d is still running after 10 s\n", (int)pid);
    rc = CLI_FAILURE;
  }
out:
  cfg_node_destroy(&cfg);
  return rc;
}
