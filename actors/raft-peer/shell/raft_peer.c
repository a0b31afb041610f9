/* raft_peer: the raft-peer actor (I/O shell): timers, sockets, the log store and kv-store
 * delivery around raft_core. See raft_peer.h for the protocol with kv-store. */
#include "raft_peer.h"

#include <stdlib.h>
#include <string.h>

#include "raft_peer_int.h"
#include "raft_store.h"
#include "raft_wire.h"
#include "rv_peers.h"

/* Entries per ApplyBatch. kv-store applies a batch in slices (kv_slice.h bounds each one's
 * time), so a batch's size bounds only what one message carries and what kv-store queues. */
#define S_APPLY_BATCH_MAX 2048
/* A follower hands its kv-store committed entries at most this often (below) */
#define S_FOLLOWER_DELIVER_MS 40
#define S_APPLY_BYTES_MAX (4u << 20)      /* entry bytes per ApplyBatch */
/* Entries in flight to kv-store beyond what it said it has taken in. Without a bound, a
 * catch-up (a kv-store restarted 10,000 entries behind) filled its inbox with seconds of apply
 * work, queued ahead of the supervisor's heartbeats: it was killed as hung, again and again,
 * until the node stopped. With it, a heartbeat waits behind at most two batches. */
#define S_APPLY_WINDOW (2 * S_APPLY_BATCH_MAX)
#define S_PEER_DRAIN 1024                 /* peer frames taken per wake-up */
#define S_SLOW_SAVE_US 100000u            /* a log save this slow is logged as a warning */

raft_peer_t *raft_peer_new(void) { return calloc(1, sizeof(raft_peer_t)); }

int raft_peer_node_of(const raft_peer_t *p, raft_id_t id) {
  for (int i = 0; i < p->cfg->nnodes; i++)
    if (p->ids[i] == id) return i;
  return -1;
}

const char *raft_peer_node_name(const raft_peer_t *p, raft_id_t id) {
  int i = raft_peer_node_of(p, id);
  return i >= 0 ? p->cfg->nodes[i].id : "";
}

static uint64_t s_boot_us(void *arg) {
  (void)arg;
  return rv_boot_us();
}

/* ---- publishing state --------------------------------------------------------------------- */

static void s_send_state(raft_peer_t *p, const char *to) {
  raft_status_t st;
  raft_core_status(p->core, &st);
  Rv__RaftState rs = RV__RAFT_STATE__INIT;
  rs.role = (char *)raft_role_name(st.role);
  rs.term = st.hard.term;
  rs.leader = st.leader;
  rs.leader_node = (char *)raft_peer_node_name(p, st.leader);
  rs.snapshots_refused = p->snap_refused;
  rs.proposals = p->proposals;
  rs.proposals_failed = p->proposals_failed;
  rs.snapshots_sent = p->snaps_sent;
  rs.snapshots_installed = p->snaps_installed;
  Rv__Histogram saves = RV__HISTOGRAM__INIT;
  saves.n_buckets = RV_HIST_NBUCKETS;
  saves.buckets = p->log_saves.buckets;
  saves.count = p->log_saves.count;
  saves.sum_us = p->log_saves.sum_us;
  rs.log_saves = &saves;
  rs.log_saved_entries = p->log_saved_entries;
  rs.dropped_not_member = p->gate.dropped_not_member;
  rs.dropped_stranger = p->gate.dropped_stranger;
  rs.dropped_malformed = p->gate.dropped_malformed;
  rs.incarnation = p->gate.incarnation;
  rs.lease_reads = p->cfg->raft_lease_reads;
  rs.reads_lease = st.reads_lease;
  rs.reads_round = st.reads_round;
  /* a follower hears the other followers only in elections: its reason would be noise */
  rs.lease_wait = st.role == RAFT_LEADER ? p->lease_wait : "";
  rs.feature_level = p->kv_level;
  char *strangers[CFG_MAX_NODES];
  for (int i = 0; i < p->cfg->nnodes; i++)
    if (p->gate.stranger[i]) strangers[rs.n_strangers++] = (char *)p->cfg->nodes[i].id;
  rs.strangers = strangers;
  rs.fault = (char *)raft_core_fault(p->core);
  rs.fence = p->fence.pending ? p->fence.text : "";
  rs.commit = st.hard.commit;
  rs.applied = p->kv_applied;
  rs.last_index = st.last_index;
  rs.snapshot_index = st.snapshot.index;
  rs.id = p->self;
  /* the configuration in force, by name; a node outside it keeps running but says so */
  char *voters[RAFT_MAX_MEMBERS], *learners[RAFT_MAX_MEMBERS];
  for (size_t i = 0; i < st.conf.n_voters; i++)
    voters[i] = (char *)raft_peer_node_name(p, st.conf.voters[i]);
  for (size_t i = 0; i < st.conf.n_learners; i++)
    learners[i] = (char *)raft_peer_node_name(p, st.conf.learners[i]);
  rs.n_voters = st.conf.n_voters;
  rs.voters = voters;
  rs.n_learners = st.conf.n_learners;
  rs.learners = learners;
  rs.membership = raft_conf_is_voter(&st.conf, p->self)     ? "voter"
                  : raft_conf_is_learner(&st.conf, p->self) ? "learner"
                                                            : "not-member";
  if (rs.membership[0] == 'n' && !p->removed_logged) {
    rv_warn("this node is not in the Raft configuration (voters %zu, learners %zu): it takes no "
            "part until it is added again with `raftvisor raft add-learner`",
            st.conf.n_voters, st.conf.n_learners);
    p->removed_logged = true;
  } else if (rs.membership[0] != 'n') {
    p->removed_logged = false;
  }
  Rv__PeerProgress prog[CFG_MAX_NODES], *pp[CFG_MAX_NODES];
  size_t n = 0;
  static const char *states[] = {"probe", "replicate", "snapshot"};
  if (st.role == RAFT_LEADER)
    for (int i = 0; i < p->cfg->nnodes; i++) {
      raft_progress_t pr;
      if (p->ids[i] == p->self || raft_core_progress(p->core, p->ids[i], &pr) != RV_OK) continue;
      rv__peer_progress__init(&prog[n]);
      prog[n].id = pr.id;
      prog[n].node = (char *)p->cfg->nodes[i].id;
      prog[n].match = pr.match;
      prog[n].next = pr.next;
      prog[n].state = (char *)states[pr.state <= RAFT_PROGRESS_SNAPSHOT ? pr.state : 0];
      prog[n].learner = pr.learner;
      prog[n].active = pr.recent_active;
      prog[n].feature_level = p->peer_level[i];
      if (pr.recent_active == p->peer_lost[i]) { /* loss and return of a peer, as leader */
        if (pr.recent_active)
          rv_info("peer %s is back: it answers the leader again", p->cfg->nodes[i].id);
        else
          rv_warn("peer %s lost: no answer to the leader within an election timeout",
                  p->cfg->nodes[i].id);
        p->peer_lost[i] = !pr.recent_active;
      }
      pp[n] = &prog[n];
      n++;
    }
  rs.n_peers = n;
  rs.peers = pp;
  rv_actor_send(p->a, to, RV_MSG_RAFT_STATE, &rs.base, ++p->published_seq);
}

