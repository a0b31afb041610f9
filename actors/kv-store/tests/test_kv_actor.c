/* The kv-store actor (the real program) against a scripted raft-peer: this test binds the
 * raft-peer's inbox itself, so it decides every ProposeResult, ApplyBatch, ReadIndexResult and
 * RaftState the actor sees, and drives clients through librvclient. Checks the protocol of
 * kv_actor.h step by step: ApplyFrom repeated until a RaftState answers; a follower redirects
 * with the leader's address; a write answered once its index is applied with the same term;
 * an index taken by another term's entry gives a retriable error and the retry (same id and
 * seq) goes through; a leadership change fails what waited on it, and an entry committed by the
 * deposed leader still applies once (the retry answers "replayed"); a linearizable read waits
 * for its read index to be applied, a stale one does not; a put over the inline limit never
 * reaches raft-peer; Applied reports what is durable; its state streams out as a snapshot and
 * installs back (bad chunks refused) with the same namespace digest; a setattr carries what its
 * mask names and the leader's time stamp, and malformed setattr, rm and digest requests are
 * refused before the log; SIGTERM stops it cleanly. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rv_test_port.h"
#include "kv_cmd.h"
#include "kv_codec.h"
#include "kv_core.h"
#include "kv_feature.h"
#include "kv_schema.h"
#include "kv_snap.h"
#include "rv_client.h"
#include "rv_log.h"
#include "rv_mailbox.h"

static char s_dir[64], s_yaml[128], s_nodes[64];
static int s_port;
static cfg_node_t *s_cfg;
static rv_mailbox_t *s_peer; /* the fake raft-peer's inbox */
static pid_t s_pid;
static uint64_t s_applied_seen; /* the largest Applied the actor reported */
/* the Raft state this fake raft-peer publishes (every 200 ms, as the real one does) */
static const char *s_role;
static uint64_t s_term;
static const char *s_leader;
static int64_t s_published;
/* the members' feature levels the fake leader reports (PeerProgress.feature_level); 0 = the
 * state names no member (as before the feature gate: the node alone) */
static uint32_t s_level_n2, s_level_n3;

static void s_send(uint32_t type, const ProtobufCMessage *body);

static void s_publish(void) {
  Rv__RaftState rs = RV__RAFT_STATE__INIT;
  rs.role = (char *)s_role;
  rs.term = s_term;
  rs.leader_node = (char *)s_leader;
  char *voters[] = {"n1", "n2", "n3"};
  Rv__PeerProgress pp[2], *ppp[2] = {&pp[0], &pp[1]};
  if (s_level_n2) {
    rs.n_voters = 3;
    rs.voters = voters;
    for (int i = 0; i < 2; i++) {
      rv__peer_progress__init(&pp[i]);
      pp[i].node = voters[i + 1];
      pp[i].active = true;
      pp[i].feature_level = i ? s_level_n3 : s_level_n2;
    }
    rs.n_peers = 2;
    rs.peers = ppp;
  }
  s_send(RV_MSG_RAFT_STATE, &rs.base);
  s_published = zclock_mono();
}

/* The client under test: driven while the fake raft-peer waits (librvclient retries only when
 * polled); a result that completes meanwhile is kept for s_result. */
static rv_client_t *s_c;
static rv_client_result_t s_stash;
static bool s_stashed;

/* Keeps the state flowing (the actor takes silence as a restarted raft-peer) and the client
 * moving. */
static void s_pump(void) {
  if (s_role && zclock_mono() - s_published >= 200) s_publish();
  if (s_c && !s_stashed && rv_client_poll(s_c, 0, &s_stash) == RV_OK) s_stashed = true;
}

