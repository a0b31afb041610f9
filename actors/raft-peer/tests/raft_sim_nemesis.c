/* raft_sim_nemesis: what happens to the simulated cluster once a tick: clients (proposals,
 * reads, leadership transfers, log compaction, membership changes) and faults (crashes and
 * partitions of every shape) during the chaos phase; then healing, and the liveness probe of
 * the quiet phase. Test-only. */
#include <stdio.h>
#include <string.h>

#include "raft_sim_internal.h"

static raft_status_t s_status(const sim_node_t *nd) {
  raft_status_t st;
  raft_core_status(nd->r, &st);
  return st;
}

/* A random running node (alive, not paused), or NULL. */
static sim_node_t *s_any_alive(sim_t *s) {
  sim_node_t *pick[RAFT_SIM_MAX_NODES];
  size_t n = 0;
  for (size_t id = 1; id <= s->n_nodes; id++)
    if (sim_running(s, &s->nodes[id])) pick[n++] = &s->nodes[id];
  return n ? pick[sim_rand(s) % n] : NULL;
}

/* The running leader of the highest term, or NULL. */
static sim_node_t *s_leader(sim_t *s) {
  sim_node_t *best = NULL;
  raft_term_t best_term = 0;
  for (size_t id = 1; id <= s->n_nodes; id++) {
    sim_node_t *nd = &s->nodes[id];
    if (!sim_running(s, nd)) continue;
    raft_status_t st = s_status(nd);
    if (st.role == RAFT_LEADER && st.hard.term >= best_term) {
      best = nd;
      best_term = st.hard.term;
    }
  }
  return best;
}

/* ------------------------------------------------------------------------------------------ */
/* Clients. */

/* Clients stick to the node they last saw accept a proposal (as real clients do), so an old
 * leader cut off in a minority keeps accumulating entries that will never commit: the raw
 * material of Figure 8. A redirect or a dead node makes them look elsewhere. */
static void s_propose(sim_t *s) {
  sim_node_t *nd = NULL;
  if (s->client_leader && sim_running(s, &s->nodes[s->client_leader]) && !sim_pct(s, 10))
    nd = &s->nodes[s->client_leader];
  if (!nd) nd = s_any_alive(s);
  if (!nd) return;
  char buf[96];
  size_t pad = (size_t)sim_range(s, 0, 48);
  int len = snprintf(buf, sizeof buf, "op%llu:", (unsigned long long)++s->next_data);
  memset(buf + len, 'x', pad);
  raft_proposal_t p;
  int rc = raft_core_propose(nd->r, buf, (size_t)len + pad, &p);
  if (rc == RV_ENOTLEADER && p.leader && p.leader <= s->n_nodes && sim_running(s, &s->nodes[p.leader])) {
    sim_after_input(s, nd);
    nd = &s->nodes[p.leader]; /* the client follows the redirect */
    rc = raft_core_propose(nd->r, buf, (size_t)len + pad, &p);
  }
  s->client_leader = rc == 0 ? nd->id : 0;
  if (rc == 0) sim_trace(s, SIM_TR_PROPOSE, (int)nd->id, 0, p.index, p.term, 0);
  sim_after_input(s, nd);
}

/* Reads, too, mostly go where the client last saw a leader: a deposed leader that does not know
 * it yet is exactly where a stale read would come from. */
static void s_read(sim_t *s) {
  sim_node_t *nd = NULL;
  if (s->client_leader && sim_running(s, &s->nodes[s->client_leader]) && sim_pct(s, 60))
    nd = &s->nodes[s->client_leader];
  if (!nd) nd = s_any_alive(s);
  if (!nd) return;
  uint64_t ctx = ++s->next_ctx;
  if (raft_core_read_index(nd->r, ctx) == 0) sim_read_issued(s, nd, ctx);
  sim_after_input(s, nd);
}

static void s_transfer(sim_t *s) {
  sim_node_t *l = s_leader(s);
  if (!l) return;
  raft_status_t st = s_status(l);
  if (st.conf.n_voters < 2) return;
  raft_id_t target = st.conf.voters[sim_rand(s) % st.conf.n_voters];
  if (raft_core_transfer_leader(l->r, target) == 0) {
    s->res->transfers++;
    sim_trace(s, SIM_TR_TRANSFER, (int)l->id, (int)target, st.hard.term, 0, 0);
  }
  sim_after_input(s, l);
}

