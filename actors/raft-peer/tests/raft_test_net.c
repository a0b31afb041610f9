/* raft_test_net: see raft_test_net.h. Test-only; checks with cmocka asserts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "raft_test_net.h"

static void *s_grow(void *p, size_t *cap, size_t n, size_t size) {
  if (n < *cap) return p;
  *cap = *cap ? 2 * *cap : 16;
  p = realloc(p, *cap * size);
  assert_non_null(p);
  return p;
}

static uint8_t *s_dup(const uint8_t *d, size_t len) {
  if (!len) return NULL;
  uint8_t *c = malloc(len);
  assert_true(c);
  memcpy(c, d, len);
  return c;
}

void tnet_ents_push_copy(tnet_ents_t *l, const raft_entry_t *e) {
  l->v = s_grow(l->v, &l->cap, l->n, sizeof *l->v);
  l->v[l->n] = *e;
  l->v[l->n].data = s_dup(e->data, e->len);
  l->n++;
}

void tnet_ents_clear(tnet_ents_t *l) {
  for (size_t k = 0; k < l->n; k++) free(l->v[k].data);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static void s_ents_truncate(tnet_ents_t *l, size_t keep) {
  for (size_t k = keep; k < l->n; k++) free(l->v[k].data);
  if (keep < l->n) l->n = keep;
}

void tnet_ents_from_terms(tnet_ents_t *l, raft_index_t start, const raft_term_t *terms, size_t n) {
  for (size_t k = 0; k < n; k++) {
    char buf[32];
    int len = snprintf(buf, sizeof buf, "i%llu", (unsigned long long)(start + k));
    raft_entry_t e = {.term = terms[k], .index = start + k, .type = RAFT_ENTRY_NORMAL,
                      .data = (uint8_t *)buf, .len = (size_t)len};
    tnet_ents_push_copy(l, &e);
  }
}

void tnet_msgs_push_copy(tnet_msgs_t *l, const raft_msg_t *m) {
  l->v = s_grow(l->v, &l->cap, l->n, sizeof *l->v);
  raft_msg_t *c = &l->v[l->n++];
  *c = *m;
  c->entries = NULL;
  if (m->n_entries) {
    c->entries = malloc(m->n_entries * sizeof *c->entries);
    assert_true(c->entries);
    for (size_t k = 0; k < m->n_entries; k++) {
      c->entries[k] = m->entries[k];
      c->entries[k].data = s_dup(m->entries[k].data, m->entries[k].len);
    }
  }
}

static void s_msg_free(raft_msg_t *m) {
  for (size_t k = 0; k < m->n_entries; k++) free(m->entries[k].data);
  free(m->entries);
}

void tnet_msgs_clear(tnet_msgs_t *l) {
  for (size_t k = 0; k < l->n; k++) s_msg_free(&l->v[k]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

size_t tnet_msgs_count(const tnet_msgs_t *l, raft_msg_type_t t) {
  size_t c = 0;
  for (size_t k = 0; k < l->n; k++) c += l->v[k].type == t;
  return c;
}

const raft_msg_t *tnet_msgs_find(const tnet_msgs_t *l, raft_msg_type_t t, raft_id_t to) {
  for (size_t k = 0; k < l->n; k++)
    if (l->v[k].type == t && (to == 0 || l->v[k].to == to)) return &l->v[k];
  return NULL;
}

/* Real time for every core of the test program: ticks advance it, pauses advance it alone. */
static uint64_t s_clock_now_us;

static uint64_t s_clock(void *arg) {
  (void)arg;
  return s_clock_now_us;
}

void tnet_clock_advance(unsigned ticks) { s_clock_now_us += (uint64_t)ticks * TNET_TICK_US; }

void tnet_config(raft_config_t *cfg, raft_id_t id, size_t n_voters) {
  raft_config_default(cfg);
  cfg->clock_us = s_clock;
  cfg->tick_us = TNET_TICK_US;
  cfg->id = id;
  cfg->seed = id;
  cfg->pre_vote = false;
  cfg->check_quorum = false;
  cfg->election_tick = 10;
  cfg->heartbeat_tick = 1;
  cfg->max_inflight_msgs = 256;
  for (size_t k = 0; k < n_voters; k++) cfg->bootstrap.voters[k] = k + 1;
  cfg->bootstrap.n_voters = n_voters;
}

