/* raft_admin: the raft-peer's side of `raftvisor raft` (I/O shell): a RaftAdmin request relayed
 * by the supervisor becomes a single-server membership change or a leadership transfer of the
 * core. A membership change is answered once its entry is applied (the update's committed
 * RAFT_ENTRY_CONF at the proposed index with the proposed term), or with a failure when another
 * entry took that index; a refused change is answered at once. A transfer is answered when it
 * is complete (this node follows the target in a later term: what `haadmin -transitionToActive`
 * needs), or when it failed (aborted by the core after an election timeout, another node won,
 * or RAFT_ADMIN_TRANSFER_MS passed). One change and one transfer may be in flight; the
 * supervisor answers RV_ETIMEDOUT when no answer comes in time, and a later answer is dropped
 * by it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "raft_peer_int.h"

static int64_t s_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends the Reply to the requester (the supervisor for `raftvisor raft`, kv-store for haadmin)
 * under the request's correlation id. */
static void s_answer(raft_peer_t *p, const char *to, uint64_t corr, int code, const char *text) {
  Rv__Reply r = RV__REPLY__INIT;
  r.code = (uint32_t)code;
  r.message = (char *)text;
  rv_info("raft admin #%llu: %s", (unsigned long long)corr, text);
  rv_actor_send(p->a, to[0] ? to : "supervisor", RV_MSG_REPLY, &r.base, corr);
}

static const char *s_op_verb(Rv__RaftAdminOp op) {
  switch (op) {
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_ADD_LEARNER: return "add-learner";
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_PROMOTE: return "promote";
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_REMOVE: return "remove";
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER: return "transfer";
    default: return "?";
  }
}

/* The text for a refusal of the core (raft_core.h: propose_conf_change, transfer_leader). */
static void s_refusal(raft_peer_t *p, int rc, Rv__RaftAdminOp op, const char *node,
                      raft_id_t leader, char *text, size_t len) {
  const char *verb = s_op_verb(op);
  switch (rc) {
    case RV_ENOTLEADER: {
      const char *ln = raft_peer_node_name(p, leader);
      if (ln[0])
        snprintf(text, len, "not the leader; run it against node %s", ln);
      else
        snprintf(text, len, "not the leader, and no leader is known now; retry shortly");
      break;
    }
    case RV_EBUSY:
      snprintf(text, len, "%s %s: a membership change or leadership transfer is in progress; "
               "retry when it has committed", verb, node);
      break;
    case RV_EEXIST:
      snprintf(text, len, "%s %s: %s", verb, node,
               op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER ? "a transfer to it is already running"
               : op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_PROMOTE ? "it is already a voter"
                                                             : "it is already a member");
      break;
    case RV_ENOTFOUND:
      snprintf(text, len, "%s %s: it is not a member of the configuration", verb, node);
      break;
    case RV_EINVAL:
      snprintf(text, len, "%s %s: refused (%s)", verb, node,
               op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER
                   ? "the target is this node, not a voter, or unknown"
               : op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_REMOVE ? "it is the last voter"
               : op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_ADD_LEARNER
                   ? "it is a voter (demotion is not supported) or the configuration is full"
                   : "the configuration is full");
      break;
    default: snprintf(text, len, "%s %s: %s", verb, node, rv_code_text(rc));
  }
}