static void s_publish_state(raft_peer_t *p) {
  s_send_state(p, "supervisor");
  if (p->kv_attached) s_send_state(p, "kv-store");
  if (p->has_health_monitor) s_send_state(p, "health-monitor");
  if (p->has_replicator) s_send_state(p, "ots-replicator");
}

/* ---- sending to peers --------------------------------------------------------------------- */

/* Sends msgs grouped by recipient: one RaftBatch frame per peer. */
static void s_send_msgs(raft_peer_t *p, const raft_msg_t *msgs, size_t n) {
  if (!n) return;
  for (int node = 0; node < p->cfg->nnodes; node++) {
    if (node == p->cfg->self) continue;
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
      if (msgs[i].to == p->ids[node]) count++;
    if (!count) continue;
    raft_wire_msg_t *w = calloc(count, sizeof *w);
    Rv__RaftMessage **ptrs = calloc(count, sizeof *ptrs);
    size_t k = 0;
    for (size_t i = 0; i < n && w && ptrs; i++) {
      if (msgs[i].to != p->ids[node]) continue;
      if (msgs[i].type == RAFT_MSG_SNAP) {
        /* the data goes in its own stream; the follower steps the MsgSnap at its end */
        raft_snap_stream_send(p, node, &msgs[i]);
        continue;
      }
      if (raft_wire_msg_encode(&msgs[i], &w[k], NULL) == RV_OK) {
        ptrs[k] = &w[k].msg;
        k++;
      }
    }
    if (k) {
      Rv__RaftBatch b = RV__RAFT_BATCH__INIT;
      b.cluster = (char *)p->cfg->cluster_id;
      b.from = p->self;
      b.n_msgs = k;
      b.msgs = ptrs;
      b.incarnation = p->gate.incarnation;
      b.feature_level = p->kv_level;
      b.says_level = true;
      b.clock_leases = raft_lease_says();
      Rv__MemberIncarnation known[RAFT_MAX_MEMBERS], *known_ptrs[RAFT_MAX_MEMBERS];
      b.n_known = raft_peer_gate_known_fill(p, known, known_ptrs);
      b.known = known_ptrs;
      rv_err_t err;
      if (rv_peers_send(p->peers, node, RV_MSG_RAFT_BATCH, &b.base, 0, &err) != RV_OK) {
        rv_debug("to %s: %s", p->cfg->nodes[node].id, err.msg);
        raft_core_report_unreachable(p->core, p->ids[node]);
      }
    }
    for (size_t i = 0; i < k; i++) raft_wire_msg_release(&w[i]);
    free(w);
    free(ptrs);
  }
}

/* ---- delivering committed entries to kv-store --------------------------------------------- */

/* The outcomes that wait (p->outcomes) as the pointer array a message takes, or NULL (none).
 * The array is the actor's own, sized with the outcomes (s_outcome_keep): no allocation per
 * ApplyBatch. */
static Rv__ProposeOutcome **s_outcome_ptrs(raft_peer_t *p) {
  if (!p->n_outcomes) return NULL;
  for (size_t i = 0; i < p->n_outcomes; i++) p->outcome_ptrs[i] = &p->outcomes[i];
  return p->outcome_ptrs;
}

/* At a tick: outcomes no ApplyBatch took go alone, so a proposal learns its index within a
 * tick whatever commits (kv-store drops those of requests it no longer has). */