void tnet_core_drain(raft_core_t *r, tnet_msgs_t *msgs, tnet_ents_t *applied) {
  raft_update_t u;
  while (raft_core_get_update(r, &u) == 0) {
    for (size_t k = 0; msgs && k < u.n_msgs; k++) tnet_msgs_push_copy(msgs, &u.msgs[k]);
    for (size_t k = 0; msgs && k < u.n_msgs_after_persist; k++)
      tnet_msgs_push_copy(msgs, &u.msgs_after_persist[k]);
    for (size_t k = 0; applied && k < u.n_committed; k++)
      tnet_ents_push_copy(applied, &u.committed[k]);
    assert_int_equal(raft_core_advance(r, &u), 0);
  }
}

int tnet_core_step(raft_core_t *r, raft_msg_t m) {
  raft_status_t st;
  raft_core_status(r, &st);
  m.to = st.id;
  return raft_core_step(r, &m);
}

/* ------------------------------------------------------------------------------------------ */

static void s_new_core(tnet_node_t *nd, const raft_storage_state_t *st) {
  rv_err_t err;
  raft_core_destroy(&nd->r);
  nd->r = raft_core_new(&nd->cfg, st, &err);
  if (!nd->r) fail_msg("raft_core_new: %s", err.msg);
}

tnet_t *tnet_new(size_t n, void (*cfg_fn)(raft_config_t *cfg, raft_id_t id, size_t n)) {
  assert_true(n >= 1 && n <= TNET_MAX);
  tnet_t *net = calloc(1, sizeof *net);
  assert_true(net);
  net->n = n;
  for (size_t id = 1; id <= n; id++) {
    tnet_node_t *nd = &net->nodes[id];
    if (cfg_fn)
      cfg_fn(&nd->cfg, id, n);
    else
      tnet_config(&nd->cfg, id, n);
    s_new_core(nd, NULL);
  }
  return net;
}

void tnet_destroy(tnet_t **netp) {
  tnet_t *net = *netp;
  if (!net) return;
  for (size_t id = 1; id <= net->n; id++) {
    raft_core_destroy(&net->nodes[id].r);
    tnet_ents_clear(&net->nodes[id].log);
    tnet_ents_clear(&net->nodes[id].applied);
  }
  tnet_msgs_clear(&net->queue);
  tnet_msgs_clear(&net->delivered);
  free(net);
  *netp = NULL;
}

void tnet_restart(tnet_t *net, raft_id_t id, const raft_storage_state_t *st) {
  tnet_node_t *nd = &net->nodes[id];
  if (st) {
    nd->hard = st->hard;
    nd->snap = st->snapshot;
    s_ents_truncate(&nd->log, 0);
    for (size_t k = 0; k < st->n_entries; k++) tnet_ents_push_copy(&nd->log, &st->entries[k]);
    nd->applied_index = st->applied;
  }
  raft_storage_state_t cur = {.hard = nd->hard, .snapshot = nd->snap, .entries = nd->log.v,
                              .n_entries = nd->log.n, .applied = nd->applied_index};
  s_new_core(nd, &cur);
}

/* Carries out one update the way a shell must: send what may go early, persist, send the rest,
 * apply, advance. */
