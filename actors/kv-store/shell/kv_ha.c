/* kv_ha: haadmin over the client port (I/O shell). `raftvisor haadmin` sends a HaRequest to any
 * node's kv-store, on the same connection as its FsRequests. State and health are answered at
 * once from what this actor already holds (raft-peer's published RaftState, health-monitor's
 * HealthReport, which it sends here as well as to the supervisor); a leadership transfer is
 * relayed to raft-peer as a RaftAdmin (answered by its Reply when complete or failed), a fence
 * to the fencer as a FenceRequest (answered by its FenceResult). Every answer is one HaReply
 * carrying this node's state, so the client sees where the node stands after the operation. */
#include <stdio.h>
#include <string.h>

#include "kv_actor_int.h"

#define KV_HA_TRANSFER_MS 20000 /* raft-peer answers within RAFT_ADMIN_TRANSFER_MS itself */

static const char *s_state(const kv_actor_t *s) {
  if (!s->attached || !s->ha.role[0] || strcmp(s->ha.membership, "not-member") == 0)
    return "initializing";
  return strcmp(s->ha.role, "leader") == 0 ? "active" : "standby";
}

static void s_answer(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *env, int code,
                     const char *msg) {
  Rv__HaReply r = RV__HA_REPLY__INIT;
  r.code = (uint32_t)code;
  r.message = (char *)msg;
  r.node = (char *)s->cfg->node_id;
  r.cluster = (char *)s->cfg->cluster_id;
  r.state = (char *)s_state(s);
  r.role = s->ha.role;
  r.term = s->term;
  r.leader_node = s->leader_node;
  r.commit = s->ha.commit;
  r.applied = s->ha.raft_applied;
  r.last_index = s->ha.last_index;
  r.membership = s->ha.membership;
  bool fresh = s->ha.health &&
               kv_now_ms() - s->ha.health_at_ms <= 3 * (int64_t)s->cfg->health_ping_interval_ms + 500;
  r.health = fresh ? (uint32_t)s->ha.health : RV__HEALTH_VERDICT__HEALTH_UNKNOWN;
  r.health_reason = fresh ? s->ha.health_reason
                    : s->ha.health ? "health-monitor: its reports stopped"
                                   : "health-monitor: no report yet";
  r.automatic_failover = s->cfg->ha_automatic_failover;
  r.fencing_configured = s->cfg->nfence_methods > 0;
  rv_err_t err;
  if (rv_listener_reply(s->clients, peer, env, RV_MSG_HA_REPLY, &r.base, &err) != RV_OK)
    rv_debug("HA reply to %s/%s: %s", env->from.node, env->from.actor, err.msg);
}

static kv_ha_req_t *s_slot(kv_actor_t *s) {
  for (int i = 0; i < KV_HA_PENDING; i++)
    if (!s->ha.pending[i].used) return &s->ha.pending[i];
  return NULL;
}

static bool s_known_node(const kv_actor_t *s, const char *id) {
  for (int i = 0; i < s->cfg->nnodes; i++)
    if (strcmp(s->cfg->nodes[i].id, id) == 0) return true;
  return false;
}

void kv_ha_request(kv_actor_t *s, const rv_listener_peer_t *peer, const rv_msg_t *m) {
  const Rv__HaRequest *q = (const Rv__HaRequest *)m->body;
  const char *target = q->target ? q->target : "";
  char text[256];
  switch (q->op) {
    case RV__HA_OP__HA_STATE:
    case RV__HA_OP__HA_HEALTH: s_answer(s, peer, m, RV_OK, ""); return;
    case RV__HA_OP__HA_TRANSFER:
    case RV__HA_OP__HA_FENCE: break;
    default:
      snprintf(text, sizeof text, "unknown HA operation %d", (int)q->op);
      s_answer(s, peer, m, RV_EINVAL, text);
      return;
  }
  /* moving leadership or fencing a node is an administrator's act (HDFS: the haadmin ACL); the
   * states and health stay open to every authenticated client. An insecure cluster trusts
   * whoever reaches it (said loudly at start). */
  if (!s->cfg->security_insecure) {
    char why[KV_MSG_MAX];
    int prc = kv_auth_superuser(s, peer, NULL, why, sizeof why);
    if (prc) {
      snprintf(text, sizeof text, "%.250s", why);
      s_answer(s, peer, m, prc, text);
      return;
    }
  }
  if (!s_known_node(s, target)) {
    snprintf(text, sizeof text, "no node \"%.64s\" in cluster.nodes", target);
    s_answer(s, peer, m, RV_ENOTFOUND, text);
    return;
  }
  bool fence = q->op == RV__HA_OP__HA_FENCE;
  if (fence && s->cfg->nfence_methods == 0) {
    snprintf(text, sizeof text, "no fencing methods configured on %s (ha.fencing.methods)",
             s->cfg->node_id);
    s_answer(s, peer, m, RV_EUNAVAIL, text);
    return;
  }
  kv_ha_req_t *r = s_slot(s);
  if (!r) {
    s_answer(s, peer, m, RV_EBUSY, "too many HA requests in progress on this node; retry");
    return;
  }
  *r = (kv_ha_req_t){.used = true, .corr = ++s->ha.next_corr, .peer = *peer, .env = *m,
                     .op = (int)q->op};
  r->env.body = NULL;
  r->env.arena = NULL;
  snprintf(r->target, sizeof r->target, "%s", target);
  int rc;
  if (fence) {
    Rv__FenceRequest f = RV__FENCE_REQUEST__INIT;
    f.target = (char *)target;
    f.reason = q->reason && q->reason[0] ? q->reason : "haadmin";
    /* every method at its timeout (sshfence also connects), plus a fencer restart or two */
    uint64_t per = (uint64_t)s->cfg->fence_shell_timeout_ms + (uint64_t)s->cfg->ssh_connect_timeout_ms;
    r->deadline_ms = kv_now_ms() + (int64_t)((uint64_t)s->cfg->nfence_methods * per + 30000);
    rc = rv_actor_send(s->a, "fencer", RV_MSG_FENCE_REQUEST, &f.base, r->corr);
  } else {
    Rv__RaftAdmin ra = RV__RAFT_ADMIN__INIT;
    ra.op = RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER;
    ra.node = (char *)target;
    r->deadline_ms = kv_now_ms() + KV_HA_TRANSFER_MS;
    rc = rv_actor_send(s->a, "raft-peer", RV_MSG_RAFT_ADMIN, &ra.base, r->corr);
  }
  if (rc != RV_OK) {
    snprintf(text, sizeof text, "%s on %s is not running", fence ? "fencer" : "raft-peer",
             s->cfg->node_id);
    r->used = false;
    s_answer(s, peer, m, RV_EUNAVAIL, text);
    return;
  }
  rv_info("haadmin: %s %s (#%llu) relayed to %s", fence ? "fence" : "transfer to", target,
          (unsigned long long)r->corr, fence ? "fencer" : "raft-peer");
}

