/* raft_test_net: a tiny in-process cluster for the conformance tests (etcd's `network`).
 *
 * Each node is a raft core plus a model of its shell: a durable store (hard state, log,
 * snapshot meta) written from every update, and the list of entries it applied. Messages are
 * delivered instantly, in order, until the cluster is quiet; links can be cut and nodes
 * isolated, message types dropped. The tests also drive single cores directly and inspect
 * what they send with tnet_core_drain. Test-only code: checks with cmocka's asserts (which,
 * unlike assert(), survive NDEBUG builds), so include it from cmocka test programs only. */
#ifndef RAFT_TEST_NET_H
#define RAFT_TEST_NET_H

#include <stdbool.h>
#include <stddef.h>

#include "raft_core.h"

#define TNET_MAX 8

/* A growable list of deep-copied messages (entries and data owned by the list). */
typedef struct {
  raft_msg_t *v;
  size_t n, cap;
} tnet_msgs_t;

void tnet_msgs_push_copy(tnet_msgs_t *l, const raft_msg_t *m);
void tnet_msgs_clear(tnet_msgs_t *l);
/* Messages of type t in l (count). */
size_t tnet_msgs_count(const tnet_msgs_t *l, raft_msg_type_t t);
/* The first message of type t (to `to`, or any when to == 0), or NULL. */
const raft_msg_t *tnet_msgs_find(const tnet_msgs_t *l, raft_msg_type_t t, raft_id_t to);

/* A growable list of deep-copied entries. */
typedef struct {
  raft_entry_t *v;
  size_t n, cap;
} tnet_ents_t;

void tnet_ents_push_copy(tnet_ents_t *l, const raft_entry_t *e);
void tnet_ents_clear(tnet_ents_t *l);

/* Builds an entry list from terms: entry k has index start + k, term terms[k], data "i<index>". */
void tnet_ents_from_terms(tnet_ents_t *l, raft_index_t start, const raft_term_t *terms, size_t n);

/* The test program's real time (raft_config_t.clock_us of every tnet config): one tick is
 * TNET_TICK_US; tnet_tick and tnet_tick_all advance it a tick per round, tnet_clock_advance
 * alone (time passing while a process is paused: its ticks stall). */
#define TNET_TICK_US 1000u
void tnet_clock_advance(unsigned ticks);

/* A config for node id in a cluster of voters 1..n_voters (pre_vote and check_quorum off, as in
 * the paper; election 10 ticks, heartbeat 1, seed = id; the test clock). */
void tnet_config(raft_config_t *cfg, raft_id_t id, size_t n_voters);

/* Drains every update of r: collects messages (both lists) into msgs and committed entries into
 * applied (either may be NULL), marks everything persisted and applied, and advances. */
void tnet_core_drain(raft_core_t *r, tnet_msgs_t *msgs, tnet_ents_t *applied);

/* Steps a copy of m after setting its to field. Returns raft_core_step's result. */
int tnet_core_step(raft_core_t *r, raft_msg_t m);

/* Single-core helpers. tnet_core_new fails the test when the core cannot be built. */
raft_core_t *tnet_core_new(const raft_config_t *cfg, const raft_storage_state_t *st);
/* Node id of voters 1..n (tnet_config), restored at term/vote with a log whose entries have the
 * given terms (data "i<index>"), commit and applied at commit. */
raft_core_t *tnet_core_with_log(raft_id_t id, size_t n, raft_term_t term, raft_id_t vote,
                                const raft_term_t *terms, size_t n_terms, raft_index_t commit);
raft_status_t tnet_core_status(const raft_core_t *r);
/* Drains and discards every update (all persisted, sent, applied). */
void tnet_core_flush(raft_core_t *r);
/* Makes r (voters 1..n) leader: campaign, then (pre-)votes granted by the other voters. */
void tnet_core_make_leader(raft_core_t *r, size_t n);
/* A MsgAppResp accepting index from `from`, at r's term. */
void tnet_core_ack(raft_core_t *r, raft_id_t from, raft_index_t index);

/* Config variants on top of tnet_config. */
void tnet_config_prevote(raft_config_t *cfg, raft_id_t id, size_t n);
void tnet_config_check_quorum(raft_config_t *cfg, raft_id_t id, size_t n);
void tnet_config_both(raft_config_t *cfg, raft_id_t id, size_t n); /* pre-vote + check-quorum */
void tnet_config_lease(raft_config_t *cfg, raft_id_t id, size_t n); /* both + lease reads */
/* Voters 1..3; node 4 starts as a learner of the bootstrap configuration. */
void tnet_config_learner(raft_config_t *cfg, raft_id_t id, size_t n);
/* Voters 1..3; nodes above 3 are new machines that know no configuration yet. */
void tnet_config_joiners(raft_config_t *cfg, raft_id_t id, size_t n);

typedef struct {
  raft_core_t *r;
  raft_config_t cfg;
  /* durable store */
  raft_hard_state_t hard;
  raft_snapshot_meta_t snap;
  tnet_ents_t log;
  raft_index_t applied_index;
  /* what the state machine saw */
  tnet_ents_t applied;
  raft_read_state_t reads[64];
  size_t n_reads;
  size_t snapshots_installed;
} tnet_node_t;

typedef struct {
  size_t n; /* nodes 1..n */
  tnet_node_t nodes[TNET_MAX + 1];
  bool cut[TNET_MAX + 1][TNET_MAX + 1]; /* cut[a][b]: drop messages a -> b */
  bool down[TNET_MAX + 1];
  uint32_t drop_types; /* bit (1 << type): drop these message types everywhere */
  tnet_msgs_t queue;
  tnet_msgs_t delivered; /* every message delivered, for assertions; cleared by tests */
  size_t snapshots_sent;
  size_t snapshots_refused; /* MsgSnaps the follower's shell refused (raft_core_snapshot_acceptable) */
} tnet_t;

/* n nodes, ids 1..n, all voters; cfg_fn may adjust each node's config (NULL = tnet_config). */
tnet_t *tnet_new(size_t n, void (*cfg_fn)(raft_config_t *cfg, raft_id_t id, size_t n));
void tnet_destroy(tnet_t **netp);

/* Rebuilds node id from its durable store (a crash + restart), or from the given state when
 * st != NULL (which also becomes its durable store). */
void tnet_restart(tnet_t *net, raft_id_t id, const raft_storage_state_t *st);

/* Processes updates of every node and delivers messages until nothing moves. */
void tnet_settle(tnet_t *net);
/* Ticks node id k times (no delivery). */
void tnet_tick(tnet_t *net, raft_id_t id, unsigned k);
/* Ticks every live node once, then settles; k times. */
void tnet_tick_all(tnet_t *net, unsigned k);
/* Node id campaigns (bypassing pre-vote only if the config has none); then settles. */
void tnet_campaign(tnet_t *net, raft_id_t id);
void tnet_isolate(tnet_t *net, raft_id_t id);
void tnet_cut(tnet_t *net, raft_id_t a, raft_id_t b);
void tnet_heal(tnet_t *net);
/* Proposes data on node id; returns the core's result. */
int tnet_propose(tnet_t *net, raft_id_t id, const char *data);
raft_status_t tnet_status(const tnet_t *net, raft_id_t id);
/* Whether node nd was handed read ctx (and at which index). */
bool tnet_has_read(const tnet_node_t *nd, uint64_t ctx, raft_index_t *index);

#endif
