/* raft_peer_gate: raft-peer's side of raft_gate (I/O shell): the incarnation files, the verdicts
 * carried out on frames and messages from the other nodes, their counters and logs (one line
 * per stranger, per incarnation seen; not-member drops rate-limited). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "raft_incarnation.h"
#include "raft_peer_int.h"
#include "rv_log.h"

int raft_peer_gate_init(raft_peer_t *p, const char *dir, rv_err_t *err) {
  snprintf(p->gate.dir, sizeof p->gate.dir, "%s", dir);
  bool created;
  int rc = raft_incarnation_self(dir, &p->gate.incarnation, &created, err);
  if (rc) return rc;
  if ((rc = raft_incarnation_load(dir, &p->gate.known, err))) return rc;
  if (created)
    rv_warn("incarnation %016" PRIx64 " created with %s: if this node was a member before and "
            "lost its data-dir, its peers ignore it until `raftvisor raft rejoin %s`",
            p->gate.incarnation, dir, p->cfg->node_id);
  else
    rv_info("incarnation %016" PRIx64 "; %zu member incarnations remembered",
            p->gate.incarnation, p->gate.known.n);
  return RV_OK;
}

/* Persists the table; on failure logs, and the caller does not pass what depended on it. */
static bool s_save(raft_peer_t *p) {
  rv_err_t err;
  if (raft_incarnation_save(p->gate.dir, &p->gate.known, &err) == RV_OK) return true;
  rv_error("cannot record the members' incarnations: %s", err.msg);
  return false;
}

static bool s_is_member(const raft_status_t *st, raft_id_t id) {
  return raft_conf_is_voter(&st->conf, id) || raft_conf_is_learner(&st->conf, id);
}

bool raft_peer_gate_frame(raft_peer_t *p, int node, uint64_t inc) {
  raft_id_t id = p->ids[node];
  bool learn;
  raft_gate_verdict_t v = raft_gate_incarnation(&p->gate.known, id, inc, &learn);
  if (v == RAFT_GATE_STRANGER) {
    p->gate.dropped_stranger++;
    if (p->gate.stranger[node] != inc) {
      p->gate.stranger[node] = inc;
      rv_error("node %s presents incarnation %016" PRIx64 ", not %016" PRIx64 " that it had: it "
               "lost its data-dir (and with it its vote); every message from it is ignored "
               "until `raftvisor raft rejoin %s` (run against the leader)",
               p->cfg->nodes[node].id, inc, raft_gate_known(&p->gate.known, id),
               p->cfg->nodes[node].id);
    }
    return false;
  }
  if (learn) {
    raft_status_t st;
    raft_core_status(p->core, &st);
    if (!s_is_member(&st, id)) return true; /* not remembered: the membership gate decides */
    raft_gate_learn(&p->gate.known, id, inc);
    if (!s_save(p)) {
      raft_incarnation_load(p->gate.dir, &p->gate.known, NULL); /* back to what is on disk */
      return false;
    }
    rv_info("member %s: incarnation %016" PRIx64 " recorded", p->cfg->nodes[node].id, inc);
  }
  p->gate.stranger[node] = 0;
  return true;
}

bool raft_peer_gate_msg(raft_peer_t *p, int node, raft_msg_type_t type) {
  raft_status_t st;
  raft_core_status(p->core, &st);
  if (raft_gate_member_ok(&st.conf, p->self, st.role, p->ids[node], type)) return true;
  p->gate.dropped_not_member++;
  uint64_t now = rv_mono_ms();
  if (now - p->gate.not_member_logged_ms >= 1000) {
    rv_warn("dropped a %s from %s: not a voter or learner of the configuration in force (%llu "
            "such messages dropped so far)", raft_msg_type_name(type), p->cfg->nodes[node].id,
            (unsigned long long)p->gate.dropped_not_member);
    p->gate.not_member_logged_ms = now;
  }
  return false;
}

void raft_peer_gate_merge_known(raft_peer_t *p, int node, const Rv__RaftBatch *b) {
  if (!b->n_known || p->soft.role == RAFT_LEADER || p->soft.leader != p->ids[node]) return;
  raft_status_t st;
  raft_core_status(p->core, &st);
  bool changed = false;
  for (size_t i = 0; i < b->n_known; i++) {
    raft_id_t id = b->known[i]->id;
    if (id == p->self || !s_is_member(&st, id)) continue;
    changed |= raft_gate_learn(&p->gate.known, id, b->known[i]->incarnation);
  }
  if (changed && !s_save(p)) raft_incarnation_load(p->gate.dir, &p->gate.known, NULL);
}

size_t raft_peer_gate_known_fill(raft_peer_t *p, Rv__MemberIncarnation *arr,
                                 Rv__MemberIncarnation **ptrs) {
  if (p->soft.role != RAFT_LEADER) return 0;
  size_t n = 0;
  for (size_t i = 0; i < p->gate.known.n; i++, n++) {
    rv__member_incarnation__init(&arr[n]);
    arr[n].id = p->gate.known.ids[i];
    arr[n].incarnation = p->gate.known.incs[i];
    ptrs[n] = &arr[n];
  }
  return n;
}

/* Forgets id's incarnation (durably), and that it was a stranger. */
static void s_forget(raft_peer_t *p, raft_id_t id, const char *why) {
  raft_gate_table_t before = p->gate.known;
  raft_conf_t only = {0};
  for (size_t i = 0; i < before.n; i++)
    if (before.ids[i] != id) only.voters[only.n_voters++] = before.ids[i];
  int node = raft_peer_node_of(p, id);
  if (node >= 0) p->gate.stranger[node] = 0;
  if (!raft_gate_forget_non_members(&p->gate.known, &only)) return;
  rv_info("%s %s: its incarnation is forgotten (the one it presents when added again is "
          "recorded)", node >= 0 ? p->cfg->nodes[node].id : "a member", why);
  if (!s_save(p)) p->gate.known = before; /* the tick tries again */
}

void raft_peer_gate_committed(raft_peer_t *p, const raft_entry_t *ents, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (ents[i].type != RAFT_ENTRY_CONF) continue;
    raft_conf_change_t cc;
    if (raft_conf_change_decode(ents[i].data, ents[i].len, &cc, NULL) != RV_OK) continue;
    if (cc.type == RAFT_CONF_REMOVE) s_forget(p, cc.node, "removed from the configuration");
  }
}

void raft_peer_gate_tick(raft_peer_t *p) {
  raft_status_t st;
  raft_core_status(p->core, &st);
  raft_gate_table_t before = p->gate.known;
  if (!raft_gate_forget_non_members(&p->gate.known, &st.conf)) return;
  for (size_t i = 0; i < before.n; i++) {
    if (s_is_member(&st, before.ids[i])) continue;
    int node = raft_peer_node_of(p, before.ids[i]);
    rv_info("%s left the configuration: its incarnation is forgotten (the one it presents when "
            "added again is recorded)", node >= 0 ? p->cfg->nodes[node].id : "a member");
    if (node >= 0) p->gate.stranger[node] = 0;
  }
  if (!s_save(p)) p->gate.known = before; /* tried again next tick */
}