/* The shell snapshots its state machine at the applied index, then lets the core compact. */
static void s_compact(sim_t *s) {
  sim_node_t *nd = s_any_alive(s);
  if (!nd || nd->sm_applied < nd->snap.index + 4) return;
  raft_snapshot_meta_t meta;
  if (raft_core_compact(nd->r, nd->sm_applied, &meta) != 0) return;
  if (meta.index != nd->sm_applied) {
    sim_fail(s, "node %llu: compacted to %llu, asked %llu", (unsigned long long)nd->id,
             (unsigned long long)meta.index, (unsigned long long)nd->sm_applied);
    return;
  }
  /* The snapshot is durable: entries it covers may go from disk. */
  sim_ents_drop_front(&nd->log, (size_t)(meta.index - nd->snap.index));
  nd->snap = meta;
  nd->snap_hash = nd->sm_hash;
  sim_keep_snapshot(nd, meta.index, nd->sm_hash);
  sim_trace(s, SIM_TR_COMPACT, (int)nd->id, 0, meta.index, meta.term, 0);
  sim_after_input(s, nd);
}

/* Membership: start a spare and add it as a learner (or straight as a voter), promote a
 * learner, or remove a voter (keeping at least three) or a learner. */
static void s_membership(sim_t *s) {
  sim_node_t *l = s_leader(s);
  if (!l) return;
  raft_status_t st = s_status(l);
  raft_conf_change_t cc = {0};
  unsigned what = (unsigned)sim_range(s, 0, 2);
  if (what == 0) {
    for (size_t id = s->o->voters + 1; id <= s->n_nodes; id++) {
      sim_node_t *nd = &s->nodes[id];
      /* A removed node is never re-added (it is being decommissioned; ids are not reused). */
      if (nd->decommissioned || nd->decommission_scheduled || raft_conf_is_voter(&st.conf, id) ||
          raft_conf_is_learner(&st.conf, id))
        continue;
      sim_start_spare(s, nd);
      cc.type = sim_pct(s, 75) ? RAFT_CONF_ADD_LEARNER : RAFT_CONF_ADD_VOTER;
      cc.node = id;
      break;
    }
  } else if (what == 1 && st.conf.n_learners) {
    cc.type = RAFT_CONF_ADD_VOTER;
    cc.node = st.conf.learners[sim_rand(s) % st.conf.n_learners];
  } else if (what == 2) {
    if (st.conf.n_learners && sim_pct(s, 30)) {
      cc.type = RAFT_CONF_REMOVE;
      cc.node = st.conf.learners[sim_rand(s) % st.conf.n_learners];
    } else if (st.conf.n_voters > 3) {
      cc.type = RAFT_CONF_REMOVE;
      cc.node = st.conf.voters[sim_rand(s) % st.conf.n_voters];
    }
  }
  if (!cc.node) return;
  raft_proposal_t p;
  int rc = raft_core_propose_conf_change(l->r, &cc, &p);
  if (rc == 0) {
    s->res->conf_changes++;
    sim_trace(s, SIM_TR_CONF, (int)l->id, (int)cc.node, cc.type, p.index, 0);
  }
  sim_after_input(s, l);
}

/* ------------------------------------------------------------------------------------------ */
/* Faults. */

static void s_connect_all(sim_t *s, bool on) {
  for (size_t a = 1; a <= s->n_nodes; a++)
    for (size_t b = 1; b <= s->n_nodes; b++) s->conn[a][b] = on || a == b;
}

static void s_link(sim_t *s, size_t a, size_t b, bool on) {
  s->conn[a][b] = on;
  s->conn[b][a] = on;
}