void raft_admin_request(raft_peer_t *p, const rv_msg_t *m) {
  const Rv__RaftAdmin *q = (const Rv__RaftAdmin *)m->body;
  char text[RV_ERR_MSG_MAX];
  const char *node = q->node ? q->node : "";
  const char *from = m->from.actor;
  int idx = -1;
  for (int i = 0; i < p->cfg->nnodes; i++)
    if (strcmp(p->cfg->nodes[i].id, node) == 0) idx = i;
  if (idx < 0) {
    char ids[CFG_MAX_NODES * (CFG_ID_MAX + 2)] = "";
    for (int i = 0; i < p->cfg->nnodes; i++)
      snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "",
               p->cfg->nodes[i].id);
    snprintf(text, sizeof text, "no node \"%.64s\" in cluster.nodes (%s)", node, ids);
    s_answer(p, from, m->corr_id, RV_ENOTFOUND, text);
    return;
  }
  raft_id_t id = p->ids[idx];
  if (q->op == RV__RAFT_ADMIN_OP__RAFT_ADMIN_TRANSFER) {
    int rc = raft_core_transfer_leader(p->core, id);
    if (rc == RV_EEXIST && p->xfer.active && p->xfer.target == id) {
      /* the same transfer asked again: this request is answered instead of the earlier one */
      snprintf(text, sizeof text, "transfer %s: asked again (#%llu); answered there", node,
               (unsigned long long)m->corr_id);
      s_answer(p, p->xfer.to, p->xfer.corr, RV_EAGAIN, text);
      p->xfer.corr = m->corr_id;
      snprintf(p->xfer.to, sizeof p->xfer.to, "%s", from);
      return;
    }
    if (rc != RV_OK) {
      s_refusal(p, rc, q->op, node, p->soft.leader, text, sizeof text);
      s_answer(p, from, m->corr_id, rc, text);
      return;
    }
    if (p->xfer.active) {
      snprintf(text, sizeof text, "transfer to %s: replaced by a transfer to %s",
               raft_peer_node_name(p, p->xfer.target), node);
      s_answer(p, p->xfer.to, p->xfer.corr, RV_EAGAIN, text);
    }
    rv_info("raft admin #%llu: leadership transfer to %s started", (unsigned long long)m->corr_id,
            node);
    p->xfer = (raft_admin_transfer_t){.active = true, .corr = m->corr_id, .target = id,
                                      .term = p->term,
                                      .deadline_ms = s_now_ms() + RAFT_ADMIN_TRANSFER_MS};
    snprintf(p->xfer.to, sizeof p->xfer.to, "%s", from);
    return;
  }
  raft_conf_change_t cc = {.node = id};
  switch (q->op) {
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_ADD_LEARNER: cc.type = RAFT_CONF_ADD_LEARNER; break;
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_PROMOTE: cc.type = RAFT_CONF_ADD_VOTER; break;
    case RV__RAFT_ADMIN_OP__RAFT_ADMIN_REMOVE: cc.type = RAFT_CONF_REMOVE; break;
    default:
      snprintf(text, sizeof text, "unknown raft admin operation %d", (int)q->op);
      s_answer(p, from, m->corr_id, RV_EINVAL, text);
      return;
  }
  if (p->admin.active) {
    snprintf(text, sizeof text, "%s %s: an earlier request (#%llu) still waits for its entry to "
             "commit; retry when it has", s_op_verb(q->op), node,
             (unsigned long long)p->admin.corr);
    s_answer(p, from, m->corr_id, RV_EBUSY, text);
    return;
  }
  if (cc.type == RAFT_CONF_ADD_VOTER && p->soft.role == RAFT_LEADER) {
    /* promote is for learners: a node that is not in the configuration at all (a spare, or one
     * just removed) must be added as a learner and caught up first, or it would count towards
     * the quorum with an empty log */
    raft_status_t st;
    raft_core_status(p->core, &st);
    if (!raft_conf_is_voter(&st.conf, id) && !raft_conf_is_learner(&st.conf, id)) {
      snprintf(text, sizeof text, "promote %s: it is not a learner; add it first with "
               "`raftvisor raft add-learner %s` and promote it once it has caught up",
               node, node);
      s_answer(p, from, m->corr_id, RV_EINVAL, text);
      return;
    }
  }
  raft_proposal_t pr = {0};
  int rc = raft_core_propose_conf_change(p->core, &cc, &pr);
  if (rc != RV_OK) {
    s_refusal(p, rc, q->op, node, pr.leader ? pr.leader : p->soft.leader, text, sizeof text);
    s_answer(p, from, m->corr_id, rc, text);
    return;
  }
  rv_info("raft admin #%llu: %s %s proposed at index %llu", (unsigned long long)m->corr_id,
          s_op_verb(q->op), node, (unsigned long long)pr.index);
  p->admin.active = true;
  p->admin.corr = m->corr_id;
  snprintf(p->admin.to, sizeof p->admin.to, "%s", from);
  p->admin.index = pr.index;
  p->admin.term = pr.term;
  snprintf(p->admin.what, sizeof p->admin.what, "%s %s", s_op_verb(q->op), node);
}

