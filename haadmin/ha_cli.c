/* ha_cli: `raftvisor haadmin`, the HDFS operator's HA tool on a Raft cluster (I/O shell). The
 * command line is ha_args (pure), -failover is ha_failover (pure); this file resolves node ids
 * to client addresses (from the YAML, or by asking each of --nodes who it is), talks to each
 * node's kv-store with HaRequest/HaReply over its client port (any node, from any host), and
 * prints Hadoop's words. Exit codes: 0 ok, 1 failure (also a failed health check), 2 usage. */
#include <czmq.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ha_args.h"
#include "ha_failover.h"
#include "rv_client.h"
#include "rv_msgtypes.h"

#define S_QUERY_MS 2000     /* a state or health question */
#define S_TRANSFER_MS 25000 /* raft-peer answers a transfer within its own bound (15 s) */
#define S_LEADER_MS 10000   /* waiting for an election after a fence */

typedef struct {
  char id[HA_ID_MAX];
  char addr[RV_CLIENT_ADDR_MAX];
} s_node_t;

typedef struct {
  s_node_t nodes[RV_CLIENT_NODES_MAX];
  int n;
  int fence_ms;             /* how long a fence may take (from the YAML; generous without) */
  uint64_t next_corr;
} s_ctx_t;

/* One HaRequest to addr, one HaReply back within timeout_ms. Returns RV_OK with *out set (free
 * with rv__ha_reply__free_unpacked), or RV_ETIMEDOUT / RV_EIO with why[len]. */
static int s_call(s_ctx_t *c, const char *addr, Rv__HaOp op, const char *target,
                  const char *reason, int timeout_ms, Rv__HaReply **out, char *why, size_t len) {
  *out = NULL;
  Rv__HaRequest q = RV__HA_REQUEST__INIT;
  q.op = op;
  q.target = (char *)(target ? target : "");
  q.reason = (char *)(reason ? reason : "");
  rv_msg_t a;
  int rc = cli_node_call(addr, "haadmin", RV_MSG_HA_REQUEST, &q.base, RV_MSG_HA_REPLY, timeout_ms,
                         &a, why, len);
  if (rc == RV_OK) *out = (Rv__HaReply *)a.body; /* ownership moves to the caller */
  return rc;
}

static const s_node_t *s_node(const s_ctx_t *c, const char *id) {
  for (int i = 0; i < c->n; i++)
    if (strcmp(c->nodes[i].id, id) == 0) return &c->nodes[i];
  return NULL;
}

/* A node's view; reachable false when it did not answer. */
static void s_view(s_ctx_t *c, const char *id, ha_view_t *v, Rv__HaReply **keep) {
  memset(v, 0, sizeof *v);
  const s_node_t *nd = s_node(c, id);
  Rv__HaReply *r = NULL;
  char why[256];
  if (!nd || s_call(c, nd->addr, RV__HA_OP__HA_STATE, NULL, NULL, S_QUERY_MS, &r, why,
                    sizeof why) != RV_OK)
    return;
  v->reachable = true;
  snprintf(v->state, sizeof v->state, "%s", r->state);
  snprintf(v->leader, sizeof v->leader, "%s", r->leader_node);
  v->healthy = r->health == RV__HEALTH_VERDICT__HEALTH_HEALTHY;
  snprintf(v->health_reason, sizeof v->health_reason, "%s",
           r->health_reason[0] ? r->health_reason : "health not known yet");
  v->voter = strcmp(r->membership, "voter") == 0;
  v->commit = r->commit;
  v->last_index = r->last_index;
  if (keep) *keep = r;
  else rv__ha_reply__free_unpacked(r, NULL);
}

/* Asks via to transfer leadership to target; returns true when done. why[len] otherwise; the
 * leader via knows afterwards in after[HA_ID_MAX]. */
static bool s_transfer(s_ctx_t *c, const char *via, const char *target, bool *reachable,
                       char *why, size_t len, char *after) {
  const s_node_t *nd = s_node(c, via);
  Rv__HaReply *r = NULL;
  after[0] = '\0';
  *reachable = false;
  if (!nd || s_call(c, nd->addr, RV__HA_OP__HA_TRANSFER, target, "haadmin", S_TRANSFER_MS, &r,
                    why, len) != RV_OK)
    return false;
  *reachable = true;
  snprintf(after, HA_ID_MAX, "%s", r->leader_node);
  bool ok = r->code == 0;
  snprintf(why, len, "%s", r->message);
  rv__ha_reply__free_unpacked(r, NULL);
  return ok;
}

