/* raft_gate: the membership and incarnation gates in front of the Raft core (pure). See the
 * header for the rules and why. */
#include "raft_gate.h"

#include <string.h>

bool raft_gate_member_ok(const raft_conf_t *conf, raft_id_t self, raft_role_t role,
                         raft_id_t from, raft_msg_type_t type) {
  (void)self;
  if (raft_conf_is_voter(conf, from) || raft_conf_is_learner(conf, from)) return true;
  /* a lagging configuration must not shut out the leader that will bring it up to date */
  bool from_leader = type == RAFT_MSG_APP || type == RAFT_MSG_HEARTBEAT || type == RAFT_MSG_SNAP;
  return from_leader && role != RAFT_LEADER;
}

static int s_find(const raft_gate_table_t *t, raft_id_t id) {
  for (size_t i = 0; i < t->n; i++)
    if (t->ids[i] == id) return (int)i;
  return -1;
}

uint64_t raft_gate_known(const raft_gate_table_t *t, raft_id_t id) {
  int i = s_find(t, id);
  return i < 0 ? 0 : t->incs[i];
}

raft_gate_verdict_t raft_gate_incarnation(const raft_gate_table_t *t, raft_id_t from,
                                          uint64_t inc, bool *learn) {
  *learn = false;
  if (inc == 0) return RAFT_GATE_PASS;
  uint64_t known = raft_gate_known(t, from);
  if (known == 0) {
    *learn = true;
    return RAFT_GATE_PASS;
  }
  return known == inc ? RAFT_GATE_PASS : RAFT_GATE_STRANGER;
}

bool raft_gate_learn(raft_gate_table_t *t, raft_id_t id, uint64_t inc) {
  if (inc == 0 || id == 0 || s_find(t, id) >= 0 || t->n >= RAFT_MAX_MEMBERS) return false;
  t->ids[t->n] = id;
  t->incs[t->n] = inc;
  t->n++;
  return true;
}

bool raft_gate_forget_non_members(raft_gate_table_t *t, const raft_conf_t *conf) {
  size_t k = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (!raft_conf_is_voter(conf, t->ids[i]) && !raft_conf_is_learner(conf, t->ids[i])) continue;
    t->ids[k] = t->ids[i];
    t->incs[k] = t->incs[i];
    k++;
  }
  bool changed = k != t->n;
  t->n = k;
  return changed;
}

bool raft_gate_term_ok(uint64_t ours, uint64_t msg_term) {
  return msg_term <= ours || msg_term - ours <= RAFT_GATE_TERM_JUMP_MAX;
}

const char *raft_gate_verdict_name(raft_gate_verdict_t v) {
  switch (v) {
    case RAFT_GATE_PASS: return "pass";
    case RAFT_GATE_NOT_MEMBER: return "not-member";
    case RAFT_GATE_STRANGER: return "stranger";
  }
  return "?";
}