static void s_flush_outcomes(raft_peer_t *p) {
  Rv__ProposeOutcome **ptrs = s_outcome_ptrs(p);
  if (!ptrs) return;
  Rv__ProposeResult r = RV__PROPOSE_RESULT__INIT;
  r.n_outcomes = p->n_outcomes;
  r.outcomes = ptrs;
  if (rv_actor_send(p->a, "kv-store", RV_MSG_PROPOSE_RESULT, &r.base, 0) == RV_OK ||
      !p->kv_attached)
    p->n_outcomes = 0; /* a kv-store that is gone has forgotten those requests */
}

static void s_deliver(raft_peer_t *p) {
  while (p->kv_attached && p->kv_next && p->kv_next <= p->deliverable &&
         p->kv_next <= p->kv_taken + S_APPLY_WINDOW) {
    /* 144 KiB: kept off the stack (one thread runs the actor) */
    static Rv__RaftEntry ents[S_APPLY_BATCH_MAX], *ptrs[S_APPLY_BATCH_MAX];
    size_t n = 0, bytes = 0;
    raft_index_t i = p->kv_next;
    for (; i <= p->deliverable && i <= p->kv_taken + S_APPLY_WINDOW && n < S_APPLY_BATCH_MAX &&
           bytes < S_APPLY_BYTES_MAX;
         i++) {
      raft_entry_t e;
      if (raft_core_entry(p->core, i, &e) != RV_OK) {
        rv_error("kv-store needs entry %llu, which is compacted away here: its state is older "
                 "than this node's Raft snapshot (was its data removed alone?)",
                 (unsigned long long)i);
        p->kv_attached = false;
        return;
      }
      rv__raft_entry__init(&ents[n]);
      ents[n].term = e.term;
      ents[n].index = e.index;
      ents[n].type = (uint32_t)e.type;
      ents[n].data.data = e.data;
      ents[n].data.len = e.len;
      ptrs[n] = &ents[n];
      bytes += e.len;
      n++;
    }
    Rv__ApplyBatch b = RV__APPLY_BATCH__INIT;
    b.n_entries = n;
    b.entries = ptrs;
    b.ack = i - 1 >= p->kv_taken + S_APPLY_WINDOW / 2;
    /* the outcomes of the proposals since the last message, taken in before the entries: among
     * these entries may be theirs (raft_peer.h) */
    Rv__ProposeOutcome **outs = s_outcome_ptrs(p);
    bool folded = outs != NULL;
    b.n_outcomes = folded ? p->n_outcomes : 0;
    b.outcomes = outs;
    int rc = rv_actor_send(p->a, "kv-store", RV_MSG_APPLY_BATCH, &b.base, 0);
    if (rc != RV_OK) {
      /* kv-store is gone or full: it will ask again (ApplyFrom) when it is back */
      rv_info("kv-store does not take committed entries; waiting for it to ask again");
      p->kv_attached = false;
      return;
    }
    if (folded) p->n_outcomes = 0;
    p->kv_next = i;
  }
}

/* Whether a follower holds its committed entries back from kv-store for now. A follower hands
 * them over in batches: every S_FOLLOWER_DELIVER_MS (at a tick, s_on_tick) or once a full
 * ApplyBatch waits, not one ApplyBatch per commit it learns (issue 11):
 * - at one client a follower learns each write's commit alone, and every ApplyBatch cost its
 *   raft-peer a send and its kv-store two wake-ups;
 * - under load, what a follower's kv-store pays per create falls with the size of its apply
 *   slices: keys that many creates share (the parent's attributes, each client's session, the
 *   applied index) go into the memtable once per slice, not once per create, so its skip list
 *   holds fewer versions of them and each insert searches less. Delivering every 80 ms instead
 *   of every tick (10 ms) cut kv-store's CPU per file of a bulk load by a fifth (main README,
 *   Benchmarks).
 * - but each delivery is a burst of CPU (1,024 creates take a follower's kv-store 10-20 ms), and
 *   with three nodes on one host the bursts hold back the leader: every 80 ms made creates at 64
 *   clients wait longer in the tail (p99 11.1 against 10.1 ms for every 40 ms), while a bulk
 *   load of 600,000 files cost the same at 40 ms (each run into a fresh cluster: 27.4 and 27.5
 *   µs of CPU per file in the followers' kv-stores; at 1.5 M files perhaps 5% more, 30.8 and
 *   32.5, measured on a busier host for the 40 ms side). So: every 40 ms.
 * Nothing waits on a follower's apply but its own reads, which go at once: entries up to a read
 * index handed to kv-store are never held back. A leader, a candidate (about to lead: it applies
 * first) and anything kv-store asks for (ApplyFrom, a moved window) are delivered at once; a
 * follower that wins an election applies what it held (at most S_FOLLOWER_DELIVER_MS of
 * commits) before its first write is answered. */
static bool s_holding(const raft_peer_t *p) {
  return p->soft.role == RAFT_FOLLOWER && p->kv_next && p->kv_next <= p->deliverable &&
         p->deliverable - p->kv_next + 1 < S_APPLY_BATCH_MAX && p->kv_next > p->read_wait;
}

static void s_deliver_after_update(raft_peer_t *p) {
  if (!s_holding(p)) s_deliver(p);
}

/* At a tick: what a follower holds back goes once S_FOLLOWER_DELIVER_MS have passed since the
 * last tick at which it held nothing or handed it over, so nothing waits longer than that (plus
 * the loop's lateness). A full batch or a read sends it between ticks (s_deliver_after_update). */