/* Polls id until it reports a leader other than not (or any leader when not is NULL) or the
 * deadline; copies it to leader[HA_ID_MAX] ("" if none). */
static void s_wait_leader(s_ctx_t *c, const char *id, const char *not, char *leader) {
  int64_t deadline = zclock_mono() + S_LEADER_MS;
  leader[0] = '\0';
  do {
    ha_view_t v;
    s_view(c, id, &v, NULL);
    if (v.reachable && v.leader[0] && (!not || strcmp(v.leader, not) != 0)) {
      snprintf(leader, HA_ID_MAX, "%s", v.leader);
      return;
    }
    zclock_sleep(50); /* a poll interval while waiting for the condition, bounded above */
  } while (zclock_mono() < deadline);
}

/* Waits until id answers active (a leader serves writes once it answers so). */
static bool s_wait_active(s_ctx_t *c, const char *id) {
  int64_t deadline = zclock_mono() + S_LEADER_MS;
  do {
    ha_view_t v;
    s_view(c, id, &v, NULL);
    if (v.reachable && strcmp(v.state, "active") == 0) return true;
    zclock_sleep(20);
  } while (zclock_mono() < deadline);
  return false;
}

static int s_failover(s_ctx_t *c, const ha_args_t *a) {
  ha_failover_t f;
  ha_failover_init(&f, a->id[0], a->id[1], a->forcefence, a->forceactive);
  char why[HA_TEXT_MAX], after[HA_ID_MAX];
  for (;;) {
    ha_action_t act = ha_failover_next(&f);
    if (act.kind == HA_ACT_DONE) break;
    switch (act.kind) {
      case HA_ACT_QUERY: {
        ha_view_t v;
        s_view(c, act.node, &v, NULL);
        ha_failover_query_done(&f, &v);
        if (f.warning[0]) {
          fprintf(stderr, "%s\n", f.warning);
          f.warning[0] = '\0';
        }
        break;
      }
      case HA_ACT_WAIT_ACTIVE: {
        ha_view_t v;
        int64_t deadline = zclock_mono() + S_LEADER_MS;
        for (;;) {
          s_view(c, act.node, &v, NULL);
          if ((v.reachable && strcmp(v.state, "active") == 0) || zclock_mono() >= deadline) break;
          zclock_sleep(10); /* a poll interval while waiting for the condition */
        }
        ha_failover_query_done(&f, &v);
        break;
      }
      case HA_ACT_TRANSFER: {
        bool reachable;
        bool ok = s_transfer(c, act.via, act.node, &reachable, why, sizeof why, after);
        ha_failover_transfer_done(&f, reachable, ok, why, after);
        break;
      }
      case HA_ACT_FENCE: {
        const s_node_t *nd = s_node(c, act.via);
        Rv__HaReply *r = NULL;
        bool fenced = false;
        char reason[160];
        snprintf(reason, sizeof reason, "haadmin -failover %s %s", f.from, f.to);
        if (nd && s_call(c, nd->addr, RV__HA_OP__HA_FENCE, act.node, reason, c->fence_ms, &r,
                         why, sizeof why) == RV_OK) {
          fenced = r->code == 0;
          snprintf(why, sizeof why, "%s", r->message);
          rv__ha_reply__free_unpacked(r, NULL);
        }
        fprintf(stderr, "fence %s from %s: %s\n", act.node, act.via, why);
        ha_failover_fence_done(&f, fenced, why);
        break;
      }
      case HA_ACT_WAIT_LEADER: {
        char leader[HA_ID_MAX];
        s_wait_leader(c, act.via, f.fenced ? act.node : NULL, leader);
        ha_failover_leader_done(&f, leader);
        break;
      }
      default: break;
    }
  }
  if (f.ok) {
    printf("%s\n", f.message);
    return CLI_OK;
  }
  fprintf(stderr, "Failover failed: %s\n", f.message);
  return CLI_FAILURE;
}