static int s_setup(void **state) {
  snprintf(s_dir, sizeof s_dir, "/tmp/rvkvactor.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  s_port = rv_test_ports(103); /* raft-ports +0..2, client-ports +100..102 */
  zsys_handler_set(NULL);
  setenv("HADOOP_USER_NAME", "root", 1);
  snprintf(s_yaml, sizeof s_yaml, "%s/n1.yaml", s_dir);
  FILE *f = fopen(s_yaml, "w");
  assert_non_null(f);
  fprintf(f,
          "node: {id: n1, data-dir: %s/n1}\n"
          "cluster:\n  id: c1\n  nodes:\n"
          "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
          "    - {id: n2, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
          "    - {id: n3, host: 127.0.0.1, raft-port: %d, client-port: %d}\n"
          /* no client authentication here: the client's asserted user (root, the superuser)
           * is believed */
          "security: {insecure: true}\n",
          s_dir, s_port, s_port + 100, s_port + 1, s_port + 101, s_port + 2, s_port + 102);
  fclose(f);
  snprintf(s_nodes, sizeof s_nodes, "127.0.0.1:%d", s_port + 100);
  rv_err_t err;
  assert_int_equal(cfg_node_load(s_yaml, &s_cfg, -1, &err), RV_OK);
  char cmd[CFG_PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg->run_dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(rv_mailbox_new(s_cfg, "raft-peer", &s_peer, &err), RV_OK);
  char log[128];
  snprintf(log, sizeof log, "%s/kv-store.log", s_dir);
  s_pid = fork();
  assert_true(s_pid >= 0);
  if (s_pid == 0) {
    FILE *lf = freopen(log, "w", stderr);
    (void)lf;
    execl(KV_STORE_BIN, KV_STORE_BIN, "--config", s_yaml, (char *)NULL);
    _exit(127);
  }
  return 0;
}

static int s_teardown(void **state) {
  if (s_pid > 0) {
    kill(s_pid, SIGKILL);
    waitpid(s_pid, NULL, 0);
  }
  rv_mailbox_destroy(&s_peer);
  cfg_node_destroy(&s_cfg);
  char cmd[256];
  /* the actor's log, for a failure's context (ctest shows it only then) */
  snprintf(cmd, sizeof cmd, "cat %s/kv-store.log >&2; rm -rf %s", s_dir, s_dir);
  return system(cmd);
}

/* The next message of type `type` the actor sends to raft-peer within ms (Applied reports are
 * noted and skipped unless asked for). Returns false on timeout. */
static bool s_expect(uint32_t type, int ms, rv_msg_t *m) {
  int64_t end = zclock_mono() + ms;
  while (zclock_mono() <= end) {
    s_pump();
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(s_peer)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    while (rv_mailbox_recv(s_peer, m, NULL) == RV_OK) {
      if (m->type == RV_MSG_APPLIED) {
        uint64_t i = ((Rv__Applied *)m->body)->index;
        if (i > s_applied_seen) s_applied_seen = i;
      }
      if (m->type == type) return true;
      char tb[32];
      if (m->type != RV_MSG_APPLIED)
        fail_msg("expected %s, got %s", rv_msgtype_name(type, tb, sizeof tb),
                 rv_msgtype_name(m->type, tb + 16, 16));
      rv_msg_clear(m);
    }
  }
  return false;
}

static void s_send(uint32_t type, const ProtobufCMessage *body) {
  rv_err_t err;
  int rc = RV_EAGAIN;
  for (int k = 0; k < 200 && rc == RV_EAGAIN; k++) { /* the actor's inbox may not be bound yet */
    rc = rv_mailbox_send(s_peer, "kv-store", type, body, 0, 0, &err);
    if (rc == RV_EAGAIN) usleep(10000);
  }
  assert_int_equal(rc, RV_OK);
}

static void s_state(const char *role, uint64_t term, const char *leader) {
  s_role = role;
  s_term = term;
  s_leader = leader;
  s_publish();
}

/* One ProposeBatch with one proposal: its id and its command (decoded into cmd, whose bytes
 * are copied into buf). */
static uint64_t s_proposal(kv_cmd_t *cmd, uint8_t *buf, size_t cap, size_t *len) {
  rv_msg_t m;
  assert_true(s_expect(RV_MSG_PROPOSE_BATCH, 3000, &m));
  const Rv__ProposeBatch *b = (const Rv__ProposeBatch *)m.body;
  assert_int_equal(b->n_proposals, 1);
  uint64_t id = b->proposals[0]->id;
  assert_true(b->proposals[0]->data.len <= cap);
  *len = b->proposals[0]->data.len;
  memcpy(buf, b->proposals[0]->data.data, *len);
  rv_msg_clear(&m);
  rv_err_t err;
  assert_int_equal(kv_cmd_decode(buf, *len, cmd, &err), RV_OK);
  return id;
}

static void s_propose_result(uint64_t id, uint64_t index, uint64_t term) {
  Rv__ProposeOutcome o = RV__PROPOSE_OUTCOME__INIT, *op = &o;
  o.id = id;
  o.index = index;
  o.term = term;
  Rv__ProposeResult r = RV__PROPOSE_RESULT__INIT;
  r.n_outcomes = 1;
  r.outcomes = &op;
  s_send(RV_MSG_PROPOSE_RESULT, &r.base);
}

static void s_apply_with(uint64_t first, size_t n, const uint64_t *terms,
                         const uint8_t *const *data, const size_t *lens,
                         const Rv__ProposeOutcome *outcome);

/* ApplyBatch of n entries from index first: data[i] NULL = an empty (Raft's own) entry. */
static void s_apply(uint64_t first, size_t n, const uint64_t *terms, const uint8_t *const *data,
                    const size_t *lens) {
  s_apply_with(first, n, terms, data, lens, NULL);
}

/* As s_apply, carrying the outcome of proposal id (accepted at index, term) before the entries,
 * as raft-peer folds it (messages/raft.proto). */
static void s_apply_outcome(uint64_t id, uint64_t index, uint64_t term, uint64_t first, size_t n,
                            const uint64_t *terms, const uint8_t *const *data,
                            const size_t *lens) {
  Rv__ProposeOutcome o = RV__PROPOSE_OUTCOME__INIT;
  o.id = id;
  o.index = index;
  o.term = term;
  s_apply_with(first, n, terms, data, lens, &o);
}

static void s_apply_with(uint64_t first, size_t n, const uint64_t *terms,
                         const uint8_t *const *data, const size_t *lens,
                         const Rv__ProposeOutcome *outcome) {
  Rv__RaftEntry e[8], *ep[8];
  for (size_t i = 0; i < n; i++) {
    rv__raft_entry__init(&e[i]);
    e[i].index = first + i;
    e[i].term = terms[i];
    e[i].type = data[i] ? 0 : 1;
    e[i].data.data = (uint8_t *)data[i];
    e[i].data.len = data[i] ? lens[i] : 0;
    ep[i] = &e[i];
  }
  Rv__ApplyBatch b = RV__APPLY_BATCH__INIT;
  b.n_entries = n;
  b.entries = ep;
  Rv__ProposeOutcome o, *op = &o;
  if (outcome) {
    o = *outcome;
    b.n_outcomes = 1;
    b.outcomes = &op;
  }
  s_send(RV_MSG_APPLY_BATCH, &b.base);
}

static void s_result(rv_client_t *c, rv_client_result_t *res) {
  for (int k = 0; k < 500; k++) {
    s_pump();
    if (s_stashed) {
      *res = s_stash;
      s_stashed = false;
      return;
    }
    if (rv_client_poll(c, 10, res) == RV_OK) return;
  }
  fail_msg("no answer within 5 s");
}

/* Polls the client for ms, which must not complete anything. */
static void s_nothing_yet(rv_client_t *c, int ms) {
  rv_client_result_t res;
  for (int k = 0; k < ms / 10; k++) {
    s_pump();
    assert_false(s_stashed);
    assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  }
}

/* Sends SnapshotInstall{id, offset, pairs, last} and returns the SnapshotInstalled answer's
 * code (applied into *applied). */
static uint32_t s_install(uint64_t id, uint64_t offset, const uint8_t *pairs, size_t len,
                          bool last, uint64_t *applied) {
  Rv__SnapshotInstall si = RV__SNAPSHOT_INSTALL__INIT;
  si.id = id;
  si.offset = offset;
  si.pairs.data = (uint8_t *)pairs;
  si.pairs.len = len;
  si.last = last;
  s_send(RV_MSG_SNAPSHOT_INSTALL, &si.base);
  rv_msg_t m;
  assert_true(s_expect(RV_MSG_SNAPSHOT_INSTALLED, 5000, &m));
  const Rv__SnapshotInstalled *r = (const Rv__SnapshotInstalled *)m.body;
  assert_int_equal(r->id, id);
  uint32_t code = r->code;
  if (applied) *applied = r->applied;
  rv_msg_clear(&m);
  return code;
}

/* Sends the whole stream id as one last chunk and expects SnapshotPrepared: built and synced
 * beside the live database, waiting for raft-peer's decision. Returns the applied index it
 * names. */
static uint64_t s_prepare(uint64_t id, const uint8_t *pairs, size_t len, uint64_t applied) {
  Rv__SnapshotInstall si = RV__SNAPSHOT_INSTALL__INIT;
  si.id = id;
  si.pairs.data = (uint8_t *)pairs;
  si.pairs.len = len;
  si.last = true;
  si.applied = applied;
  s_send(RV_MSG_SNAPSHOT_INSTALL, &si.base);
  rv_msg_t m;
  assert_true(s_expect(RV_MSG_SNAPSHOT_PREPARED, 5000, &m));
  const Rv__SnapshotPrepared *r = (const Rv__SnapshotPrepared *)m.body;
  assert_int_equal(r->id, id);
  uint64_t said = r->applied;
  rv_msg_clear(&m);
  return said;
}

static void s_decide(uint64_t id, bool commit) {
  Rv__SnapshotDecision d = RV__SNAPSHOT_DECISION__INIT;
  d.id = id;
  d.commit = commit;
  d.reason = commit ? "" : "not the leader we follow (test)";
  s_send(RV_MSG_SNAPSHOT_DECISION, &d.base);
}

static bool s_exists_in_node(const char *name) {
  char path[128];
  snprintf(path, sizeof path, "%s/n1/%s", s_dir, name);
  return access(path, F_OK) == 0;
}

/* One FS_SNAPSHOT_READ of stream at offset, answered into *res (caller clears it). */
static void s_save_read(rv_client_t *c, uint64_t stream, uint64_t offset, rv_client_result_t *res) {
  rv_client_req_t q = {.op = RV_CLIENT_SNAPSHOT_READ, .snapshot_stream = stream,
                       .snapshot_offset = offset};
  rv_err_t err;
  assert_int_equal(rv_client_submit(c, &q, 40, &err), RV_OK);
  s_result(c, res);
}

/* A client's save (raftvisor snapshot save): a consistent image read chunk by chunk at the
 * applied index, whose pairs hash to the namespace digest; the chunk before asked again (an
 * answer lost) is the same bytes; a stream past its end, an unknown stream and a gap are
 * refused. */
static void s_saves(rv_client_t *c, uint64_t digest) {
  rv_client_result_t res = {0};
  s_save_read(c, 99, 0, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.image.index, 7);
  assert_true(res.image.term > 0);
  assert_int_equal(res.image.offset, 0);
  assert_int_equal(res.image.store_format, KV_FORMAT);
  assert_string_equal(res.image.node, "n1");
  assert_true(res.len > 0);
  size_t first_len = res.len;
  uint8_t *first = malloc(first_len);
  assert_non_null(first);
  memcpy(first, res.content, first_len);
  rv_client_result_clear(&res);
  s_save_read(c, 99, 0, &res); /* the answer was lost: the same chunk again */
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.len, first_len);
  assert_memory_equal(res.content, first, first_len);
  uint64_t h = KV_FNV64_INIT, off = 0;
  bool last = res.image.last;
  for (int k = 0; k < 1000; k++) {
    kv_snap_cursor_t cur;
    kv_snap_cursor_init(&cur, res.content, res.len);
    kv_bytes_t pk, pv;
    rv_err_t err;
    while (kv_snap_next(&cur, &pk, &pv, &err) == 1)
      h = kv_digest_pair(h, KV_DIGEST_NAMESPACE, pk.p, pk.len, pv.p, pv.len);
    off += res.len;
    rv_client_result_clear(&res);
    if (last) break;
    s_save_read(c, 99, off, &res);
    assert_int_equal(res.code, RV_OK);
    assert_int_equal(res.image.offset, off);
    last = res.image.last;
  }
  assert_true(last);
  assert_true(h == digest); /* the image is the namespace the node serves */
  s_save_read(c, 99, off, &res); /* past the end */
  assert_int_equal(res.code, RV_EPROTO);
  assert_non_null(strstr(res.msg, "(complete)"));
  rv_client_result_clear(&res);
  s_save_read(c, 12345, 10, &res); /* never opened */
  assert_int_equal(res.code, RV_ENOTFOUND);
  assert_non_null(strstr(res.msg, "no stream 12345"));
  rv_client_result_clear(&res);
  s_save_read(c, 98, 0, &res); /* a gap in a new stream */
  assert_int_equal(res.code, RV_OK);
  rv_client_result_clear(&res);
  s_save_read(c, 98, 7, &res);
  assert_int_equal(res.code, RV_EPROTO);
  rv_client_result_clear(&res);
  free(first);
}

/* Snapshots, both ways: the actor streams its own state out (SnapshotRequest -> SnapshotData,
 * chunk by chunk from offset 0), then installs that stream back (SnapshotInstall ->
 * SnapshotInstalled, then ApplyFrom past it) and still serves the same namespace; a gap, a
 * request for an unknown stream and a malformed chunk are refused and change nothing. */
static void s_snapshots(rv_client_t *c) {
  rv_msg_t m;
  rv_err_t err;
  /* out */
  kv_buf_t all;
  kv_buf_init(&all);
  uint64_t applied = 0, off = 0;
  bool last = false;
  for (int k = 0; k < 100 && !last; k++) {
    Rv__SnapshotRequest q = RV__SNAPSHOT_REQUEST__INIT;
    q.id = 42;
    q.offset = off;
    q.to_node = "n2";
    s_send(RV_MSG_SNAPSHOT_REQUEST, &q.base);
    assert_true(s_expect(RV_MSG_SNAPSHOT_DATA, 3000, &m));
    const Rv__SnapshotData *d = (const Rv__SnapshotData *)m.body;
    assert_int_equal(d->id, 42);
    assert_int_equal(d->code, 0);
    assert_int_equal(d->offset, off);
    kv_buf_put(&all, d->pairs.data, d->pairs.len);
    off += d->pairs.len;
    last = d->last;
    applied = d->applied;
    rv_msg_clear(&m);
  }
  assert_true(last);
  assert_int_equal(applied, 7);
  assert_true(all.len > 0);
  /* a request for a stream that ended (or never began) past offset 0 */
  Rv__SnapshotRequest q = RV__SNAPSHOT_REQUEST__INIT;
  q.id = 42;
  q.offset = off;
  s_send(RV_MSG_SNAPSHOT_REQUEST, &q.base);
  assert_true(s_expect(RV_MSG_SNAPSHOT_DATA, 3000, &m));
  assert_int_equal(((const Rv__SnapshotData *)m.body)->code, RV_EPROTO);
  rv_msg_clear(&m);

  /* in: refusals first, none of which touches the namespace */
  uint8_t junk[12] = {0xff, 0xff, 0xff, 0x7f, 'k'}; /* a key length far out of bounds */
  assert_int_equal(s_install(50, 0, junk, sizeof junk, true, NULL), RV_EDECODE);
  Rv__SnapshotInstall first = RV__SNAPSHOT_INSTALL__INIT;
  first.id = 51; /* a valid first chunk: no answer until the last */
  first.pairs.data = all.data;
  first.pairs.len = all.len;
  s_send(RV_MSG_SNAPSHOT_INSTALL, &first.base);
  assert_int_equal(s_install(51, all.len + 7, all.data, all.len, true, NULL), RV_EPROTO); /* gap */
  assert_int_equal(s_install(52, 9, all.data, all.len, true, NULL), RV_EPROTO); /* unknown */
  /* a stream from a leader of a newer build (its store's format key says 2): refused before
   * anything is prepared */
  kv_buf_t newer;
  kv_buf_init(&newer);
  kv_snap_cursor_t cur;
  kv_snap_cursor_init(&cur, all.data, all.len);
  kv_bytes_t pk, pv;
  uint8_t fkey[32], two[8];
  size_t fkl = kv_key_meta(fkey, KV_META_FORMAT);
  kv_be64_put(two, 2);
  bool had_format = false;
  while (kv_snap_next(&cur, &pk, &pv, &err) == 1) {
    bool is_format = pk.len == fkl && memcmp(pk.p, fkey, fkl) == 0;
    had_format |= is_format;
    assert_int_equal(kv_snap_put(&newer, pk.p, pk.len, is_format ? two : pv.p,
                                 is_format ? sizeof two : pv.len), RV_OK);
  }
  assert_true(had_format);
  assert_int_equal(s_install(54, 0, newer.data, newer.len, true, NULL), RV_ECONFIG);
  assert_false(s_exists_in_node("kv.snap"));
  kv_buf_close(&newer);

  /* a commit decision before the last chunk is refused */
  first.id = 53;
  s_send(RV_MSG_SNAPSHOT_INSTALL, &first.base);
  s_decide(53, true);
  assert_true(s_expect(RV_MSG_SNAPSHOT_INSTALLED, 5000, &m));
  assert_int_equal(((const Rv__SnapshotInstalled *)m.body)->id, 53);
  assert_int_equal(((const Rv__SnapshotInstalled *)m.body)->code, RV_EPROTO);
  rv_msg_clear(&m);
  /* Raft decides, not the stream: a complete install that raft-peer refuses (a deposed or
   * forged leader's) is prepared beside the store, then dropped; the store is never replaced
   * and nothing is answered */
  assert_int_equal(s_prepare(44, all.data, all.len, 7), 7);
  assert_true(s_exists_in_node("kv.snap"));
  s_decide(44, false);
  for (int k = 0; k < 300 && s_exists_in_node("kv.snap"); k++) {
    s_pump();
    usleep(10000);
  }
  assert_false(s_exists_in_node("kv.snap"));
  assert_false(s_exists_in_node("kv.new"));
  s_decide(44, true); /* a late commit for the abandoned install changes nothing */

  /* the whole stream back, as a follower would: prepared, committed, swapped in, then
   * ApplyFrom past it */
  assert_int_equal(s_prepare(43, all.data, all.len, 7), 7);
  s_decide(43, true);
  uint64_t installed = 0;
  assert_true(s_expect(RV_MSG_SNAPSHOT_INSTALLED, 5000, &m));
  assert_int_equal(((const Rv__SnapshotInstalled *)m.body)->id, 43);
  assert_int_equal(((const Rv__SnapshotInstalled *)m.body)->code, RV_OK);
  installed = ((const Rv__SnapshotInstalled *)m.body)->applied;
  rv_msg_clear(&m);
  assert_int_equal(installed, 7);
  assert_true(s_expect(RV_MSG_APPLY_FROM, 3000, &m));
  assert_int_equal(((Rv__ApplyFrom *)m.body)->index, 8);
  rv_msg_clear(&m);
  s_publish();
  kv_buf_close(&all);

  /* the same namespace, and nothing left beside the store */
  rv_client_req_t st = {.op = RV_CLIENT_COUNT, .path = "/", .flags = RV_CLIENT_STALE};
  assert_int_equal(rv_client_submit(c, &st, 9, &err), RV_OK);
  rv_client_result_t res;
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.dirs, 4);
  rv_client_result_clear(&res);
  const char *left[] = {"kv.snap", "kv.new", "kv.old"};
  for (size_t i = 0; i < 3; i++) {
    char path[128];
    snprintf(path, sizeof path, "%s/n1/%s", s_dir, left[i]);
    assert_int_not_equal(access(path, F_OK), 0);
  }
}