void raft_admin_committed(raft_peer_t *p, const raft_entry_t *ents, size_t n) {
  if (!p->admin.active || !n || ents[n - 1].index < p->admin.index) return;
  char text[RV_ERR_MSG_MAX];
  int code = RV_OK;
  for (size_t i = 0; i < n; i++) {
    if (ents[i].index != p->admin.index) continue;
    if (ents[i].term == p->admin.term && ents[i].type == RAFT_ENTRY_CONF)
      snprintf(text, sizeof text, "%s: committed at index %llu", p->admin.what,
               (unsigned long long)ents[i].index);
    else {
      code = RV_EAGAIN;
      snprintf(text, sizeof text, "%s: lost (leadership changed before index %llu committed); "
               "retry", p->admin.what, (unsigned long long)p->admin.index);
    }
    s_answer(p, p->admin.to, p->admin.corr, code, text);
    p->admin.active = false;
    return;
  }
  /* the index went by in an earlier update we did not see in full: say so rather than hang */
  snprintf(text, sizeof text, "%s: index %llu is committed; check raftvisor status",
           p->admin.what, (unsigned long long)p->admin.index);
  s_answer(p, p->admin.to, p->admin.corr, RV_OK, text);
  p->admin.active = false;
}

void raft_admin_role_lost(raft_peer_t *p) {
  if (!p->admin.active) return;
  char text[RV_ERR_MSG_MAX];
  snprintf(text, sizeof text, "%s: this node lost leadership before index %llu committed; check "
           "raftvisor status and retry if needed", p->admin.what,
           (unsigned long long)p->admin.index);
  s_answer(p, p->admin.to, p->admin.corr, RV_EAGAIN, text);
  p->admin.active = false;
}

static bool s_transferring(const raft_peer_t *p) {
  raft_status_t st;
  raft_core_status(p->core, &st);
  return st.transferee != 0;
}

void raft_admin_tick(raft_peer_t *p) {
  raft_admin_transfer_t *x = &p->xfer;
  if (!x->active) return;
  char text[RV_ERR_MSG_MAX];
  const char *target = raft_peer_node_name(p, x->target);
  int code;
  if (p->soft.role != RAFT_LEADER && p->soft.leader == x->target && p->term > x->term) {
    code = RV_OK;
    snprintf(text, sizeof text, "leadership transferred to %s (term %llu)", target,
             (unsigned long long)p->term);
  } else if (p->soft.role != RAFT_LEADER && p->soft.leader && p->soft.leader != x->target) {
    code = RV_EAGAIN;
    snprintf(text, sizeof text, "transfer to %s failed: %s leads instead (term %llu)", target,
             raft_peer_node_name(p, p->soft.leader), (unsigned long long)p->term);
  } else if (p->soft.role == RAFT_LEADER && !s_transferring(p)) {
    code = RV_ETIMEDOUT;
    snprintf(text, sizeof text, "transfer to %s aborted: it did not catch up and win within an "
             "election timeout (is it running and reachable?); leadership stays here", target);
  } else if (s_now_ms() >= x->deadline_ms) {
    code = RV_ETIMEDOUT;
    snprintf(text, sizeof text, "transfer to %s: not complete after %d ms; check raftvisor "
             "status", target, RAFT_ADMIN_TRANSFER_MS);
  } else {
    return;
  }
  s_answer(p, x->to, x->corr, code, text);
  x->active = false;
}