/* Hadoop's refusal when automatic failover manages the node; true = go on. */
static bool s_manual_ok(const ha_args_t *a, const ha_view_t *v, bool automatic) {
  (void)v;
  if (!automatic) return true;
  if (!a->forcemanual) {
    fprintf(stderr, "Automatic failover is enabled for %s\n"
                    "Refusing to manually manage HA state, since it may cause\n"
                    "a split-brain scenario or other incorrect state.\n"
                    "If you are very sure you know what you are doing, please \n"
                    "specify the --forcemanual flag.\n", a->id[0]);
    return false;
  }
  fprintf(stderr, "Proceeding with manual HA state management even though\n"
                  "automatic failover is enabled for %s\n", a->id[0]);
  return true;
}

static int s_unreachable(const s_ctx_t *c, const char *id) {
  const s_node_t *nd = s_node(c, id);
  fprintf(stderr, "Operation failed: cannot reach %s at %s (no answer within %d ms)\n", id,
          nd ? nd->addr : "?", S_QUERY_MS);
  return CLI_FAILURE;
}

static int s_transition(s_ctx_t *c, const ha_args_t *a, bool active) {
  const char *id = a->id[0];
  Rv__HaReply *r = NULL;
  ha_view_t v;
  s_view(c, id, &v, &r);
  if (!v.reachable) return s_unreachable(c, id);
  bool automatic = r->automatic_failover;
  rv__ha_reply__free_unpacked(r, NULL);
  if (!s_manual_ok(a, &v, automatic)) return CLI_FAILURE;
  char why[HA_TEXT_MAX], after[HA_ID_MAX], leader[HA_ID_MAX];
  bool reachable;
  if (active) {
    if (strcmp(v.state, "active") == 0) return CLI_OK;
    snprintf(leader, sizeof leader, "%s", v.leader);
    if (!leader[0]) s_wait_leader(c, id, NULL, leader);
    if (!leader[0]) {
      fprintf(stderr, "Operation failed: no leader is known to %s to hand over to it; retry\n",
              id);
      return CLI_FAILURE;
    }
    if (strcmp(leader, id) != 0 &&
        !s_transfer(c, leader, id, &reachable, why, sizeof why, after)) {
      fprintf(stderr, "Operation failed: %s\n", why);
      return CLI_FAILURE;
    }
    if (!s_wait_active(c, id)) {
      fprintf(stderr, "Operation failed: %s did not become active\n", id);
      return CLI_FAILURE;
    }
    return CLI_OK;
  }
  if (strcmp(v.state, "active") != 0) return CLI_OK; /* a standby already */
  const char *ids[RV_CLIENT_NODES_MAX];
  ha_view_t views[RV_CLIENT_NODES_MAX];
  for (int i = 0; i < c->n; i++) {
    ids[i] = c->nodes[i].id;
    if (strcmp(ids[i], id) == 0) memset(&views[i], 0, sizeof views[i]);
    else s_view(c, ids[i], &views[i], NULL);
  }
  const char *to = ha_pick_successor(ids, views, c->n, id);
  if (!to) {
    fprintf(stderr, "Operation failed: no healthy voter to hand leadership to; %s stays active\n",
            id);
    return CLI_FAILURE;
  }
  if (!s_transfer(c, id, to, &reachable, why, sizeof why, after)) {
    fprintf(stderr, "Operation failed: %s\n", why);
    return CLI_FAILURE;
  }
  return CLI_OK;
}