static bool s_process(tnet_t *net, raft_id_t id) {
  tnet_node_t *nd = &net->nodes[id];
  raft_update_t u;
  if (raft_core_get_update(nd->r, &u) != 0) return false;
  for (size_t k = 0; k < u.n_msgs; k++) tnet_msgs_push_copy(&net->queue, &u.msgs[k]);
  if (u.has_snapshot) {
    nd->snap = u.snapshot;
    s_ents_truncate(&nd->log, 0);
    nd->applied_index = u.snapshot.index;
    nd->snapshots_installed++;
  }
  if (u.n_entries) {
    raft_index_t first = u.entries[0].index;
    assert_true(first > nd->snap.index);
    s_ents_truncate(&nd->log, (size_t)(first - nd->snap.index - 1));
    assert_true(nd->log.n == first - nd->snap.index - 1);
    for (size_t k = 0; k < u.n_entries; k++) tnet_ents_push_copy(&nd->log, &u.entries[k]);
  }
  if (u.has_hard_state) nd->hard = u.hard;
  for (size_t k = 0; k < u.n_msgs_after_persist; k++)
    tnet_msgs_push_copy(&net->queue, &u.msgs_after_persist[k]);
  for (size_t k = 0; k < u.n_committed; k++) {
    assert_true(u.committed[k].index == nd->applied_index + 1);
    tnet_ents_push_copy(&nd->applied, &u.committed[k]);
    nd->applied_index = u.committed[k].index;
  }
  for (size_t k = 0; k < u.n_reads && nd->n_reads < 64; k++) nd->reads[nd->n_reads++] = u.reads[k];
  assert_int_equal(raft_core_advance(nd->r, &u), 0);
  return true;
}

void tnet_settle(tnet_t *net) {
  for (int rounds = 0; rounds < 10000; rounds++) {
    bool moved = false;
    for (size_t id = 1; id <= net->n; id++)
      while (!net->down[id] && s_process(net, id)) moved = true;
    if (net->queue.n == 0 && !moved) return;
    tnet_msgs_t batch = net->queue;
    memset(&net->queue, 0, sizeof net->queue);
    for (size_t k = 0; k < batch.n; k++) {
      raft_msg_t *m = &batch.v[k];
      if (m->to == 0 || m->to > net->n || net->down[m->to] || net->cut[m->from][m->to]) continue;
      if (net->drop_types & (1u << m->type)) continue;
      if (m->type == RAFT_MSG_SNAP) {
        /* As raftvisor's shell does: the data reaches the state machine before the MsgSnap
         * reaches the core, so the follower takes a snapshot only when the core would. */
        net->snapshots_sent++;
        if (raft_core_snapshot_acceptable(net->nodes[m->to].r, m->from, m->term, &m->snapshot,
                                          NULL) != RV_OK) {
          net->snapshots_refused++;
          raft_core_report_snapshot(net->nodes[m->from].r, m->to, RAFT_SNAPSHOT_FAILURE);
          continue;
        }
        raft_core_report_snapshot(net->nodes[m->from].r, m->to, RAFT_SNAPSHOT_FINISH);
      }
      tnet_msgs_push_copy(&net->delivered, m);
      raft_core_step(net->nodes[m->to].r, m);
    }
    tnet_msgs_clear(&batch);
  }
  fail_msg("tnet_settle: the cluster never went quiet");
}

void tnet_tick(tnet_t *net, raft_id_t id, unsigned k) {
  for (unsigned i = 0; i < k; i++) {
    tnet_clock_advance(1);
    raft_core_tick(net->nodes[id].r);
  }
}

void tnet_tick_all(tnet_t *net, unsigned k) {
  for (unsigned i = 0; i < k; i++) {
    tnet_clock_advance(1);
    for (size_t id = 1; id <= net->n; id++)
      if (!net->down[id]) raft_core_tick(net->nodes[id].r);
    tnet_settle(net);
  }
}

void tnet_campaign(tnet_t *net, raft_id_t id) {
  raft_core_campaign(net->nodes[id].r);
  tnet_settle(net);
}

void tnet_isolate(tnet_t *net, raft_id_t id) {
  for (size_t k = 1; k <= net->n; k++) {
    net->cut[id][k] = true;
    net->cut[k][id] = true;
  }
}

void tnet_cut(tnet_t *net, raft_id_t a, raft_id_t b) {
  net->cut[a][b] = true;
  net->cut[b][a] = true;
}

void tnet_heal(tnet_t *net) { memset(net->cut, 0, sizeof net->cut); }

int tnet_propose(tnet_t *net, raft_id_t id, const char *data) {
  return raft_core_propose(net->nodes[id].r, data, strlen(data), NULL);
}

raft_status_t tnet_status(const tnet_t *net, raft_id_t id) {
  raft_status_t st;
  raft_core_status(net->nodes[id].r, &st);
  return st;
}