/* Sends one FsRequest to the actor's client port as raw bytes (librvclient refuses these
 * requests itself, so they never reach the actor through it) and returns the FsReply's code,
 * its message copied into msg. */
static uint32_t s_raw(const Rv__FsRequest *q, char *msg, size_t cap) {
  zsock_t *d = zsock_new(ZMQ_DEALER);
  zsock_set_linger(d, 0);
  assert_int_equal(zsock_connect(d, "tcp://%s", s_nodes), 0);
  rv_msg_t m = {.type = RV_MSG_FS_REQUEST, .corr_id = 77, .body = (ProtobufCMessage *)&q->base};
  rv_addr_set(&m.from, "client", "craw");
  rv_addr_set(&m.to, "", "kv-store");
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, &frame, &len, &err), RV_OK);
  zframe_t *f = zframe_new(frame, len);
  free(frame);
  assert_int_equal(zframe_send(&f, d, 0), 0);
  zframe_t *in = NULL;
  for (int k = 0; k < 300 && !in; k++) {
    s_pump();
    zmq_pollitem_t it = {.socket = zsock_resolve(d), .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, 10) == 1) in = zframe_recv(d);
  }
  assert_non_null(in);
  rv_msg_t r;
  assert_int_equal(rv_msg_decode(zframe_data(in), zframe_size(in), 0, &r, &err), RV_OK);
  assert_int_equal(r.type, RV_MSG_FS_REPLY);
  assert_int_equal(r.corr_id, 77);
  const Rv__FsReply *rep = (const Rv__FsReply *)r.body;
  uint32_t code = rep->code;
  snprintf(msg, cap, "%s", rep->message ? rep->message : "");
  assert_int_equal(rep->index, 0); /* refused before the log */
  rv_msg_clear(&r);
  zframe_destroy(&in);
  zsock_destroy(&d);
  return code;
}