static void s_deliver_at_tick(raft_peer_t *p) {
  uint64_t now = rv_mono_us();
  if (s_holding(p) && now - p->delivered_at_us < S_FOLLOWER_DELIVER_MS * 1000u) return;
  p->delivered_at_us = now;
  s_deliver(p);
}

/* ---- the update cycle ------------------------------------------------------------------- */

static void s_compact(raft_peer_t *p);

/* Takes the core's update, if any, and carries it out in order. */
void raft_peer_process(raft_peer_t *p) {
  for (int round = 0; round < 64; round++) {
    if (!p->pending) {
      if (!raft_core_ready(p->core)) break;
      if (raft_core_get_update(p->core, &p->update) != RV_OK) break;
      p->pending = true;
      p->persisted = false;
      s_send_msgs(p, p->update.msgs, p->update.n_msgs);
    }
    raft_update_t *u = &p->update;
    if (!p->persisted) {
      rv_err_t err;
      uint64_t t0 = rv_mono_us();
      int src = raft_store_save(p->store, u, &err);
      p->last_save_at_us = rv_mono_us();
      p->last_save_us = p->last_save_at_us - t0;
      if (src == RV_OK && (u->n_entries || u->has_hard_state || u->snapshot.index)) {
        uint64_t took = rv_mono_us() - t0;
        rv_hist_observe(&p->log_saves, took);
        p->log_saved_entries += u->n_entries;
        if (took >= S_SLOW_SAVE_US)
          rv_warn("slow fsync: a Raft log save of %zu entries took %llu ms (disk busy or slow?)",
                  u->n_entries, (unsigned long long)(took / 1000u));
      }
      if (src != RV_OK) {
        if (!p->store_error[0]) rv_error("%s", err.msg);
        snprintf(p->store_error, sizeof p->store_error, "raft log write failed: %s", err.msg);
        if (raft_store_failed(p->store)) {
          /* after a failed write or fdatasync nothing on disk is certain: restart and recover
           * from what is there (the supervisor restarts us with backoff) */
          rv_actor_stop(p->a, RV_EXIT_TEMPFAIL);
        }
        return; /* retried on the next tick; nothing that depends on it goes out */
      }
      if (p->store_error[0]) rv_info("raft log writes succeed again");
      p->store_error[0] = '\0';
      p->persisted = true;
    }
    s_send_msgs(p, u->msgs_after_persist, u->n_msgs_after_persist);
    if (u->n_committed) p->deliverable = u->committed[u->n_committed - 1].index;
    raft_admin_committed(p, u->committed, u->n_committed);
    raft_peer_gate_committed(p, u->committed, u->n_committed);
    bool state_changed = false, soft_changed = false;
    raft_soft_state_t old_soft = p->soft;
    if (u->has_soft_state &&
        (u->soft.role != p->soft.role || u->soft.leader != p->soft.leader)) {
      if (u->soft.role != p->soft.role)
        rv_info("role %s -> %s (leader %s)", raft_role_name(p->soft.role),
                raft_role_name(u->soft.role), raft_peer_node_name(p, u->soft.leader));
      if (u->soft.leader != p->soft.leader) {
        unsigned long long term = u->has_hard_state ? u->hard.term : p->term;
        const char *was = p->soft.leader ? raft_peer_node_name(p, p->soft.leader) : "none";
        if (u->soft.leader)
          rv_warn("leader changed: %s leads in term %llu (was %s)",
                  raft_peer_node_name(p, u->soft.leader), term, was);
        else
          rv_warn("leader lost in term %llu (was %s): no leader known, nothing commits until a "
                  "quorum elects one", term, was);
      }
      if (p->soft.role == RAFT_LEADER && u->soft.role != RAFT_LEADER) raft_admin_role_lost(p);
      old_soft = p->soft;
      p->soft = u->soft;
      state_changed = soft_changed = true;
    }
    if (u->has_hard_state && u->hard.term != p->term) {
      p->term = u->hard.term;
      state_changed = true;
    }
    if (soft_changed) raft_fence_role_changed(p, old_soft);
    if (u->n_reads) {
      uint64_t ctxs[u->n_reads], idx[u->n_reads];
      for (size_t i = 0; i < u->n_reads; i++) {
        ctxs[i] = u->reads[i].ctx;
        idx[i] = u->reads[i].index;
      }
      Rv__ReadIndexResult r = RV__READ_INDEX_RESULT__INIT;
      r.n_ctxs = u->n_reads;
      r.ctxs = ctxs;
      r.n_indexes = u->n_reads;
      r.indexes = idx;
      rv_actor_send(p->a, "kv-store", RV_MSG_READ_INDEX_RESULT, &r.base, 0);
      for (size_t i = 0; i < u->n_reads; i++)
        if (idx[i] > p->read_wait) p->read_wait = idx[i];
    }
    raft_core_advance(p->core, u);
    p->pending = false;
    s_deliver_after_update(p);
    if (state_changed) s_publish_state(p);
  }
  s_compact(p);
}

