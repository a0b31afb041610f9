/* raftvisor tap: subscribes to a node's tap proxy and prints every envelope its processes send
 * ("out") and receive ("in"), decoded, one per line, filtered by actor and message type. */
#include <czmq.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "rv_log.h"
#include "rv_mailbox.h"
#include "rv_msgprint.h"

static void s_help(void) {
  printf(
      "usage: raftvisor tap -c FILE [--actor A] [--type T] [--json] [--count N] [--timeout S]\n"
      "Prints, live, every message that the node's processes send (out) and receive (in), one\n"
      "per line: time, [node/observer/direction], sender -> receiver, type, #correlation id,\n"
      "body as JSON. Frames that failed their checks appear as BadFrame.\n"
      "  -c, --config FILE  the node's YAML configuration (required)\n"
      "  --actor A          only what actor A (or \"supervisor\") sends and receives\n"
      "  --type T           only messages of type T (e.g. Heartbeat, HealthReport)\n"
      "  --json             one JSON object per line (time, from, to, tap, type, corr, trace, body)\n"
      "  --count N          exit after N messages\n"
      "  --timeout S        exit after S seconds (exit 1 if --count was not reached)\n"
      "Exit codes: 0 ok, 1 failure or timeout, 2 usage error, 3 node not running.\n");
}

int cli_tap_main(int argc, char **argv) {
  const char *config = NULL, *actor = NULL, *type = NULL, *count_s = NULL, *timeout_str = NULL;
  bool json = false;
  long count = 0;
  double timeout_s = 0;
  const cli_opt_t opts[] = {{"--config", "-c", NULL, &config}, {"--actor", NULL, NULL, &actor},
                            {"--type", NULL, NULL, &type},      {"--json", NULL, &json, NULL},
                            {"--count", NULL, NULL, &count_s},  {"--timeout", NULL, NULL, &timeout_str},
                            {NULL}};
  int prc = cli_parse("tap", argc, argv, opts, s_help, NULL, 0, NULL);
  if (prc) return prc < 0 ? CLI_OK : prc;
  char *end;
  if (count_s && ((count = strtol(count_s, &end, 10)) <= 0 || *end))
    return cli_usage_error("tap", "--count expects a positive integer, got \"%s\"", count_s);
  if (timeout_str && ((timeout_s = strtod(timeout_str, &end)) <= 0 || *end))
    return cli_usage_error("tap", "--timeout expects seconds > 0, got \"%s\"", timeout_str);
  if (!config) return cli_usage_error("tap", "missing -c FILE (the node's YAML)");
  const rv_msgtype_t *want = NULL;
  if (type && !(want = rv_msgtype_by_name(type)))
    return cli_usage_error("tap", "unknown message type \"%s\"", type);
  cfg_node_t *cfg;
  int rc = cli_load_config(config, &cfg);
  if (rc) return rc;
  if (actor && strcmp(actor, "supervisor") != 0 && !cfg_node_actor(cfg, actor)) {
    char names[512] = "supervisor";
    for (int i = 0; i < cfg->nactors; i++) {
      size_t used = strlen(names);
      snprintf(names + used, sizeof names - used, ", %s", cfg->actors[i].name);
    }
    cli_usage_error("tap", "node %s has no actor named \"%s\" (it has: %s)", cfg->node_id, actor,
                    names);
    cfg_node_destroy(&cfg);
    return CLI_USAGE;
  }
  if ((rc = cli_require_running(cfg, NULL))) {
    cfg_node_destroy(&cfg);
    return rc;
  }
  char ep[256];
  rv_err_t err;
  if (rv_mailbox_endpoint(cfg, "tap", ep, sizeof ep, &err) != RV_OK) {
    fprintf(stderr, "raftvisor tap: %s\n", err.msg);
    cfg_node_destroy(&cfg);
    return CLI_FAILURE;
  }
  char topic[2 * CFG_ID_MAX + 4];
  if (actor)
    snprintf(topic, sizeof topic, "%s/%s/", cfg->node_id, actor);
  else
    topic[0] = '\0';
  zsys_handler_set(NULL);
  signal(SIGPIPE, SIG_DFL); /* `tap | head` ends quietly */
  zsock_t *sub = zsock_new(ZMQ_SUB);
  zsock_set_maxmsgsize(sub, RV_ENVELOPE_MAX + 256);
  zsock_set_rcvhwm(sub, 100000);
  zsock_set_subscribe(sub, topic);
  if (zsock_connect(sub, "%s", ep) < 0) {
    fprintf(stderr, "raftvisor tap: cannot connect to %s: %s\n", ep, zmq_strerror(zmq_errno()));
    zsock_destroy(&sub);
    cfg_node_destroy(&cfg);
    return CLI_FAILURE;
  }
  uint64_t deadline = timeout_s > 0 ? rv_mono_ms() + (uint64_t)(timeout_s * 1000) : UINT64_MAX;
  long printed = 0;
  rc = CLI_OK;
  while (!count || printed < count) {
    uint64_t now = rv_mono_ms();
    if (now >= deadline) {
      if (count) rc = CLI_FAILURE;
      break;
    }
    long wait = deadline == UINT64_MAX ? 1000 : (long)(deadline - now);
    zmq_pollitem_t item = {.socket = zsock_resolve(sub), .events = ZMQ_POLLIN};
    if (zmq_poll(&item, 1, wait) <= 0) continue;
    zmsg_t *msg = zmsg_recv(sub);
    if (!msg) break;
    char *tp = zmsg_popstr(msg);
    zframe_t *frame = zmsg_pop(msg);
    if (tp && frame && zmsg_size(msg) == 0) {
      rv_msg_t m;
      rv_err_t derr;
      if (rv_msg_decode(zframe_data(frame), zframe_size(frame), 0, &m, &derr) == RV_OK) {
        if (!want || want->id == m.type) {
          rv_msgprint_line(stdout, &m, tp, json);
          fputc('\n', stdout);
          fflush(stdout);
          printed++;
        }
        rv_msg_clear(&m);
      } else if (!want) {
        printf(json ? "{\"tap\":\"%s\",\"error\":\"undecodable frame: %s\"}\n"
                    : "[%s] undecodable frame: %s\n",
               tp, derr.msg);
        printed++;
      }
    }
    free(tp);
    zframe_destroy(&frame);
    zmsg_destroy(&msg);
  }
  zsock_destroy(&sub);
  cfg_node_destroy(&cfg);
  return rc;
}