/* Requests the shell refuses before they reach the log, each naming what is wrong. */
static void s_refusals(void) {
  char msg[1024];
  rv_msg_t m;
  Rv__FsRequest q = RV__FS_REQUEST__INIT;
  q.op = RV__FS_OP__FS_SETATTR;
  q.path.data = (uint8_t *)"/a";
  q.path.len = 2;
  q.set_mask = KV_SET_MTIME;
  q.times_now = true;
  q.mtime_ms = 5;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "setattr \"/a\" does not take the times_now (with explicit times)"));
  q.times_now = false;
  q.set_mask = 0x40;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "set_mask (unknown bits)"));
  q.set_mask = KV_SET_PERM;
  q.mtime_ms = 0;
  q.perm = 010000;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "permission 10000 is out of range"));
  q.perm = 0;
  q.op = RV__FS_OP__FS_MKDIR;
  q.set_mask = 0;
  q.dir_only = true;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "mkdir \"/a\" does not take the file_only/dir_only flag"));
  q.dir_only = false;
  q.op = RV__FS_OP__FS_RM;
  q.atime_ms = 9;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "set_mask/mtime_ms/atime_ms/times_now"));
  q.atime_ms = 0;
  q.op = RV__FS_OP__FS_DIGEST;
  q.stale = true;
  assert_int_equal(s_raw(&q, msg, sizeof msg), RV_EINVAL);
  assert_non_null(strstr(msg, "digest: takes no path"));
  assert_false(s_expect(RV_MSG_PROPOSE_BATCH, 200, &m));
}