/* Compacts the log behind what kv-store has made durable, keeping what followers still need. */
static void s_compact(raft_peer_t *p) {
  if (p->pending) return;
  raft_status_t st;
  raft_core_status(p->core, &st);
  raft_index_t limit = p->kv_applied < st.applied ? p->kv_applied : st.applied;
  uint64_t threshold = (uint64_t)p->cfg->raft_compact_entries;
  if (limit <= st.snapshot.index || limit - st.snapshot.index < threshold) return;
  raft_index_t to = limit;
  if (st.role == RAFT_LEADER) {
    /* keep what a lagging follower still needs, unless it is hopelessly behind (then it
     * needs a snapshot, and the log must not grow without bound) */
    for (int i = 0; i < p->cfg->nnodes; i++) {
      raft_progress_t pr;
      if (p->ids[i] == p->self || raft_core_progress(p->core, p->ids[i], &pr) != RV_OK) continue;
      if (pr.match < to && limit - pr.match < 4 * threshold) to = pr.match;
    }
  } else if (to > threshold) {
    to -= threshold / 2; /* a follower that becomes leader can still feed a short laggard */
  }
  if (to <= st.snapshot.index) return;
  raft_snapshot_meta_t meta;
  if (raft_core_compact(p->core, to, &meta) != RV_OK) return;
  rv_err_t err;
  if (raft_store_compact(p->store, &meta, &err) != RV_OK) {
    rv_error("%s", err.msg);
    if (raft_store_failed(p->store)) rv_actor_stop(p->a, RV_EXIT_TEMPFAIL); /* as in process */
  } else
    rv_debug("compacted the log up to %llu", (unsigned long long)to);
}

/* ---- events ------------------------------------------------------------------------------- */

static void s_on_tick(rv_actor_t *a, void *arg) {
  raft_peer_t *p = arg;
  raft_lease_update(p);
  raft_core_tick(p->core);
  raft_snap_stream_tick(p);
  raft_peer_gate_tick(p);
  raft_peer_process(p);
  raft_admin_tick(p);
  raft_ha_tick(p);
  raft_fence_tick(p);
  s_deliver_at_tick(p); /* what a follower held back (s_holding) */
  s_flush_outcomes(p);
  /* status pages want fresh progress, not only role changes: a few times a second */
  unsigned every = 250u / (unsigned)p->cfg->raft_tick_ms;
  if (++p->ticks % (every ? every : 1) == 0) s_publish_state(p);
}

/* Steps the messages of a batch from node (its sender and incarnation checked) into the core,
 * each through the wire checks and the membership gate first. */
static void s_step_batch(raft_peer_t *p, int node, const Rv__RaftBatch *b) {
  for (size_t i = 0; i < b->n_msgs; i++) {
    raft_msg_t msg;
    rv_err_t err;
    if (raft_wire_msg_decode(b->msgs[i], &msg, &err) != RV_OK) {
      p->gate.dropped_malformed++;
      uint64_t now = rv_mono_ms();
      if (now - p->gate.malformed_logged_ms >= 1000) {
        rv_warn("dropped a Raft message from %s: %s (%llu malformed so far)",
                p->cfg->nodes[node].id, err.msg, (unsigned long long)p->gate.dropped_malformed);
        p->gate.malformed_logged_ms = now;
      }
      continue;
    }
    raft_status_t st;
    raft_core_status(p->core, &st);
    if (msg.from != p->ids[node] || msg.to != p->self) {
      p->gate.dropped_malformed++;
      static rv_log_limit_t limit;
      rv_log_limited(&limit, CFG_LOG_WARN, "dropped a Raft message from %s claiming %llu -> %llu",
                     p->cfg->nodes[node].id, (unsigned long long)msg.from,
                     (unsigned long long)msg.to);
    } else if (!raft_gate_term_ok(st.hard.term, msg.term)) {
      p->gate.dropped_malformed++;
      static rv_log_limit_t jump_limit;
      rv_log_limited(&jump_limit, CFG_LOG_WARN, "dropped a %s from %s at term %llu: more than "
                     "2^32 above our term %llu (no real election gets there)",
                     raft_msg_type_name(msg.type), p->cfg->nodes[node].id,
                     (unsigned long long)msg.term, (unsigned long long)st.hard.term);
    } else if (raft_peer_gate_msg(p, node, msg.type)) {
      if (msg.type == RAFT_MSG_TIMEOUT_NOW) raft_fence_timeout_now(p, msg.from, msg.term);
      if (raft_core_step(p->core, &msg) != RV_OK && !raft_core_fault(p->core)[0])
        rv_warn("the core refused a %s from %s", raft_msg_type_name(msg.type),
                p->cfg->nodes[node].id);
    }
    if (raft_core_fault(p->core)[0] && !p->fault_logged) {
      rv_error("Raft stopped on this node: %s (the message came from %s). This node's log "
               "disagrees with what the cluster committed: it takes no further part. "
               "Remove it (raftvisor raft remove NODE), wipe its data-dir, and add it back",
               raft_core_fault(p->core), p->cfg->nodes[node].id);
      p->fault_logged = true;
    }
    raft_wire_msg_free(&msg);
  }
}