static kv_ha_req_t *s_find(kv_actor_t *s, uint64_t corr, int op) {
  for (int i = 0; i < KV_HA_PENDING; i++)
    if (s->ha.pending[i].used && s->ha.pending[i].corr == corr && s->ha.pending[i].op == op)
      return &s->ha.pending[i];
  return NULL;
}

static void s_done(kv_actor_t *s, kv_ha_req_t *r, int code, const char *msg) {
  rv_info("haadmin #%llu: %s", (unsigned long long)r->corr, msg);
  s_answer(s, &r->peer, &r->env, code, msg);
  r->used = false;
}

bool kv_ha_message(kv_actor_t *s, const rv_msg_t *m) {
  switch (m->type) {
    case RV_MSG_RAFT_STATE: {
      const Rv__RaftState *rs = (const Rv__RaftState *)m->body;
      snprintf(s->ha.role, sizeof s->ha.role, "%s", rs->role ? rs->role : "");
      snprintf(s->ha.membership, sizeof s->ha.membership, "%s",
               rs->membership ? rs->membership : "");
      s->ha.commit = rs->commit;
      s->ha.raft_applied = rs->applied;
      s->ha.last_index = rs->last_index;
      snprintf(s->ha.fence, sizeof s->ha.fence, "%s", rs->fence ? rs->fence : "");
      return false; /* kv_actor.c takes it too */
    }
    case RV_MSG_HEALTH_REPORT: {
      const Rv__HealthReport *h = (const Rv__HealthReport *)m->body;
      s->ha.health = (int)h->node_verdict;
      snprintf(s->ha.health_reason, sizeof s->ha.health_reason, "%s",
               h->node_reason ? h->node_reason : "");
      s->ha.health_at_ms = kv_now_ms();
      return true;
    }
    case RV_MSG_REPLY: {
      const Rv__Reply *r = (const Rv__Reply *)m->body;
      kv_ha_req_t *q = s_find(s, m->corr_id, RV__HA_OP__HA_TRANSFER);
      if (q) s_done(s, q, (int)r->code, r->message ? r->message : "");
      return true;
    }
    case RV_MSG_FENCE_RESULT: {
      const Rv__FenceResult *f = (const Rv__FenceResult *)m->body;
      kv_ha_req_t *q = s_find(s, m->corr_id, RV__HA_OP__HA_FENCE);
      if (q) s_done(s, q, f->fenced ? RV_OK : (f->code ? (int)f->code : RV_EUNAVAIL),
                    f->message ? f->message : "");
      return true;
    }
    case RV_MSG_FENCE_ATTEMPT: return true; /* the fencer's log and the tap show them */
    default: return false;
  }
}

void kv_ha_tick(kv_actor_t *s, int64_t now_ms) {
  for (int i = 0; i < KV_HA_PENDING; i++) {
    kv_ha_req_t *r = &s->ha.pending[i];
    if (!r->used || now_ms < r->deadline_ms) continue;
    char text[160];
    snprintf(text, sizeof text, "%s %s: no answer from %s on %s in time",
             r->op == RV__HA_OP__HA_FENCE ? "fence" : "transfer to", r->target,
             r->op == RV__HA_OP__HA_FENCE ? "the fencer" : "raft-peer", s->cfg->node_id);
    s_done(s, r, RV_ETIMEDOUT, text);
  }
}
