/* raft_sim_check: the invariants the simulation checks after every event (see raft_sim.h), and
 * the trace printer. Test-only.
 *
 * The global views: term -> leader (election safety); index -> committed term and the term in
 * which it was first seen committed (leader completeness); index -> state machine hash after
 * applying it (state machine safety); (index, term) -> entry hash and predecessor term (log
 * matching, checked inductively: if every pair names one entry with one predecessor term, equal
 * pairs have equal prefixes). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_sim_internal.h"

static uint64_t s_fnv(uint64_t h, const void *p, size_t n) {
  const uint8_t *b = p;
  for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 0x100000001B3ull;
  return h;
}

static uint64_t s_entry_hash(const raft_entry_t *e) {
  uint64_t h = 0xCBF29CE484222325ull;
  uint32_t type = (uint32_t)e->type;
  h = s_fnv(h, &type, sizeof type);
  h = s_fnv(h, &e->len, sizeof e->len);
  return e->len ? s_fnv(h, e->data, e->len) : h;
}

uint64_t sim_hash_apply(uint64_t h, const raft_entry_t *e) {
  h = s_fnv(h ^ 0x9E3779B97F4A7C15ull, &e->index, sizeof e->index);
  h = s_fnv(h, &e->term, sizeof e->term);
  uint64_t eh = s_entry_hash(e);
  return s_fnv(h, &eh, sizeof eh);
}

static unsigned long long s_u(uint64_t v) { return (unsigned long long)v; }

/* ------------------------------------------------------------------------------------------ */
/* Log matching. */

static size_t s_pair_slot(const sim_t *s, raft_index_t index, raft_term_t term) {
  uint64_t h = (index * 0x9E3779B97F4A7C15ull) ^ (term * 0xC2B2AE3D27D4EB4Full);
  return (size_t)(h ^ (h >> 29)) & (s->cap_pairs - 1);
}

static sim_pair_t *s_pair_find(sim_t *s, raft_index_t index, raft_term_t term, bool insert) {
  if (s->n_pairs * 2 >= s->cap_pairs) {
    sim_pair_t *old = s->pairs;
    size_t old_cap = s->cap_pairs;
    s->cap_pairs = old_cap ? 2 * old_cap : 1024;
    s->pairs = calloc(s->cap_pairs, sizeof *s->pairs);
    if (!s->pairs) abort();
    for (size_t k = 0; k < old_cap; k++) {
      if (!old[k].used) continue;
      size_t i = s_pair_slot(s, old[k].index, old[k].term);
      while (s->pairs[i].used) i = (i + 1) & (s->cap_pairs - 1);
      s->pairs[i] = old[k];
    }
    free(old);
  }
  size_t i = s_pair_slot(s, index, term);
  while (s->pairs[i].used) {
    if (s->pairs[i].index == index && s->pairs[i].term == term) return &s->pairs[i];
    i = (i + 1) & (s->cap_pairs - 1);
  }
  if (!insert) return NULL;
  s->pairs[i] = (sim_pair_t){.index = index, .term = term, .used = true};
  s->n_pairs++;
  return &s->pairs[i];
}

