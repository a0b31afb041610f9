/* raft_sim: the deterministic cluster simulation (see raft_sim.h). Test-only.
 *
 * Virtual time runs in units of 1/10 tick. An event queue (a binary heap ordered by time, then by
 * insertion) holds node ticks (each node has its own phase), message deliveries, fsync
 * completions, snapshot-transfer reports, restarts and the nemesis, which runs once a tick and
 * injects client requests and faults. Every random choice comes from one splitmix64 stream seeded
 * by the run's seed, so a run replays exactly. The invariants live in raft_sim_check.c. */
#include "raft_sim_internal.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Randomness, allocation, trace. */

uint64_t sim_rand(sim_t *s) {
  uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t sim_range(sim_t *s, uint64_t lo, uint64_t hi) { return lo + sim_rand(s) % (hi - lo + 1); }

bool sim_pct(sim_t *s, unsigned pct) { return sim_rand(s) % 100 < pct; }

void *sim_grow(void *p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return p;
  size_t c = *cap ? *cap : 16;
  while (c < need) c *= 2;
  p = realloc(p, c * size);
  if (!p) abort();
  memset((char *)p + *cap * size, 0, (c - *cap) * size);
  *cap = c;
  return p;
}

void sim_trace(sim_t *s, sim_trace_kind_t kind, int node, int peer, uint64_t a, uint64_t b,
               uint64_t c) {
  sim_trace_more(s, kind, node, peer, a, b, c, 0, 0);
}

void sim_trace_more(sim_t *s, sim_trace_kind_t kind, int node, int peer, uint64_t a, uint64_t b,
                    uint64_t c, uint64_t d, uint64_t e) {
  sim_trace_t *t = &s->trace[s->trace_pos++ % SIM_TRACE];
  *t = (sim_trace_t){s->now, kind, node, peer, a, b, c, d, e};
  if (s->o->trace) sim_trace_print(t);
}

void sim_fail(sim_t *s, const char *fmt, ...) {
  if (s->res->violated) return;
  s->res->violated = true;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(s->res->what, sizeof s->res->what, fmt, ap);
  va_end(ap);
}

/* ------------------------------------------------------------------------------------------ */
/* The event queue. */

static bool s_ev_less(const sim_ev_t *a, const sim_ev_t *b) {
  return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void s_schedule(sim_t *s, sim_ev_t ev) {
  ev.seq = s->seq++;
  s->heap = sim_grow(s->heap, &s->cap_heap, s->n_heap + 1, sizeof *s->heap);
  size_t i = s->n_heap++;
  while (i > 0 && s_ev_less(&ev, &s->heap[(i - 1) / 2])) {
    s->heap[i] = s->heap[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  s->heap[i] = ev;
}

static sim_ev_t s_pop(sim_t *s) {
  sim_ev_t top = s->heap[0], last = s->heap[--s->n_heap];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= s->n_heap) break;
    if (c + 1 < s->n_heap && s_ev_less(&s->heap[c + 1], &s->heap[c])) c++;
    if (!s_ev_less(&s->heap[c], &last)) break;
    s->heap[i] = s->heap[c];
    i = c;
  }
  if (s->n_heap) s->heap[i] = last;
  return top;
}

static void s_at(sim_t *s, uint64_t delay, sim_ev_type_t type, int node, uint64_t inc) {
  s_schedule(s, (sim_ev_t){.time = s->now + delay, .type = type, .node = node, .inc = inc});
}

/* ------------------------------------------------------------------------------------------ */
/* Entries and messages (deep copies owned by the harness). */

static uint8_t *s_dup(const uint8_t *d, size_t len) {
  if (!len) return NULL;
  uint8_t *c = malloc(len);
  if (!c) abort();
  memcpy(c, d, len);
  return c;
}

static void s_ents_truncate(sim_ents_t *l, size_t keep) {
  for (size_t k = keep; k < l->n; k++) free(l->v[k].data);
  if (keep < l->n) l->n = keep;
}

static void s_ents_push(sim_ents_t *l, const raft_entry_t *e) {
  l->v = sim_grow(l->v, &l->cap, l->n + 1, sizeof *l->v);
  l->v[l->n] = *e;
  l->v[l->n].data = s_dup(e->data, e->len);
  l->n++;
}

void sim_keep_snapshot(sim_node_t *nd, raft_index_t index, uint64_t hash) {
  if (nd->n_kept == SIM_INCOMING) {
    memmove(nd->kept, nd->kept + 1, (SIM_INCOMING - 1) * sizeof *nd->kept);
    nd->n_kept--;
  }
  nd->kept[nd->n_kept++] = (sim_snapdata_t){index, hash};
}

void sim_ents_drop_front(sim_ents_t *l, size_t n) {
  if (n > l->n) n = l->n;
  for (size_t k = 0; k < n; k++) free(l->v[k].data);
  memmove(l->v, l->v + n, (l->n - n) * sizeof *l->v);
  l->n -= n;
}

static size_t s_msg_new(sim_t *s, const raft_msg_t *m, uint64_t from_inc, uint64_t snap_hash) {
  size_t idx;
  if (s->n_free_msgs) {
    idx = s->free_msgs[--s->n_free_msgs];
  } else {
    s->msgs = sim_grow(s->msgs, &s->cap_msgs, s->n_msgs + 1, sizeof *s->msgs);
    idx = s->n_msgs++;
  }
  sim_msg_t *sm = &s->msgs[idx];
  sm->m = *m;
  sm->m.entries = NULL;
  if (m->n_entries) {
    sm->m.entries = malloc(m->n_entries * sizeof *m->entries);
    if (!sm->m.entries) abort();
    for (size_t k = 0; k < m->n_entries; k++) {
      sm->m.entries[k] = m->entries[k];
      sm->m.entries[k].data = s_dup(m->entries[k].data, m->entries[k].len);
    }
  }
  sm->from_inc = from_inc;
  sm->snap_hash = snap_hash;
  return idx;
}

static void s_msg_free(sim_t *s, size_t idx) {
  sim_msg_t *sm = &s->msgs[idx];
  for (size_t k = 0; k < sm->m.n_entries; k++) free(sm->m.entries[k].data);
  free(sm->m.entries);
  sm->m.entries = NULL;
  s->free_msgs = sim_grow(s->free_msgs, &s->cap_free_msgs, s->n_free_msgs + 1,
                          sizeof *s->free_msgs);
  s->free_msgs[s->n_free_msgs++] = idx;
}

/* ------------------------------------------------------------------------------------------ */
/* The network. */

static uint64_t s_delay(sim_t *s) {
  if (!s->quiet && sim_pct(s, s->o->long_delay_pct)) return sim_range(s, 20, 300);
  return sim_range(s, 1, 15);
}

static void s_snap_report(sim_t *s, sim_node_t *from, raft_id_t to, bool ok) {
  sim_ev_t ev = {.time = s->now + sim_range(s, 1, 30), .type = SIM_EV_SNAP_REPORT,
                 .node = (int)from->id, .inc = from->inc, .peer = (int)to, .ok = ok};
  s_schedule(s, ev);
}

static void s_send(sim_t *s, sim_node_t *nd, const raft_msg_t *m) {
  if (m->to == 0 || m->to > s->n_nodes || m->from != nd->id) {
    sim_fail(s, "node %llu sent %s to unknown node %llu", (unsigned long long)nd->id,
             raft_msg_type_name(m->type), (unsigned long long)m->to);
    return;
  }
  uint64_t snap_hash = 0;
  if (m->type == RAFT_MSG_SNAP) {
    const sim_snapdata_t *d = NULL;
    for (size_t k = 0; k < nd->n_kept; k++)
      if (nd->kept[k].index == m->snapshot.index) d = &nd->kept[k];
    if (!d) {
      sim_fail(s, "node %llu sends snapshot %llu, no longer kept (latest %llu)",
               (unsigned long long)nd->id, (unsigned long long)m->snapshot.index,
               (unsigned long long)nd->snap.index);
      return;
    }
    snap_hash = d->hash;
  }
  sim_node_t *dst = &s->nodes[m->to];
  if (!s->conn[nd->id][m->to] || dst->decommissioned || (!s->quiet && sim_pct(s, s->o->loss_pct))) {
    sim_trace(s, SIM_TR_DROP, (int)nd->id, (int)m->to, m->type, m->term, m->index);
    if (m->type == RAFT_MSG_SNAP) s_snap_report(s, nd, m->to, false);
    /* The transport notices a broken connection now and then. */
    if (!s->conn[nd->id][m->to] && sim_pct(s, 30)) raft_core_report_unreachable(nd->r, m->to);
    return;
  }
  int copies = (!s->quiet && sim_pct(s, s->o->dup_pct)) ? 2 : 1;
  for (int c = 0; c < copies; c++) {
    sim_ev_t ev = {.time = s->now + s_delay(s), .type = SIM_EV_DELIVER,
                   .msg = s_msg_new(s, m, nd->inc, snap_hash)};
    s_schedule(s, ev);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The shell model: get the update, send what may go early, persist after an fsync delay, then
 * send the rest, apply, advance. */

static void s_pump(sim_t *s, sim_node_t *nd) {
  if (!nd->alive || nd->persisting || !raft_core_ready(nd->r)) return;
  raft_update_t *u = &nd->u;
  int rc = raft_core_get_update(nd->r, u);
  if (rc != 0) {
    sim_fail(s, "node %llu: ready but get_update returned %s", (unsigned long long)nd->id,
             rv_code_name(rc));
    return;
  }
  sim_check_update(s, nd, u);
  for (size_t k = 0; k < u->n_msgs; k++) s_send(s, nd, &u->msgs[k]);
  nd->persisting = true;
  uint64_t fsync = sim_pct(s, 5) ? sim_range(s, 10, 60) : sim_range(s, 1, 6);
  s_at(s, fsync, SIM_EV_PERSIST, (int)nd->id, nd->inc);
}

static sim_snapdata_t *s_incoming(sim_node_t *nd, raft_index_t index) {
  for (size_t k = 0; k < nd->n_incoming; k++)
    if (nd->incoming[k].index == index) return &nd->incoming[k];
  return NULL;
}

static void s_decommission_later(sim_t *s, raft_id_t id) {
  sim_node_t *nd = &s->nodes[id];
  if (id == 0 || id > s->n_nodes || nd->decommission_scheduled) return;
  nd->decommission_scheduled = true;
  s_at(s, s->quiet ? 0 : sim_range(s, 0, 30 * SIM_TICK), SIM_EV_DECOMMISSION, (int)id, 0);
}

static void s_apply(sim_t *s, sim_node_t *nd, const raft_entry_t *e) {
  if (e->index != nd->sm_applied + 1) {
    sim_fail(s, "node %llu applied index %llu after %llu", (unsigned long long)nd->id,
             (unsigned long long)e->index, (unsigned long long)nd->sm_applied);
    return;
  }
  uint64_t h = sim_hash_apply(nd->sm_hash, e);
  sim_check_applied(s, nd, e->index, h);
  nd->sm_applied = e->index;
  nd->sm_hash = h;
  if (e->type == RAFT_ENTRY_CONF) {
    raft_conf_change_t cc;
    if (raft_conf_change_decode(e->data, e->len, &cc, NULL) != 0) {
      sim_fail(s, "node %llu: undecodable conf entry %llu", (unsigned long long)nd->id,
               (unsigned long long)e->index);
      return;
    }
    /* The operator stops a node once its removal has committed. */
    if (cc.type == RAFT_CONF_REMOVE) s_decommission_later(s, cc.node);
  }
}

static void s_persist_done(sim_t *s, sim_node_t *nd) {
  raft_update_t *u = &nd->u;
  if (u->has_snapshot) {
    sim_snapdata_t *in = s_incoming(nd, u->snapshot.index);
    if (!in) {
      sim_fail(s, "node %llu: snapshot %llu to install never arrived", (unsigned long long)nd->id,
               (unsigned long long)u->snapshot.index);
      return;
    }
    sim_check_snapshot(s, nd, in);
    nd->snap = u->snapshot;
    nd->snap_hash = in->hash;
    sim_keep_snapshot(nd, in->index, in->hash);
    s_ents_truncate(&nd->log, 0);
    nd->sm_applied = in->index;
    nd->sm_hash = in->hash;
    s->res->snapshots_installed++;
    sim_trace(s, SIM_TR_INSTALL, (int)nd->id, 0, in->index, 0, 0);
  }
  if (u->n_entries) {
    raft_index_t first = u->entries[0].index;
    if (first <= nd->snap.index || first > nd->snap.index + nd->log.n + 1) {
      sim_fail(s, "node %llu: update writes from %llu, durable log is (%llu, %llu]",
               (unsigned long long)nd->id, (unsigned long long)first,
               (unsigned long long)nd->snap.index,
               (unsigned long long)(nd->snap.index + nd->log.n));
      return;
    }
    s_ents_truncate(&nd->log, (size_t)(first - nd->snap.index - 1));
    for (size_t k = 0; k < u->n_entries; k++) s_ents_push(&nd->log, &u->entries[k]);
  }
  /* A commit-only change need not be synced: half the time it is lost if the node crashes
   * (the core must then trust the state machine's applied index). */
  if (u->has_hard_state && (u->must_sync || sim_pct(s, 50))) nd->hard = u->hard;
  for (size_t k = 0; k < u->n_msgs_after_persist; k++) s_send(s, nd, &u->msgs_after_persist[k]);
  for (size_t k = 0; k < u->n_committed && !s->res->violated; k++) s_apply(s, nd, &u->committed[k]);
  for (size_t k = 0; k < u->n_reads; k++) sim_check_read(s, nd, &u->reads[k]);
  int rc = raft_core_advance(nd->r, u);
  if (rc != 0) sim_fail(s, "node %llu: advance returned %s", (unsigned long long)nd->id,
                        rv_code_name(rc));
  nd->persisting = false;
  s_pump(s, nd);
}

/* ------------------------------------------------------------------------------------------ */
/* Node life cycle. */

static void s_start(sim_t *s, sim_node_t *nd) {
  raft_storage_state_t st = {.hard = nd->hard, .snapshot = nd->snap, .entries = nd->log.v,
                             .n_entries = nd->log.n, .applied = nd->sm_applied};
  rv_err_t err;
  nd->r = raft_core_new(&nd->cfg, &st, &err);
  if (!nd->r) {
    sim_fail(s, "node %llu: restart failed: %s", (unsigned long long)nd->id, err.msg);
    return;
  }
  nd->exists = nd->alive = true;
  nd->inc++;
  nd->persisting = false;
  nd->n_incoming = 0;
  raft_status_t rs;
  raft_core_status(nd->r, &rs);
  nd->last_commit = rs.hard.commit;
  nd->checked_commit = rs.snapshot.index;
  nd->leader_checked_term = 0;
  sim_trace(s, SIM_TR_START, (int)nd->id, 0, rs.hard.term, rs.hard.commit, rs.last_index);
  uint64_t next_tick = s->now + (nd->phase + SIM_TICK - s->now % SIM_TICK) % SIM_TICK;
  s_schedule(s, (sim_ev_t){.time = next_tick ? next_tick : SIM_TICK, .type = SIM_EV_TICK,
                           .node = (int)nd->id, .inc = nd->inc});
}

static void s_stop(sim_t *s, sim_node_t *nd) {
  raft_core_destroy(&nd->r); /* frees the outstanding update: nothing unpersisted survives */
  nd->alive = false;
  nd->paused_until = 0; /* kill -9 ends a SIGSTOP too */
  nd->persisting = false;
  nd->inc++;
}

void sim_crash(sim_t *s, sim_node_t *nd) {
  if (!nd->alive) return;
  s_stop(s, nd);
  s->res->crashes++;
  sim_trace(s, SIM_TR_CRASH, (int)nd->id, 0, 0, 0, 0);
  s_at(s, sim_range(s, 1, 40) * SIM_TICK, SIM_EV_RESTART, (int)nd->id, nd->inc);
}

void sim_new_leader(sim_t *s, sim_node_t *nd) {
  if (!s->quiet && s->o->crash_pct && sim_pct(s, s->leader_kill_pct))
    s_at(s, sim_range(s, 0, 4 * SIM_TICK), SIM_EV_CRASH, (int)nd->id, nd->inc);
}

void sim_start_spare(sim_t *s, sim_node_t *nd) {
  if (!nd->exists && !nd->decommissioned) s_start(s, nd);
}

void sim_restart(sim_t *s, sim_node_t *nd) {
  /* Its pending restart event becomes stale: the node is alive by then. */
  if (nd->exists && !nd->alive && !nd->decommissioned) s_start(s, nd);
}

/* ------------------------------------------------------------------------------------------ */
/* Event dispatch. */

static void s_deliver(sim_t *s, size_t idx) {
  /* s->msgs may move while the receiver sends (the pool grows): keep what we need by value. */
  const raft_msg_t *m = &s->msgs[idx].m;
  raft_msg_type_t type = m->type;
  raft_id_t from = m->from, to = m->to;
  uint64_t from_inc = s->msgs[idx].from_inc;
  sim_node_t *dst = &s->nodes[to], *src = &s->nodes[from];
  bool ok = dst->alive && s->conn[from][to];
  /* raftvisor's shell hands a snapshot's data to the state machine before the MsgSnap reaches
   * the core, so it takes a snapshot only when the core says it would install it; a refusal
   * fails the stream, as the real follower does. A snapshot at or below the follower's commit
   * (old news) is refused too, but its MsgSnap still goes to the core, which answers with the
   * follower's commit (raft_snap_stream.c does the same): without that answer a leader that
   * lowered the follower's match below its snapshot sent it snapshots forever. */
  bool old_news = false;
  if (ok && type == RAFT_MSG_SNAP) {
    int acc = raft_core_snapshot_acceptable(dst->r, from, m->term, &m->snapshot, NULL);
    if (acc != RV_OK) ok = false;
    if (acc == RV_EEXIST) old_news = true;
  }
  sim_trace_more(s, ok ? SIM_TR_RECV : SIM_TR_DROP, (int)from, (int)to, type, m->term, m->index,
                 m->reject, m->log_term);
  if (ok || old_news) {
    if (type == RAFT_MSG_SNAP && ok) {
      /* The shell received the whole stream: keep the data until the core asks to install it. */
      sim_snapdata_t d = {m->snapshot.index, s->msgs[idx].snap_hash};
      if (!s_incoming(dst, d.index)) {
        if (dst->n_incoming == SIM_INCOMING) {
          memmove(dst->incoming, dst->incoming + 1, (SIM_INCOMING - 1) * sizeof d);
          dst->n_incoming--;
        }
        dst->incoming[dst->n_incoming++] = d;
      }
    }
    int rc = raft_core_step(dst->r, m);
    if (rc != 0)
      sim_fail(s, "node %llu refused a %s from %llu: %s", (unsigned long long)to,
               raft_msg_type_name(type), (unsigned long long)from, rv_code_name(rc));
    s_pump(s, dst);
    sim_observe(s, dst);
  }
  if (type == RAFT_MSG_SNAP && src->alive && src->inc == from_inc) s_snap_report(s, src, to, ok);
  s_msg_free(s, idx);
}

bool sim_running(const sim_t *s, const sim_node_t *nd) {
  return nd->alive && s->now >= nd->paused_until;
}

void sim_pause(sim_t *s, sim_node_t *nd, unsigned ticks) {
  if (!sim_running(s, nd)) return;
  nd->paused_until = s->now + (uint64_t)ticks * SIM_TICK;
  s->res->pauses++;
  sim_trace(s, SIM_TR_PAUSE, (int)nd->id, 0, ticks, 0, 0);
}

/* An event for a paused node waits for the pause to end; events that waited run in an order
 * drawn from the seed (a resumed process finds messages and overdue timers together). */
static bool s_deferred(sim_t *s, const sim_ev_t *ev, sim_node_t *nd) {
  if (!nd || !nd->alive || s->now >= nd->paused_until) return false;
  sim_ev_t later = *ev;
  later.time = nd->paused_until + sim_range(s, 0, SIM_TICK - 1);
  s_schedule(s, later);
  return true;
}

static void s_tick(sim_t *s, sim_node_t *nd) {
  raft_core_tick(nd->r);
  s_pump(s, nd);
  sim_observe(s, nd);
}

static void s_dispatch(sim_t *s, const sim_ev_t *ev) {
  sim_node_t *nd = ev->node ? &s->nodes[ev->node] : NULL;
  switch (ev->type) {
    case SIM_EV_TICK:
      if (!nd->alive || nd->inc != ev->inc) return;
      if (!s_deferred(s, &(sim_ev_t){.type = SIM_EV_TICK_OWED, .node = ev->node, .inc = ev->inc},
                      nd))
        s_tick(s, nd);
      s_at(s, SIM_TICK, SIM_EV_TICK, ev->node, ev->inc);
      return;
    case SIM_EV_TICK_OWED:
      if (!nd->alive || nd->inc != ev->inc) return;
      if (!s_deferred(s, ev, nd)) s_tick(s, nd);
      return;
    case SIM_EV_DELIVER:
      if (s_deferred(s, ev, &s->nodes[s->msgs[ev->msg].m.to])) return;
      s_deliver(s, ev->msg);
      return;
    case SIM_EV_PERSIST:
      if (!nd->alive || nd->inc != ev->inc || s_deferred(s, ev, nd)) return;
      s_persist_done(s, nd);
      sim_observe(s, nd);
      return;
    case SIM_EV_SNAP_REPORT:
      if (!nd->alive || nd->inc != ev->inc || s_deferred(s, ev, nd)) return;
      raft_core_report_snapshot(nd->r, (raft_id_t)ev->peer,
                                ev->ok ? RAFT_SNAPSHOT_FINISH : RAFT_SNAPSHOT_FAILURE);
      s_pump(s, nd);
      sim_observe(s, nd);
      return;
    case SIM_EV_RESTART:
      if (nd->alive || nd->decommissioned || nd->inc != ev->inc) return;
      s_start(s, nd);
      if (nd->alive) sim_observe(s, nd);
      return;
    case SIM_EV_DECOMMISSION:
      if (nd->decommissioned) return;
      if (nd->alive) s_stop(s, nd);
      nd->decommissioned = true;
      sim_trace(s, SIM_TR_DECOMMISSION, ev->node, 0, 0, 0, 0);
      return;
    case SIM_EV_CRASH:
      if (nd->alive && nd->inc == ev->inc && !s->quiet) sim_crash(s, nd);
      return;
    case SIM_EV_NEMESIS:
      sim_nemesis(s);
      s_at(s, SIM_TICK, SIM_EV_NEMESIS, 0, 0);
      return;
  }
}

/* Pumps a node after the nemesis called into its core. */
void sim_after_input(sim_t *s, sim_node_t *nd) {
  s_pump(s, nd);
  sim_observe(s, nd);
}

/* ------------------------------------------------------------------------------------------ */
/* A run. */

void raft_sim_opts_default(raft_sim_opts_t *o, size_t voters) {
  memset(o, 0, sizeof *o);
  o->voters = voters;
  o->chaos_ticks = 500;
  o->liveness_bound = 200;
  o->loss_pct = 5;
  o->dup_pct = 3;
  o->long_delay_pct = 3;
  o->crash_pct = 3;
  o->partitions = o->transfers = o->snapshots = o->reads = o->pauses = true;
}

/* The cores' clock (raft_config_t.clock_us): virtual time, which runs on while a node is
 * paused. */
static uint64_t s_clock(void *arg) { return ((sim_t *)arg)->now; }

static void s_configure(sim_t *s) {
  const raft_sim_opts_t *o = s->o;
  /* One protocol configuration per run, drawn from the seed. */
  bool pre_vote = sim_pct(s, 70), check_quorum = sim_pct(s, 70);
  /* Membership changes need one of the two (thesis §4.2.3, "disruptive servers"): a removed
   * server that never learned of its removal hears no leader, times out again and again, and
   * without pre-vote (its stale log loses the pre-vote) or the check-quorum lease (members that
   * hear their leader ignore it) each of its higher terms deposes the leader. With small messages
   * and a follower far behind, no leader then lasted long enough to commit (membership seed
   * 3184878: no proposal committed 620 ticks after healing). raftvisor always runs both;
   * the 3- and 5-node shapes still run the paper's protocol with neither. */
  if (o->membership && !pre_vote && !check_quorum) pre_vote = true;
  bool lease = check_quorum && sim_pct(s, 40);
  if (o->trace)
    fprintf(stderr, "config: pre_vote %d check_quorum %d lease_read %d\n", pre_vote,
            check_quorum, lease);
  unsigned heartbeat = (unsigned)sim_range(s, 1, 3);
  size_t inflight = (size_t)sim_range(s, 1, 8);
  size_t max_entries = o->max_msg_entries   ? o->max_msg_entries
                       : sim_pct(s, 50) ? (size_t)sim_range(s, 1, 2)
                                        : (size_t)sim_range(s, 1, 8);
  uint64_t max_bytes = sim_range(s, 16, 512);
  uint64_t max_uncommitted = sim_pct(s, 50) ? 0 : sim_range(s, 100, 2000);
  static const unsigned partition_spells[] = {8, 25, 60, 120};
  s->partition_max = partition_spells[sim_rand(s) % 4];
  static const unsigned leader_kills[] = {5, 20, 60};
  s->leader_kill_pct = leader_kills[sim_rand(s) % 3];
  for (size_t id = 1; id <= s->n_nodes; id++) {
    sim_node_t *nd = &s->nodes[id];
    nd->id = id;
    raft_config_t *c = &nd->cfg;
    raft_config_default(c);
    c->id = id;
    c->seed = s->seed * 1000003u + id;
    c->election_tick = 10;
    c->heartbeat_tick = heartbeat;
    c->pre_vote = pre_vote;
    c->check_quorum = check_quorum;
    c->lease_read = lease;
    c->clock_us = s_clock;
    c->clock_arg = s;
    c->tick_us = SIM_TICK;
    c->max_inflight_msgs = inflight;
    c->max_msg_entries = max_entries;
    c->max_msg_bytes = max_bytes;
    c->max_uncommitted_bytes = max_uncommitted;
    c->test_unsafe = o->unsafe;
    /* Spares are brand-new machines: they know no configuration until they join. */
    if (id <= o->voters) {
      for (size_t k = 0; k < o->voters; k++) c->bootstrap.voters[k] = k + 1;
      c->bootstrap.n_voters = o->voters;
    }
    nd->phase = (unsigned)sim_range(s, 0, SIM_TICK - 1);
  }
  for (size_t a = 1; a <= s->n_nodes; a++)
    for (size_t b = 1; b <= s->n_nodes; b++) s->conn[a][b] = true;
}

static void s_cleanup(sim_t *s) {
  for (size_t id = 1; id <= s->n_nodes; id++) {
    raft_core_destroy(&s->nodes[id].r);
    s_ents_truncate(&s->nodes[id].log, 0);
    free(s->nodes[id].log.v);
  }
  for (size_t k = 0; k < s->n_heap; k++)
    if (s->heap[k].type == SIM_EV_DELIVER) s_msg_free(s, s->heap[k].msg);
  free(s->heap);
  free(s->msgs);
  free(s->free_msgs);
  sim_check_close(s);
}

int raft_sim_run(const raft_sim_opts_t *o, uint64_t seed, raft_sim_result_t *res) {
  sim_t *s = calloc(1, sizeof *s);
  if (!s) abort();
  memset(res, 0, sizeof *res);
  s->o = o;
  s->res = res;
  s->seed = seed;
  s->rng = seed ^ 0x5EEDF00Dull;
  s->n_nodes = o->voters + o->spares;
  assert(s->n_nodes <= RAFT_SIM_MAX_NODES);
  s_configure(s);
  for (size_t id = 1; id <= o->voters; id++) s_start(s, &s->nodes[id]);
  s_at(s, SIM_TICK / 2, SIM_EV_NEMESIS, 0, 0);
  s->heal_time = (uint64_t)o->chaos_ticks * SIM_TICK;
  /* The nemesis ends the run: it fails it past the liveness deadline. */
  while (s->n_heap && !res->violated) {
    sim_ev_t ev = s_pop(s);
    s->now = ev.time;
    res->events++;
    s_dispatch(s, &ev);
    if (s->live_done && s->now > s->live_done_time + 20 * SIM_TICK) break;
  }
  if (res->violated && !o->silent) {
    fprintf(stderr, "raft_sim: seed %llu: VIOLATION at t=%llu.%llu ticks: %s\n",
            (unsigned long long)seed, (unsigned long long)(s->now / SIM_TICK),
            (unsigned long long)(s->now % SIM_TICK), res->what);
    size_t n = s->trace_pos < SIM_TRACE ? s->trace_pos : SIM_TRACE;
    fprintf(stderr, "raft_sim: last %zu events:\n", n);
    for (size_t k = s->trace_pos - n; k < s->trace_pos; k++)
      sim_trace_print(&s->trace[k % SIM_TRACE]);
    fprintf(stderr, "raft_sim: replay with RAFT_SIM_SEED=%llu\n", (unsigned long long)seed);
  }
  s_cleanup(s);
  free(s);
  return res->violated ? -1 : 0;
}