static void s_on_peer(rv_actor_t *a, zsock_t *sock, void *arg) {
  raft_peer_t *p = arg;
  rv_peers_turn_begin(p->peers);
  for (int k = 0; k < S_PEER_DRAIN && !rv_peers_turn_over(p->peers); k++) {
    int node;
    rv_msg_t m;
    int rc = rv_peers_recv(p->peers, &node, &m, NULL);
    if (rc == RV_EAGAIN) break;
    if (rc) continue;
    if (m.type == RV_MSG_SNAPSHOT_CHUNK) {
      const Rv__SnapshotChunk *c = (const Rv__SnapshotChunk *)m.body;
      if (raft_peer_gate_frame(p, node, c->incarnation) &&
          raft_peer_gate_msg(p, node, RAFT_MSG_SNAP))
        raft_snap_stream_chunk(p, node, c);
    } else if (m.type == RV_MSG_SNAPSHOT_ACK) {
      const Rv__SnapshotAck *ack = (const Rv__SnapshotAck *)m.body;
      if (raft_peer_gate_frame(p, node, ack->incarnation) &&
          raft_peer_gate_msg(p, node, RAFT_MSG_APP_RESP))
        raft_snap_stream_ack(p, node, ack);
    } else if (m.type == RV_MSG_RAFT_BATCH) {
      const Rv__RaftBatch *b = (const Rv__RaftBatch *)m.body;
      if (strcmp(b->cluster, p->cfg->cluster_id) != 0 || b->from != p->ids[node]) {
        static rv_log_limit_t limit;
        rv_log_limited(&limit, CFG_LOG_WARN, "dropped a Raft batch from %s: cluster \"%s\", id %llu",
                       p->cfg->nodes[node].id, b->cluster, (unsigned long long)b->from);
      } else if (raft_peer_gate_frame(p, node, b->incarnation)) {
        uint32_t level = b->says_level ? b->feature_level : 1; /* older builds say none */
        if (level != p->peer_level[node] && level) { /* a change: rare, unless forged */
          static rv_log_limit_t level_limit;
          rv_log_limited(&level_limit, CFG_LOG_INFO, "node %s says feature level %u%s",
                         p->cfg->nodes[node].id, level,
                         b->says_level ? "" : " (a build that does not say its level)");
        }
        p->peer_level[node] = level ? level : p->peer_level[node];
        if (p->peer_clock_leases[node] != b->clock_leases) {
          p->peer_clock_leases[node] = b->clock_leases;
          raft_lease_update(p); /* before its messages: a "no" counts at once */
        }
        s_step_batch(p, node, b);
        raft_peer_gate_merge_known(p, node, b);
      }
    }
    rv_msg_clear(&m);
  }
  raft_peer_process(p);
}

/* Keeps an accepted outcome for the next message to kv-store; false when out of memory (it then
 * goes at once). */
static bool s_outcome_keep(raft_peer_t *p, const Rv__ProposeOutcome *o) {
  if (p->n_outcomes == p->cap_outcomes) {
    size_t cap = p->cap_outcomes ? 2 * p->cap_outcomes : 64;
    Rv__ProposeOutcome **ptrs = realloc(p->outcome_ptrs, cap * sizeof *ptrs);
    if (!ptrs) return false;
    p->outcome_ptrs = ptrs;
    Rv__ProposeOutcome *v = realloc(p->outcomes, cap * sizeof *v);
    if (!v) return false;
    p->outcomes = v;
    p->cap_outcomes = cap;
  }
  p->outcomes[p->n_outcomes++] = *o;
  return true;
}

static void s_propose(raft_peer_t *p, const rv_msg_t *m) {
  const Rv__ProposeBatch *b = (const Rv__ProposeBatch *)m->body;
  size_t n = b->n_proposals;
  Rv__ProposeOutcome *outs = calloc(n ? n : 1, sizeof *outs);
  Rv__ProposeOutcome **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  if (!outs || !ptrs) {
    free(outs);
    free(ptrs);
    return;
  }
  /* the whole batch in one call: one MsgApp per follower for all of it (raft_core.h) */
  raft_command_t *cmds = malloc((n ? n : 1) * sizeof *cmds);
  raft_proposal_t *prs = malloc((n ? n : 1) * sizeof *prs);
  int *codes = malloc((n ? n : 1) * sizeof *codes);
  if (!cmds || !prs || !codes) {
    free(cmds);
    free(prs);
    free(codes);
    free(outs);
    free(ptrs);
    return;
  }
  for (size_t i = 0; i < n; i++)
    cmds[i] = (raft_command_t){b->proposals[i]->data.data, b->proposals[i]->data.len};
  size_t ok = raft_core_propose_batch(p->core, cmds, n, prs, codes);
  p->proposals += ok;
  p->proposals_failed += n - ok;
  /* Accepted proposals of our kv-store wait: their outcomes ride on the next ApplyBatch (the
   * one that commits them at the latest) or go at the next tick, which saves kv-store a
   * wake-up per write (issue 11). Refusals go at once: their clients wait for nothing else.
   * Another proposer (a bench in kv-store's place is one too) is answered at once. */
  bool fold = strcmp(m->from.actor, "kv-store") == 0;
  size_t now_n = 0;
  for (size_t i = 0; i < n; i++) {
    Rv__ProposeOutcome o = RV__PROPOSE_OUTCOME__INIT;
    o.id = b->proposals[i]->id;
    o.code = (uint32_t)codes[i];
    o.index = prs[i].index;
    o.term = prs[i].term;
    o.leader = prs[i].leader;
    if (fold && codes[i] == 0 && s_outcome_keep(p, &o)) continue;
    outs[now_n] = o;
    ptrs[now_n] = &outs[now_n];
    now_n++;
  }
  free(cmds);
  free(prs);
  free(codes);
  if (now_n) {
    Rv__ProposeResult r = RV__PROPOSE_RESULT__INIT;
    r.n_outcomes = now_n;
    r.outcomes = ptrs;
    /* the outcome goes out before the entry is durable: kv-store only learns where to look;
     * the answer to its client waits for the entry to be applied */
    rv_actor_reply(p->a, m, RV_MSG_PROPOSE_RESULT, &r.base);
  }
  free(outs);
  free(ptrs);
}