/* The members in a random order. */
static size_t s_shuffled(sim_t *s, size_t *ids) {
  size_t n = 0;
  for (size_t id = 1; id <= s->n_nodes; id++)
    if (!s->nodes[id].decommissioned) ids[n++] = id;
  for (size_t k = n; k > 1; k--) {
    size_t j = (size_t)(sim_rand(s) % k), t = ids[k - 1];
    ids[k - 1] = ids[j];
    ids[j] = t;
  }
  return n;
}

static void s_partition(sim_t *s) {
  size_t ids[RAFT_SIM_MAX_NODES];
  size_t n = s_shuffled(s, ids);
  if (n < 2) return;
  unsigned shape = (unsigned)sim_range(s, 1, 8);
  s_connect_all(s, true);
  switch (shape) {
    case 1: /* one node alone */
      for (size_t k = 1; k < n; k++) s_link(s, ids[0], ids[k], false);
      break;
    case 2: { /* the leader alone */
      sim_node_t *l = s_leader(s);
      if (l)
        for (size_t id = 1; id <= s->n_nodes; id++)
          if (id != l->id) s_link(s, l->id, id, false);
      break;
    }
    case 3: { /* a random split in two */
      bool side[RAFT_SIM_MAX_NODES + 1];
      for (size_t k = 0; k < n; k++) side[ids[k]] = sim_pct(s, 50);
      for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b++)
          if (side[ids[a]] != side[ids[b]]) s->conn[ids[a]][ids[b]] = false;
      break;
    }
    case 4: { /* a bridge: ids[0] sees both halves, the halves do not see each other */
      for (size_t a = 1; a < n; a++)
        for (size_t b = 1; b < n; b++)
          if ((a % 2) != (b % 2)) s->conn[ids[a]][ids[b]] = false;
      break;
    }
    case 5: { /* a ring: each node sees its two neighbours only. With five nodes every node
               * sees a majority (itself and two), and no two nodes see the same majority. */
      s_connect_all(s, false);
      for (size_t k = 0; k < n; k++) s_link(s, ids[k], ids[(k + 1) % n], true);
      break;
    }
    case 6: { /* one-way links: a hears b but b does not hear a */
      for (int k = 0; k < 2; k++) {
        size_t a = ids[sim_rand(s) % n], b = ids[sim_rand(s) % n];
        if (a != b) s->conn[a][b] = false;
      }
      break;
    }
    case 8: { /* the leader and one follower in the minority */
      sim_node_t *l = s_leader(s);
      if (!l) break;
      size_t buddy = ids[0] != l->id ? ids[0] : ids[1];
      for (size_t a = 1; a <= s->n_nodes; a++)
        for (size_t b = 1; b <= s->n_nodes; b++) {
          bool in_a = a == l->id || a == buddy, in_b = b == l->id || b == buddy;
          if (in_a != in_b) s->conn[a][b] = false;
        }
      break;
    }
    case 7: /* every directed link fails independently */
      for (size_t a = 1; a <= s->n_nodes; a++)
        for (size_t b = 1; b <= s->n_nodes; b++)
          if (a != b && sim_pct(s, 30)) s->conn[a][b] = false;
      break;
  }
  sim_trace(s, SIM_TR_PARTITION, 0, 0, shape, 0, 0);
}

/* SIGSTOP, half the time of the leader: longer than a lease (election_tick - 2 ticks) often
 * enough that a leader trusting its stalled ticks would serve reads after a newer leader
 * committed, and a follower trusting them would vote while its leader's lease still holds.
 * Pauses end before healing. */
static void s_pause(sim_t *s) {
  sim_node_t *nd = sim_pct(s, 50) ? s_leader(s) : NULL;
  if (!nd) nd = s_any_alive(s);
  unsigned ticks = (unsigned)sim_range(s, 1, 30);
  if (nd && s->now + (uint64_t)ticks * SIM_TICK < s->heal_time) sim_pause(s, nd, ticks);
}

static void s_crash(sim_t *s) {
  sim_node_t *nd = sim_pct(s, 30) ? s_leader(s) : NULL;
  if (!nd) nd = s_any_alive(s);
  if (nd) sim_crash(s, nd);
}

/* ------------------------------------------------------------------------------------------ */
/* Healing and liveness. */