static void test_the_protocol_with_raft_peer(void **state) {
  rv_msg_t m;
  /* start: ApplyFrom(1), repeated until a RaftState answers; it carries the node's feature
   * level, which raft-peer advertises to the other nodes */
  assert_true(s_expect(RV_MSG_APPLY_FROM, 5000, &m));
  assert_int_equal(((Rv__ApplyFrom *)m.body)->index, 1);
  assert_int_equal(((Rv__ApplyFrom *)m.body)->feature_level, KV_FEATURE_LEVEL);
  rv_msg_clear(&m);
  assert_true(s_expect(RV_MSG_APPLY_FROM, 2000, &m));
  rv_msg_clear(&m);
  s_state("follower", 1, "n2");

  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = 300;
  o.retry_ms = 700;
  o.lanes = 2;
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_nodes, &o, &c, &err), RV_OK);
  s_c = c;
  rv_client_result_t res;

  /* a follower redirects writes to the leader's client address: the request shows up at a
   * socket standing in for n2's client port */
  zsock_t *n2 = zsock_new(ZMQ_ROUTER);
  zsock_set_linger(n2, 0);
  assert_int_equal(zsock_bind(n2, "tcp://127.0.0.1:%d", s_port + 101), s_port + 101);
  rv_client_req_t mk = {.op = RV_CLIENT_MKDIR, .path = "/a"};
  assert_int_equal(rv_client_submit(c, &mk, 0, &err), RV_OK);
  zmsg_t *at_n2 = NULL;
  for (int k = 0; k < 300 && !at_n2; k++) {
    s_pump();
    zmq_pollitem_t it = {.socket = zsock_resolve(n2), .events = ZMQ_POLLIN};
    if (zmq_poll(&it, 1, 10) == 1) at_n2 = zmsg_recv(n2);
  }
  assert_non_null(at_n2);
  zmsg_destroy(&at_n2);
  zsock_destroy(&n2);
  assert_true(rv_client_stats(c).redirects >= 1);
  s_result(c, &res); /* n2 never answers: the retry deadline */
  assert_int_equal(res.code, RV_ETIMEDOUT);
  rv_client_result_clear(&res);
  rv_client_destroy(&c);
  assert_int_equal(rv_client_new(s_nodes, &o, &c, &err), RV_OK);
  s_c = c;

  /* leader: a write is proposed, stamped, and answered when its index applies in its term */
  s_state("leader", 2, "n1");
  int64_t before_ms = (int64_t)(rv_wall_us() / 1000);
  assert_int_equal(rv_client_submit(c, &mk, 1, &err), RV_OK);
  kv_cmd_t cmd;
  uint8_t buf[4096];
  size_t len;
  uint64_t id = s_proposal(&cmd, buf, sizeof buf, &len);
  assert_int_equal(cmd.op, KV_OP_MKDIR);
  assert_true(cmd.client_id != 0);
  assert_true(cmd.time_ms >= before_ms - 1000 && cmd.time_ms <= before_ms + 5000);
  assert_int_equal(cmd.perm, 0755);
  s_propose_result(id, 2, 2);
  s_nothing_yet(c, 50);
  {
    uint64_t terms[] = {1, 2};
    const uint8_t *data[] = {NULL, buf};
    size_t lens[] = {0, len};
    s_apply(1, 2, terms, data, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 2);
  assert_false(res.replayed);
  rv_client_result_clear(&res);

  /* the index went to another term's entry: retriable; the retry (same id and seq) succeeds */
  o.retry_ms = 5000;
  rv_client_destroy(&c);
  assert_int_equal(rv_client_new(s_nodes, &o, &c, &err), RV_OK);
  s_c = c;
  mk.path = "/b";
  assert_int_equal(rv_client_submit(c, &mk, 2, &err), RV_OK);
  kv_cmd_t first;
  uint8_t fbuf[4096];
  size_t flen;
  id = s_proposal(&first, fbuf, sizeof fbuf, &flen);
  s_propose_result(id, 3, 2);
  {
    uint64_t terms[] = {3};
    const uint8_t *data[] = {NULL};
    size_t lens[] = {0};
    s_apply(3, 1, terms, data, lens);
  }
  id = s_proposal(&cmd, buf, sizeof buf, &len); /* the client's retry */
  assert_int_equal(cmd.client_id, first.client_id);
  assert_int_equal(cmd.seq, first.seq);
  s_propose_result(id, 4, 2);
  {
    uint64_t terms[] = {2};
    const uint8_t *data[] = {buf};
    size_t lens[] = {len};
    s_apply(4, 1, terms, data, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 4);
  assert_int_equal(res.attempts, 2);
  rv_client_result_clear(&res);

  /* leadership lost while a write waits: retriable; the deposed leader's entry is committed
   * after all, so the retry's entry applies as a replay of it */
  mk.path = "/c";
  assert_int_equal(rv_client_submit(c, &mk, 3, &err), RV_OK);
  id = s_proposal(&first, fbuf, sizeof fbuf, &flen);
  s_propose_result(id, 5, 2);
  s_state("follower", 3, "n2");
  s_nothing_yet(c, 100); /* the retry meets a follower: redirected, backing off */
  s_state("leader", 4, "n1");
  id = s_proposal(&cmd, buf, sizeof buf, &len);
  assert_int_equal(cmd.client_id, first.client_id);
  assert_int_equal(cmd.seq, first.seq);
  s_propose_result(id, 6, 4);
  {
    uint64_t terms[] = {2, 4};
    const uint8_t *data[] = {fbuf, buf};
    size_t lens[] = {flen, len};
    s_apply(5, 2, terms, data, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_true(res.replayed);
  assert_int_equal(res.index, 5); /* the outcome of the one apply */
  rv_client_result_clear(&res);

  /* a linearizable read waits for its read index; a stale one is answered at once */
  rv_client_req_t st = {.op = RV_CLIENT_COUNT, .path = "/"};
  assert_int_equal(rv_client_submit(c, &st, 4, &err), RV_OK);
  assert_true(s_expect(RV_MSG_READ_INDEX_REQUEST, 3000, &m));
  const Rv__ReadIndexRequest *rq = (const Rv__ReadIndexRequest *)m.body;
  assert_int_equal(rq->n_ctxs, 1);
  uint64_t ctx = rq->ctxs[0], index = 7;
  rv_msg_clear(&m);
  Rv__ReadIndexResult rr = RV__READ_INDEX_RESULT__INIT;
  rr.n_ctxs = 1;
  rr.ctxs = &ctx;
  rr.n_indexes = 1;
  rr.indexes = &index;
  s_send(RV_MSG_READ_INDEX_RESULT, &rr.base);
  s_nothing_yet(c, 100);
  st.flags = RV_CLIENT_STALE;
  assert_int_equal(rv_client_submit(c, &st, 5, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.tag, 5);
  assert_int_equal(res.dirs, 4); /* /, /a, /b, /c */
  rv_client_result_clear(&res);
  {
    uint64_t terms[] = {4};
    const uint8_t *data[] = {NULL};
    size_t lens[] = {0};
    s_apply(7, 1, terms, data, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.tag, 4);
  assert_int_equal(res.index, 7);
  rv_client_result_clear(&res);

  /* a put over the inline limit is refused before it reaches raft-peer */
  size_t big = (1u << 20) + 1;
  char *data = calloc(1, big);
  rv_client_req_t put = {.op = RV_CLIENT_PUT, .path = "/big", .data = data, .len = big};
  assert_int_equal(rv_client_submit(c, &put, 6, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.code, RV_ETOOBIG);
  free(data);
  assert_non_null(strstr(res.msg, "exceeds the inline limit"));
  assert_int_equal(res.index, 0);
  rv_client_result_clear(&res);
  assert_false(s_expect(RV_MSG_PROPOSE_BATCH, 200, &m));

  /* Applied: what is durable (the idle store is flushed within about a second) */
  int64_t end = zclock_mono() + 3000;
  while (s_applied_seen < 7 && zclock_mono() < end)
    if (s_expect(RV_MSG_APPLIED, 100, &m)) rv_msg_clear(&m);
  /* the last entry: Raft's own entries count too, so applied reaches commit on an idle node */
  assert_int_equal(s_applied_seen, 7);

  /* the digest before the snapshot round trip equals the one after it */
  rv_client_req_t dg = {.op = RV_CLIENT_DIGEST, .flags = RV_CLIENT_STALE};
  assert_int_equal(rv_client_submit(c, &dg, 7, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 7);
  uint64_t digest = res.digest;
  assert_true(digest != 0);
  rv_client_result_clear(&res);

  s_saves(c, digest);
  s_snapshots(c);

  assert_int_equal(rv_client_submit(c, &dg, 8, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_true(res.digest == digest);
  rv_client_result_clear(&res);

  /* setattr: the fields its mask names go into the command as sent; times_now takes the
   * leader's stamp; applied, stat shows them and the digest moves */
  rv_client_req_t sa = {.op = RV_CLIENT_SETATTR, .path = "/a"};
  sa.attrs = (rv_client_attrs_t){.set = RV_CLIENT_SET_PERM | RV_CLIENT_SET_OWNER |
                                        RV_CLIENT_SET_MTIME | RV_CLIENT_SET_ATIME,
                                 .perm = 01700,
                                 .owner = "bob",
                                 .times_now = true};
  before_ms = (int64_t)(rv_wall_us() / 1000);
  assert_int_equal(rv_client_submit(c, &sa, 10, &err), RV_OK);
  id = s_proposal(&cmd, buf, sizeof buf, &len);
  assert_int_equal(cmd.op, KV_OP_SETATTR);
  assert_int_equal(cmd.set_mask, KV_SET_PERM | KV_SET_OWNER | KV_SET_MTIME | KV_SET_ATIME);
  assert_int_equal(cmd.perm, 01700);
  assert_int_equal(cmd.owner.len, 3);
  assert_memory_equal(cmd.owner.p, "bob", 3);
  assert_int_equal(cmd.group.len, 0);
  assert_true(cmd.mtime_ms == cmd.time_ms && cmd.atime_ms == cmd.time_ms);
  assert_true(cmd.time_ms >= before_ms - 1000 && cmd.time_ms <= before_ms + 5000);
  int64_t stamped = cmd.time_ms;
  s_propose_result(id, 8, 4);
  {
    uint64_t terms[] = {4};
    const uint8_t *entries[] = {buf};
    size_t lens[] = {len};
    s_apply(8, 1, terms, entries, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 8);
  rv_client_result_clear(&res);
  rv_client_req_t sst = {.op = RV_CLIENT_STAT, .path = "/a", .flags = RV_CLIENT_STALE};
  assert_int_equal(rv_client_submit(c, &sst, 11, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.stat.perm, 01700);
  assert_string_equal(res.stat.owner, "bob");
  assert_true(res.stat.mtime_ms == stamped && res.stat.atime_ms == stamped);
  rv_client_result_clear(&res);
  assert_int_equal(rv_client_submit(c, &dg, 12, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.index, 8);
  assert_true(res.digest != digest);
  rv_client_result_clear(&res);
  s_refusals();

  /* the feature gate: with n3 reported at level 1, an append is refused before the log
   * (RV_EFEATURE, naming the level and n3) while a mkdir goes on; once n3 says level 2 the
   * append is proposed */
  s_level_n2 = 2;
  s_level_n3 = 1;
  s_publish();
  rv_client_req_t ap = {.op = RV_CLIENT_APPEND, .path = "/a/f", .data = "x", .len = 1};
  assert_int_equal(rv_client_submit(c, &ap, 13, &err), RV_OK);
  s_result(c, &res);
  assert_int_equal(res.code, RV_EFEATURE);
  assert_string_equal(res.msg, "append /a/f: append needs every node at feature level 2; n3 "
                               "runs level 1: upgrade it (raftvisor endpoints shows each node's "
                               "level)");
  assert_int_equal(res.index, 0);
  rv_client_result_clear(&res);
  assert_false(s_expect(RV_MSG_PROPOSE_BATCH, 200, &m));
  s_level_n3 = 2;
  s_publish();
  assert_int_equal(rv_client_submit(c, &ap, 14, &err), RV_OK);
  id = s_proposal(&cmd, buf, sizeof buf, &len);
  assert_int_equal(cmd.op, KV_OP_APPEND);
  s_propose_result(id, 9, 4);
  {
    uint64_t terms[] = {4};
    const uint8_t *entries[] = {buf};
    size_t lens[] = {len};
    s_apply(9, 1, terms, entries, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 9);
  rv_client_result_clear(&res);

  /* raft-peer folds an accepted proposal's outcome into the ApplyBatch that carries its entry
   * (issue 11: no ProposeResult, a kv-store wake-up less): taken in before the entries, so that
   * one message answers the write; an outcome whose index went to another entry in the same
   * message gives the retriable error, and the retry (same id and seq) goes through */
  mk.path = "/e";
  assert_int_equal(rv_client_submit(c, &mk, 15, &err), RV_OK);
  id = s_proposal(&cmd, buf, sizeof buf, &len);
  {
    uint64_t terms[] = {4};
    const uint8_t *entries[] = {buf};
    size_t lens[] = {len};
    s_apply_outcome(id, 10, 4, 10, 1, terms, entries, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 10);
  rv_client_result_clear(&res);
  mk.path = "/f";
  assert_int_equal(rv_client_submit(c, &mk, 16, &err), RV_OK);
  id = s_proposal(&first, fbuf, sizeof fbuf, &flen);
  {
    uint64_t terms[] = {5};
    const uint8_t *entries[] = {NULL}; /* a newer leader's empty entry took index 11 */
    size_t lens[] = {0};
    s_apply_outcome(id, 11, 4, 11, 1, terms, entries, lens);
  }
  id = s_proposal(&cmd, buf, sizeof buf, &len); /* the client's retry */
  assert_int_equal(cmd.client_id, first.client_id);
  assert_int_equal(cmd.seq, first.seq);
  {
    uint64_t terms[] = {5};
    const uint8_t *entries[] = {buf};
    size_t lens[] = {len};
    s_apply_outcome(id, 12, 5, 12, 1, terms, entries, lens);
  }
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.index, 12);
  assert_int_equal(res.attempts, 2);
  assert_false(res.replayed);
  rv_client_result_clear(&res);
  s_c = NULL;
  rv_client_destroy(&c);

  /* SIGTERM: a clean stop */
  kill(s_pid, SIGTERM);
  int status;
  assert_int_equal(waitpid(s_pid, &status, 0), s_pid);
  s_pid = 0;
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
  rv_log_init("test", "test", CFG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_the_protocol_with_raft_peer),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