/* Fills c->nodes from the YAML or by asking each address of --nodes its node id. */
static int s_resolve(s_ctx_t *c, const ha_args_t *a) {
  c->fence_ms = 600000;
  if (a->config) {
    cfg_node_t *cfg;
    int rc = cli_load_config(a->config, &cfg);
    if (rc) return rc;
    if (a->ns && strcmp(a->ns, cfg->cluster_id) != 0) {
      fprintf(stderr, "Illegal argument: nameservice \"%s\" is not this cluster (cluster.id "
                      "\"%s\" in %s)\n", a->ns, cfg->cluster_id, a->config);
      cfg_node_destroy(&cfg);
      return CLI_USAGE;
    }
    for (int i = 0; i < cfg->nnodes && c->n < RV_CLIENT_NODES_MAX; i++, c->n++) {
      const cfg_peer_t *p = &cfg->nodes[i];
      bool v6 = strchr(p->host, ':') != NULL;
      snprintf(c->nodes[c->n].id, sizeof c->nodes[c->n].id, "%s", p->id);
      snprintf(c->nodes[c->n].addr, sizeof c->nodes[c->n].addr, "%s%s%s:%d", v6 ? "[" : "",
               p->host, v6 ? "]" : "", p->client_port);
    }
    uint64_t per = (uint64_t)cfg->fence_shell_timeout_ms + (uint64_t)cfg->ssh_connect_timeout_ms;
    c->fence_ms = (int)((uint64_t)(cfg->nfence_methods ? cfg->nfence_methods : 1) * per + 35000);
    cfg_node_destroy(&cfg);
    return CLI_OK;
  }
  char addrs[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
  int n = 0;
  rv_err_t err;
  if (rv_client_nodes_parse(a->nodes, addrs, &n, &err) != RV_OK) {
    fprintf(stderr, "raftvisor haadmin: --nodes: %s\n", err.msg);
    return CLI_USAGE;
  }
  for (int i = 0; i < n; i++) {
    Rv__HaReply *r = NULL;
    char why[256];
    snprintf(c->nodes[c->n].addr, sizeof c->nodes[c->n].addr, "%.270s", addrs[i]);
    if (s_call(c, addrs[i], RV__HA_OP__HA_STATE, NULL, NULL, S_QUERY_MS, &r, why,
               sizeof why) == RV_OK) {
      snprintf(c->nodes[c->n].id, sizeof c->nodes[c->n].id, "%s", r->node);
      bool other = a->ns && strcmp(a->ns, r->cluster) != 0;
      if (other)
        fprintf(stderr, "Illegal argument: nameservice \"%s\" is not the cluster of %s (cluster.id "
                        "\"%s\")\n", a->ns, addrs[i], r->cluster);
      rv__ha_reply__free_unpacked(r, NULL);
      if (other) return CLI_USAGE;
    } else {
      snprintf(c->nodes[c->n].id, sizeof c->nodes[c->n].id, "%.60s", addrs[i]); /* by address */
    }
    c->n++;
  }
  return CLI_OK;
}

int cli_haadmin_main(int argc, char **argv) {
  ha_args_t a;
  char out[4096];
  ha_args_rc_t prc = ha_args_parse(argc, argv, &a, out, sizeof out);
  if (prc == HA_ARGS_HELP) {
    fputs(out, stdout);
    return CLI_OK;
  }
  if (prc == HA_ARGS_USAGE) {
    fputs(out, stderr);
    return CLI_USAGE;
  }
  if (!a.config && !a.nodes) {
    fprintf(stderr, "raftvisor haadmin: give the cluster with -c FILE (a node's YAML) or "
                    "--nodes host:port,... (client ports)\n");
    return CLI_USAGE;
  }
  s_ctx_t c = {.next_corr = (uint64_t)zclock_mono() << 16};
  int rc = s_resolve(&c, &a);
  if (rc) return rc;
  for (int k = 0; k < 2 && a.id[k]; k++)
    if (!s_node(&c, a.id[k])) {
      char ids[1024] = "";
      for (int i = 0; i < c.n; i++)
        snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "",
                 c.nodes[i].id);
      fprintf(stderr, "Illegal argument: Unable to determine service address for namenode "
                      "'%s' (nodes: %s)\n", a.id[k], ids);
      return CLI_FAILURE;
    }
  switch (a.cmd) {
    case HA_CMD_GET_STATE: {
      ha_view_t v;
      s_view(&c, a.id[0], &v, NULL);
      if (!v.reachable) return s_unreachable(&c, a.id[0]);
      printf("%s\n", v.state);
      return CLI_OK;
    }
    case HA_CMD_GET_ALL_STATE:
      for (int i = 0; i < c.n; i++) {
        ha_view_t v;
        s_view(&c, c.nodes[i].id, &v, NULL);
        if (v.reachable) printf("%-50s %s\n", c.nodes[i].addr, v.state);
        else printf("%-50s Failed to connect: no answer within %d ms\n", c.nodes[i].addr,
                    S_QUERY_MS);
      }
      return CLI_OK;
    case HA_CMD_CHECK_HEALTH: {
      ha_view_t v;
      s_view(&c, a.id[0], &v, NULL);
      if (!v.reachable) return s_unreachable(&c, a.id[0]);
      if (v.healthy) return CLI_OK;
      fprintf(stderr, "Health check failed: %s\n", v.health_reason);
      return CLI_FAILURE;
    }
    case HA_CMD_TO_ACTIVE: return s_transition(&c, &a, true);
    case HA_CMD_TO_STANDBY: return s_transition(&c, &a, false);
    case HA_CMD_FAILOVER: return s_failover(&c, &a);
    default: return CLI_USAGE;
  }
}