static void s_read_index(raft_peer_t *p, const rv_msg_t *m) {
  const Rv__ReadIndexRequest *q = (const Rv__ReadIndexRequest *)m->body;
  uint64_t refused[q->n_ctxs ? q->n_ctxs : 1];
  size_t nref = 0;
  for (size_t i = 0; i < q->n_ctxs; i++)
    if (raft_core_read_index(p->core, q->ctxs[i]) != RV_OK) refused[nref++] = q->ctxs[i];
  if (nref) {
    Rv__ReadIndexResult r = RV__READ_INDEX_RESULT__INIT;
    r.n_ctxs = nref;
    r.ctxs = refused;
    r.code = RV_ENOTLEADER;
    r.leader = p->soft.leader;
    rv_actor_reply(p->a, m, RV_MSG_READ_INDEX_RESULT, &r.base);
  }
}

static void s_message(rv_actor_t *a, void *state, const rv_msg_t *m) {
  raft_peer_t *p = state;
  switch (m->type) {
    case RV_MSG_PROPOSE_BATCH: s_propose(p, m); break;
    case RV_MSG_READ_INDEX_REQUEST: s_read_index(p, m); break;
    case RV_MSG_APPLY_FROM: {
      raft_index_t from = ((const Rv__ApplyFrom *)m->body)->index;
      rv_info("kv-store asks for committed entries from %llu (committed: %llu; feature level "
              "%u)", (unsigned long long)from, (unsigned long long)p->deliverable,
              ((const Rv__ApplyFrom *)m->body)->feature_level);
      p->kv_level = ((const Rv__ApplyFrom *)m->body)->feature_level;
      p->kv_attached = true;
      p->kv_next = from ? from : 1;
      p->kv_taken = p->kv_next - 1;
      if (p->kv_applied < from - 1) p->kv_applied = from - 1;
      s_send_state(p, "kv-store");
      s_deliver(p);
      break;
    }
    case RV_MSG_APPLIED: {
      const Rv__Applied *ap = (const Rv__Applied *)m->body;
      if (ap->index > p->kv_applied) p->kv_applied = ap->index;
      if (ap->taken > p->kv_taken && ap->taken < p->kv_next) {
        p->kv_taken = ap->taken;
        s_deliver(p); /* the window moved */
      }
      break;
    }
    case RV_MSG_RAFT_STATE_REQUEST: s_send_state(p, m->from.actor); break;
    case RV_MSG_SNAPSHOT_DATA: raft_snap_stream_kv_data(p, (const Rv__SnapshotData *)m->body); break;
    case RV_MSG_SNAPSHOT_PREPARED:
      raft_snap_stream_kv_prepared(p, (const Rv__SnapshotPrepared *)m->body);
      break;
    case RV_MSG_SNAPSHOT_INSTALLED:
      raft_snap_stream_kv_installed(p, (const Rv__SnapshotInstalled *)m->body);
      break;
    case RV_MSG_RAFT_ADMIN: raft_admin_request(p, m); break;
    case RV_MSG_HEALTH_REPORT: raft_ha_health(p, (const Rv__HealthReport *)m->body); break;
    case RV_MSG_FENCE_RESULT: {
      bool was = p->fence.pending;
      raft_fence_result(p, m);
      if (was != p->fence.pending || p->fence.pending) s_publish_state(p);
      break;
    }
    case RV_MSG_FENCE_ATTEMPT: break; /* the fencer logs them; tap shows them */
    case RV_MSG_TRANSFER_LEADER: {
      raft_id_t target = ((const Rv__TransferLeader *)m->body)->target;
      int rc = raft_core_transfer_leader(p->core, target);
      rv_info("leadership transfer to %s: %s", raft_peer_node_name(p, target), rv_code_text(rc));
      break;
    }
    default: {
      char tb[32];
      rv_debug("ignored %s from %s", rv_msgtype_name(m->type, tb, sizeof tb), m->from.actor);
    }
  }
  /* the update is carried out once the inbox is drained (s_drained): one fsync for every
   * ProposeBatch that arrived meanwhile */
}

static void s_drained(rv_actor_t *a, void *state) { raft_peer_process(state); }

/* ---- life cycle --------------------------------------------------------------------------- */