/* Healing: every link up, every crashed node restarted, no more faults, clients quiet. A
 * leader must appear within liveness_bound ticks. The probe proposal must commit within
 * liveness_bound ticks plus 3 ticks per entry still uncommitted at healing: it commits only
 * after them, and a run may have configured a pipeline as thin as one entry per round trip. */
static void s_heal(sim_t *s) {
  s->quiet = true;
  s_connect_all(s, true);
  for (size_t id = 1; id <= s->n_nodes; id++) sim_restart(s, &s->nodes[id]);
  raft_index_t backlog = 0;
  for (size_t id = 1; id <= s->n_nodes; id++) {
    sim_node_t *nd = &s->nodes[id];
    if (!nd->alive) continue;
    raft_status_t st = s_status(nd);
    if (st.last_index - st.hard.commit > backlog) backlog = st.last_index - st.hard.commit;
  }
  s->live_deadline = s->now + ((uint64_t)s->o->liveness_bound + 3 * backlog) * SIM_TICK;
  sim_trace(s, SIM_TR_HEAL, 0, 0, backlog, 0, 0);
}

/* After healing: propose on the leader until one proposal commits. */
static void s_liveness(sim_t *s) {
  if (s->live_done) return;
  if (!s->live_leader_seen && s->now > s->heal_time + (uint64_t)s->o->liveness_bound * SIM_TICK) {
    sim_fail(s, "liveness: no leader within %u ticks of healing", s->o->liveness_bound);
    return;
  }
  if (s->now > s->live_deadline) {
    sim_fail(s, "liveness: no proposal committed by %llu ticks after healing",
             (unsigned long long)((s->live_deadline - s->heal_time) / SIM_TICK));
    return;
  }
  if (s->live_pending) {
    sim_node_t *nd = s->live_node;
    if (nd->alive) {
      raft_status_t st = s_status(nd);
      raft_term_t t;
      if (st.hard.commit >= s->live_index && raft_core_term(nd->r, s->live_index, &t) == 0 &&
          t == s->live_term) {
        s->live_done = true;
        s->live_done_time = s->now;
        s->res->liveness_ticks = (unsigned)((s->now - s->heal_time) / SIM_TICK);
        return;
      }
      if (st.role == RAFT_LEADER && st.hard.term == s->live_term) return; /* wait */
    }
    s->live_pending = false;
  }
  sim_node_t *l = s_leader(s);
  if (!l) return;
  if (!s->live_leader_seen) s->res->leader_ticks = (unsigned)((s->now - s->heal_time) / SIM_TICK);
  s->live_leader_seen = true;
  raft_proposal_t p;
  if (raft_core_propose(l->r, "liveness", 8, &p) == 0) {
    s->live_pending = true;
    s->live_node = l;
    s->live_index = p.index;
    s->live_term = p.term;
  }
  sim_after_input(s, l);
}

void sim_nemesis(sim_t *s) {
  const raft_sim_opts_t *o = s->o;
  if (!s->quiet && s->now >= s->heal_time) s_heal(s);
  if (s->quiet) {
    if (o->reads && sim_pct(s, 10)) s_read(s);
    s_liveness(s);
    return;
  }
  if (sim_pct(s, 60)) s_propose(s);
  if (o->reads && sim_pct(s, 15)) s_read(s);
  if (o->crash_pct && sim_pct(s, o->crash_pct)) s_crash(s);
  if (o->pauses && sim_pct(s, 3)) s_pause(s);
  if (o->partitions && s->now >= s->partition_until) {
    /* Partitioned and healed spells alternate, each lasting up to partition_max ticks. */
    if (s->partitioned) {
      s_connect_all(s, true);
      sim_trace(s, SIM_TR_PARTITION, 0, 0, 0, 0, 0);
    } else {
      s_partition(s);
    }
    s->partitioned = !s->partitioned;
    s->partition_until = s->now + sim_range(s, 1, s->partition_max) * SIM_TICK;
  }
  if (o->transfers && sim_pct(s, 2)) s_transfer(s);
  if (o->snapshots && sim_pct(s, 10)) s_compact(s);
  if (o->membership && sim_pct(s, 4)) s_membership(s);
}