/* ------------------------------------------------------------------------------------------ */
/* Single-core helpers and config variants. */

raft_core_t *tnet_core_new(const raft_config_t *cfg, const raft_storage_state_t *st) {
  rv_err_t err;
  raft_core_t *r = raft_core_new(cfg, st, &err);
  if (!r) fail_msg("raft_core_new: %s", err.msg);
  return r;
}

raft_core_t *tnet_core_with_log(raft_id_t id, size_t n, raft_term_t term, raft_id_t vote,
                                const raft_term_t *terms, size_t n_terms, raft_index_t commit) {
  raft_config_t cfg;
  tnet_config(&cfg, id, n);
  tnet_ents_t ents = {0};
  tnet_ents_from_terms(&ents, 1, terms, n_terms);
  raft_storage_state_t st = {.hard = {term, vote, commit}, .entries = ents.v,
                             .n_entries = ents.n, .applied = commit};
  raft_core_t *r = tnet_core_new(&cfg, &st);
  tnet_ents_clear(&ents);
  return r;
}

raft_status_t tnet_core_status(const raft_core_t *r) {
  raft_status_t st;
  raft_core_status(r, &st);
  return st;
}

void tnet_core_flush(raft_core_t *r) { tnet_core_drain(r, NULL, NULL); }

void tnet_core_make_leader(raft_core_t *r, size_t n) {
  assert_int_equal(raft_core_campaign(r), 0);
  tnet_core_flush(r);
  raft_status_t st = tnet_core_status(r);
  for (raft_id_t id = 1; id <= n && st.role != RAFT_LEADER; id++) {
    if (id == st.id) continue;
    bool pre = st.role == RAFT_PRE_CANDIDATE;
    raft_msg_t m = {.type = pre ? RAFT_MSG_PRE_VOTE_RESP : RAFT_MSG_VOTE_RESP, .from = id,
                    .term = pre ? st.hard.term + 1 : st.hard.term};
    tnet_core_step(r, m);
    st = tnet_core_status(r);
    if (pre && st.role == RAFT_CANDIDATE) id = 0; /* pre-vote won: now the real votes */
    tnet_core_flush(r);
  }
  assert_int_equal(st.role, RAFT_LEADER);
  tnet_core_flush(r);
}

void tnet_core_ack(raft_core_t *r, raft_id_t from, raft_index_t index) {
  raft_msg_t m = {.type = RAFT_MSG_APP_RESP, .from = from, .term = tnet_core_status(r).hard.term,
                  .index = index};
  tnet_core_step(r, m);
}

void tnet_config_prevote(raft_config_t *cfg, raft_id_t id, size_t n) {
  tnet_config(cfg, id, n);
  cfg->pre_vote = true;
}

void tnet_config_check_quorum(raft_config_t *cfg, raft_id_t id, size_t n) {
  tnet_config(cfg, id, n);
  cfg->check_quorum = true;
}

void tnet_config_both(raft_config_t *cfg, raft_id_t id, size_t n) {
  tnet_config(cfg, id, n);
  cfg->check_quorum = true;
  cfg->pre_vote = true;
}

void tnet_config_lease(raft_config_t *cfg, raft_id_t id, size_t n) {
  tnet_config_both(cfg, id, n);
  cfg->lease_read = true;
}

void tnet_config_learner(raft_config_t *cfg, raft_id_t id, size_t n) {
  (void)n;
  tnet_config(cfg, id, 3);
  cfg->bootstrap.learners[0] = 4;
  cfg->bootstrap.n_learners = 1;
}

void tnet_config_joiners(raft_config_t *cfg, raft_id_t id, size_t n) {
  (void)n;
  tnet_config(cfg, id, 3);
  if (id > 3) cfg->bootstrap.n_voters = 0;
}

bool tnet_has_read(const tnet_node_t *nd, uint64_t ctx, raft_index_t *index) {
  for (size_t k = 0; k < nd->n_reads; k++) {
    if (nd->reads[k].ctx != ctx) continue;
    if (index) *index = nd->reads[k].index;
    return true;
  }
  return false;
}