static int s_start(rv_actor_t *a, void *state, rv_err_t *err) {
  raft_peer_t *p = state;
  p->a = a;
  p->cfg = rv_actor_config(a);
  const cfg_node_t *cfg = p->cfg;
  for (int i = 0; i < cfg->nnodes; i++) {
    p->ids[i] = raft_wire_node_id(cfg->nodes[i].id);
    for (int k = 0; k < i; k++)
      if (p->ids[k] == p->ids[i])
        return rv_err_set(err, RV_ECONFIG, "nodes %s and %s have the same Raft id; rename one",
                          cfg->nodes[k].id, cfg->nodes[i].id);
  }
  p->self = p->ids[cfg->self];
  p->ha.fit = true;
  p->ha.campaign = true; /* the core's default */
  for (int i = 0; i < cfg->nactors; i++)
    if (strcmp(cfg->actors[i].name, "health-monitor") == 0) p->has_health_monitor = true;
    else if (strcmp(cfg->actors[i].name, "ots-replicator") == 0) p->has_replicator = true;
  p->snap_next_id = rv_random_u64() >> 1; /* room to count up */

  char dir[CFG_PATH_MAX + 8];
  int n = snprintf(dir, sizeof dir, "%s/raft", cfg->data_dir);
  if (n < 0 || (size_t)n >= sizeof dir) return rv_err_set(err, RV_ECONFIG, "data-dir too long");
  int rc = raft_store_open(dir, cfg->cluster_id, p->self, NULL, &p->store, err);
  if (rc) return rc == RV_ESTALE ? rv_err_set(err, RV_ECONFIG, "%s", err->msg) : rc;
  if ((rc = raft_peer_gate_init(p, dir, err))) return rc;
  raft_storage_state_t st;
  if ((rc = raft_store_load(p->store, &st, err))) return rc;
  st.applied = st.snapshot.index;

  raft_config_t rc_cfg;
  raft_config_default(&rc_cfg);
  rc_cfg.id = p->self;
  /* the bootstrap configuration: the voters of cluster.nodes; spares (voter: false) are linked
   * but join only through `raftvisor raft add-learner` (a conf entry in the log) */
  rc_cfg.bootstrap.n_voters = 0;
  for (int i = 0; i < cfg->nnodes; i++)
    if (cfg->nodes[i].voter) rc_cfg.bootstrap.voters[rc_cfg.bootstrap.n_voters++] = p->ids[i];
  rc_cfg.election_tick = (unsigned)cfg->raft_election_ticks;
  rc_cfg.heartbeat_tick = (unsigned)cfg->raft_heartbeat_ticks;
  /* Leases are timed on CLOCK_BOOTTIME as well as in ticks: it never goes back and runs on
   * through a suspend, during which the other nodes may elect a new leader. */
  rc_cfg.lease_read = cfg->raft_lease_reads;
  rc_cfg.clock_us = s_boot_us;
  rc_cfg.tick_us = (uint64_t)cfg->raft_tick_ms * 1000u;
  rc_cfg.seed = rv_random_u64();
  p->core = raft_core_new(&rc_cfg, &st, err);
  rv_info("raft log: term %llu, vote %llu, commit %llu, snapshot %llu, %zu entries",
          (unsigned long long)st.hard.term, (unsigned long long)st.hard.vote,
          (unsigned long long)st.hard.commit, (unsigned long long)st.snapshot.index,
          st.n_entries);
  p->term = st.hard.term;
  raft_store_state_free(&st);
  if (!p->core) return err->code;
  raft_lease_update(p); /* no lease reads before every voter said it keeps clock leases */

  if ((rc = rv_peers_new(rv_actor_mailbox(a), cfg, "raft-peer", &p->peers, err))) return rc;
  if (rv_actor_reader_add(a, rv_peers_socket(p->peers), s_on_peer, p) != 0 ||
      rv_actor_timer_add(a, (unsigned)cfg->raft_tick_ms, 0, s_on_tick, p) < 0)
    return rv_err_set(err, RV_EINTERNAL, "cannot register the peer socket or the tick timer");
  raft_peer_process(p);
  s_publish_state(p);
  return RV_OK;
}

static void s_stop(rv_actor_t *a, void *state) {
  raft_peer_t *p = state;
  free(p->outcomes); /* a restarted kv-store or raft-peer forgets those requests anyway */
  free(p->outcome_ptrs);
  p->outcomes = NULL;
  p->outcome_ptrs = NULL;
  p->n_outcomes = p->cap_outcomes = 0;
  rv_peers_destroy(&p->peers);
  raft_core_destroy(&p->core);
  raft_store_close(&p->store);
}

static bool s_health(rv_actor_t *a, void *state, char *reason, size_t len) {
  raft_peer_t *p = state;
  if (raft_core_fault(p->core)[0]) {
    snprintf(reason, len, "raft stopped: %s; remove and re-add this node",
             raft_core_fault(p->core));
    return false;
  }
  if (p->store_error[0]) {
    snprintf(reason, len, "%s", p->store_error);
    return false;
  }
  if (p->last_save_us > (uint64_t)p->cfg->health_slow_io_ms * 1000u &&
      rv_mono_us() - p->last_save_at_us < RV_SLOW_IO_MEMORY_US) {
    snprintf(reason, len, "raft log write and fdatasync slow: the last took %llu ms (over "
             "health.slow-io-ms %d)", (unsigned long long)(p->last_save_us / 1000u),
             p->cfg->health_slow_io_ms);
    return false;
  }
  return true;
}

/* A Raft log save failed and has not succeeded since (ENOSPC: retried every tick). */
static bool s_cannot_persist(rv_actor_t *a, void *state) {
  const raft_peer_t *p = state;
  return p->store_error[0] != '\0';
}

const rv_actor_def_t raft_peer_def = {
    .name = "raft-peer", .start = s_start, .message = s_message, .drained = s_drained,
    .stop = s_stop, .health = s_health, .cannot_persist = s_cannot_persist};