void sim_check_update(sim_t *s, sim_node_t *nd, const raft_update_t *u) {
  for (size_t k = 0; k < u->n_entries; k++) {
    const raft_entry_t *e = &u->entries[k];
    raft_term_t prev = 0;
    if (k > 0)
      prev = u->entries[k - 1].term;
    else if (raft_core_term(nd->r, e->index - 1, &prev) != 0)
      prev = 0;
    if (e->index == 1) prev = 0;
    uint64_t h = s_entry_hash(e);
    sim_pair_t *p = s_pair_find(s, e->index, e->term, false);
    if (!p) {
      p = s_pair_find(s, e->index, e->term, true);
      p->data_hash = h;
      p->prev_term = prev;
      continue;
    }
    if (p->data_hash != h)
      sim_fail(s, "log matching: node %llu holds a different entry at (index %llu, term %llu)",
               s_u(nd->id), s_u(e->index), s_u(e->term));
    else if (p->prev_term && prev && p->prev_term != prev)
      sim_fail(s, "log matching: node %llu has (index %llu, term %llu) after term %llu, others "
                  "after term %llu", s_u(nd->id), s_u(e->index), s_u(e->term), s_u(prev),
               s_u(p->prev_term));
    else if (!p->prev_term)
      p->prev_term = prev;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Election safety, leader completeness, commits. */

static bool s_has_committed(sim_t *s, sim_node_t *nd, const raft_status_t *st, raft_index_t i) {
  if (i < st->first_index) return true; /* compacted into its snapshot (checked on apply) */
  raft_term_t t;
  return raft_core_term(nd->r, i, &t) == 0 && t == s->commit_term[i];
}

/* Leader completeness (§5.4): a leader of term T holds every entry committed before T. */
static void s_check_leader_complete(sim_t *s, sim_node_t *nd, const raft_status_t *st,
                                    raft_index_t lo, raft_index_t hi) {
  for (raft_index_t i = lo; i <= hi && !s->res->violated; i++) {
    if (s->commit_in_term[i] >= st->hard.term) continue;
    if (!s_has_committed(s, nd, st, i))
      sim_fail(s, "leader completeness: leader %llu of term %llu lacks entry %llu (term %llu) "
                  "committed in term %llu", s_u(nd->id), s_u(st->hard.term), s_u(i),
               s_u(s->commit_term[i]), s_u(s->commit_in_term[i]));
  }
}

/* commit_term and commit_in_term grow together (sim_grow is deterministic in its sizes). */
static void s_grow_commit(sim_t *s, size_t need) {
  size_t cap = s->cap_commit, cap2 = s->cap_commit;
  s->commit_term = sim_grow(s->commit_term, &cap, need, sizeof *s->commit_term);
  s->commit_in_term = sim_grow(s->commit_in_term, &cap2, need, sizeof *s->commit_in_term);
  s->cap_commit = cap;
}

void sim_observe(sim_t *s, sim_node_t *nd) {
  if (!nd->alive || s->res->violated) return;
  raft_status_t st;
  raft_core_status(nd->r, &st);
  raft_sim_result_t *res = s->res;
  if (st.hard.term > res->max_term) res->max_term = st.hard.term;
  /* Correct nodes never see a leader disagree with what they committed (§5.4): a fault here is
   * a safety bug somewhere, not a damaged disk. */
  if (st.fault[0]) {
    sim_fail(s, "node %llu stopped: %s", (unsigned long long)nd->id, st.fault);
    return;
  }
  if (st.role != s->roles[nd->id]) {
    s->roles[nd->id] = st.role;
    uint64_t voters = 0;
    for (size_t k = 0; k < st.conf.n_voters; k++)
      if (st.conf.voters[k] < 64) voters |= 1ull << st.conf.voters[k];
    sim_trace_more(s, SIM_TR_ROLE, (int)nd->id, 0, st.role, st.hard.term, st.last_index,
                   st.last_term, voters);
  }

  /* The commit index never goes back (§5.3), except through a crash. */
  if (st.hard.commit < nd->last_commit) {
    sim_fail(s, "node %llu: commit index went from %llu back to %llu", s_u(nd->id),
             s_u(nd->last_commit), s_u(st.hard.commit));
    return;
  }
  nd->last_commit = st.hard.commit;

  /* Election safety (§5.2): at most one leader per term, ever. */
  bool new_leadership = st.role == RAFT_LEADER && nd->leader_checked_term != st.hard.term;
  if (st.role == RAFT_LEADER) {
    s->term_leader = sim_grow(s->term_leader, &s->cap_term_leader, st.hard.term + 1,
                              sizeof *s->term_leader);
    raft_id_t *seen = &s->term_leader[st.hard.term];
    if (*seen == 0) {
      *seen = nd->id;
      res->elections++;
      sim_new_leader(s, nd);
    } else if (*seen != nd->id) {
      sim_fail(s, "election safety: nodes %llu and %llu both led term %llu", s_u(*seen),
               s_u(nd->id), s_u(st.hard.term));
      return;
    }
    if (nd->leader_checked_term != st.hard.term) {
      nd->leader_checked_term = st.hard.term;
      s_check_leader_complete(s, nd, &st, 1, s->max_commit);
    }
  }

  /* Leases (thesis §6.4.1): while a leader's lease holds, no leader of a later term may exist.
   * Checked whenever a lease holder or a new leader is observed (nothing else changes either),
   * so a broken lease shows even if no read happens to land in the window. */
  if (st.lease_valid || new_leadership) {
    for (size_t id = 1; id <= s->n_nodes && !res->violated; id++) {
      sim_node_t *other = &s->nodes[id];
      if (!other->alive || other == nd) continue;
      raft_status_t os;
      raft_core_status(other->r, &os);
      if (os.role != RAFT_LEADER) continue;
      const raft_status_t *holder = st.hard.term < os.hard.term ? &st : &os;
      const raft_status_t *newer = holder == &st ? &os : &st;
      if (holder->lease_valid && newer->hard.term > holder->hard.term)
        sim_fail(s, "lease: node %llu holds a lease in term %llu while node %llu leads term %llu",
                 s_u(holder->id), s_u(holder->hard.term), s_u(newer->id), s_u(newer->hard.term));
    }
  }

  /* New commits anywhere: remember what was committed, and in which term it was first seen. */
  if (st.hard.commit > s->max_commit) {
    raft_index_t old = s->max_commit;
    s_grow_commit(s, st.hard.commit + 1);
    for (raft_index_t i = old + 1; i <= st.hard.commit; i++) {
      raft_term_t t;
      if (raft_core_term(nd->r, i, &t) != 0) {
        sim_fail(s, "node %llu committed index %llu it does not hold", s_u(nd->id), s_u(i));
        return;
      }
      s->commit_term[i] = t;
      s->commit_in_term[i] = st.hard.term;
    }
    s->max_commit = st.hard.commit;
    res->commits += st.hard.commit - old;
    sim_trace(s, SIM_TR_COMMIT, (int)nd->id, 0, st.hard.commit, st.hard.term, 0);
    /* Every current leader of a later term must already hold them. */
    for (size_t id = 1; id <= s->n_nodes; id++) {
      sim_node_t *other = &s->nodes[id];
      if (!other->alive || other == nd) continue;
      raft_status_t os;
      raft_core_status(other->r, &os);
      if (os.role == RAFT_LEADER) s_check_leader_complete(s, other, &os, old + 1, st.hard.commit);
    }
  }

  /* This node's committed prefix is the committed prefix. */
  for (raft_index_t i = nd->checked_commit + 1; i <= st.hard.commit && !res->violated; i++) {
    raft_term_t t;
    if (raft_core_term(nd->r, i, &t) == 0 && t != s->commit_term[i])
      sim_fail(s, "node %llu committed (index %llu, term %llu) but (index %llu, term %llu) was "
                  "committed", s_u(nd->id), s_u(i), s_u(t), s_u(i), s_u(s->commit_term[i]));
  }
  nd->checked_commit = st.hard.commit;
}

/* ------------------------------------------------------------------------------------------ */
/* State machine safety. */

void sim_check_applied(sim_t *s, sim_node_t *nd, raft_index_t index, uint64_t hash) {
  s->applied_hash = sim_grow(s->applied_hash, &s->cap_applied, index + 1, sizeof *s->applied_hash);
  if (s->applied_hash[index] == 0) {
    s->applied_hash[index] = hash;
  } else if (s->applied_hash[index] != hash) {
    sim_fail(s, "state machine safety: node %llu applied a different history at index %llu",
             s_u(nd->id), s_u(index));
  }
}

void sim_check_snapshot(sim_t *s, sim_node_t *nd, const sim_snapdata_t *d) {
  if (d->index >= s->cap_applied || s->applied_hash[d->index] == 0) {
    sim_fail(s, "node %llu installs a snapshot at %llu that nobody applied", s_u(nd->id),
             s_u(d->index));
  } else if (s->applied_hash[d->index] != d->hash) {
    sim_fail(s, "state machine safety: node %llu installs a snapshot at %llu that differs from "
                "the applied history", s_u(nd->id), s_u(d->index));
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Reads: linearizable iff the read index is at least every commit index known when asked. */

void sim_read_issued(sim_t *s, sim_node_t *nd, uint64_t ctx) {
  if (s->n_reads == 512) { /* unanswered reads are allowed (dropped): forget the oldest */
    memmove(s->reads, s->reads + 1, (s->n_reads - 1) * sizeof *s->reads);
    s->n_reads--;
  }
  s->reads = sim_grow(s->reads, &s->cap_reads, s->n_reads + 1, sizeof *s->reads);
  s->reads[s->n_reads++] = (sim_read_t){ctx, s->max_commit, (int)nd->id};
  sim_trace(s, SIM_TR_READ, (int)nd->id, 0, ctx, s->max_commit, 0);
}

void sim_check_read(sim_t *s, sim_node_t *nd, const raft_read_state_t *rs) {
  for (size_t k = 0; k < s->n_reads; k++) {
    if (s->reads[k].ctx != rs->ctx) continue;
    if (s->reads[k].node != (int)nd->id)
      sim_fail(s, "read %llu asked on node %d answered on node %llu", s_u(rs->ctx),
               s->reads[k].node, s_u(nd->id));
    else if (rs->index < s->reads[k].min_index)
      sim_fail(s, "linearizability: read %llu on node %llu served at index %llu, but %llu was "
                  "committed when it was asked", s_u(rs->ctx), s_u(nd->id), s_u(rs->index),
               s_u(s->reads[k].min_index));
    s->res->reads_served++;
    memmove(s->reads + k, s->reads + k + 1, (s->n_reads - k - 1) * sizeof *s->reads);
    s->n_reads--;
    return;
  }
  /* Served twice (a duplicated response) or forgotten: nothing to check. */
}

void sim_check_close(sim_t *s) {
  free(s->term_leader);
  free(s->commit_term);
  free(s->commit_in_term);
  free(s->applied_hash);
  free(s->pairs);
  free(s->reads);
}

/* ------------------------------------------------------------------------------------------ */

void sim_trace_print(const sim_trace_t *t) {
  static const char *kinds[] = {"recv", "drop", "start", "crash", "decommission", "install",
                                "role", "commit", "propose", "partition", "transfer", "conf",
                                "compact", "read", "heal", "pause"};
  fprintf(stderr, "  %6llu.%llu n%d ", s_u(t->time / SIM_TICK), s_u(t->time % SIM_TICK), t->node);
  switch (t->kind) {
    case SIM_TR_RECV:
    case SIM_TR_DROP:
      fprintf(stderr, "%s %s ->n%d term=%llu index=%llu log_term=%llu%s\n", kinds[t->kind],
              raft_msg_type_name((raft_msg_type_t)t->a), t->peer, s_u(t->b), s_u(t->c),
              s_u(t->e), t->d ? " reject" : "");
      break;
    case SIM_TR_ROLE:
      fprintf(stderr, "role %s term=%llu last=%llu last_term=%llu voters=",
              raft_role_name((raft_role_t)t->a), s_u(t->b), s_u(t->c), s_u(t->d));
      for (int k = 0; k < 64; k++)
        if (t->e >> k & 1) fprintf(stderr, "n%d ", k);
      fprintf(stderr, "\n");
      break;
    default:
      fprintf(stderr, "%s %llu %llu %llu peer=%d\n", kinds[t->kind], s_u(t->a), s_u(t->b),
              s_u(t->c), t->peer);
  }
}
