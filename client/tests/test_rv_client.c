/* librvclient against fake nodes: three ROUTER sockets in this process play the cluster, so
 * every answer (a redirect, silence, a retriable error, a decision) is scripted. Checks node
 * lists and options, the redirect to the leader, failover on a timeout and on an unreachable
 * node, the retry deadline, that every attempt of a write carries the same client id and seq,
 * how the session moves on, and lanes in flight with tags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <czmq.h>

#include "rv_test_port.h"
#include "kv.pb-c.h"
#include "rv_client.h"
#include "rv_codec.h"

#define S_N 3
static int s_port;
static zsock_t *s_node[S_N];
static char s_list[256];

static int s_setup(void **state) {
  zsys_handler_set(NULL);
  s_port = rv_test_ports(11); /* the three fake nodes and a dead port at +10 */
  for (int i = 0; i < S_N; i++) {
    s_node[i] = zsock_new(ZMQ_ROUTER);
    zsock_set_linger(s_node[i], 0);
    assert_int_equal(zsock_bind(s_node[i], "tcp://127.0.0.1:%d", s_port + i), s_port + i);
  }
  snprintf(s_list, sizeof s_list, "127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", s_port, s_port + 1,
           s_port + 2);
  return 0;
}

static int s_teardown(void **state) {
  for (int i = 0; i < S_N; i++) zsock_destroy(&s_node[i]);
  return 0;
}

/* A request as a fake node saw it. */
typedef struct {
  zframe_t *id;
  rv_msg_t m;
} s_req_t;

/* Waits up to ms on node i for a request; false when none came. */
static bool s_take(int i, int ms, s_req_t *q) {
  memset(q, 0, sizeof *q);
  zmq_pollitem_t it = {.socket = zsock_resolve(s_node[i]), .events = ZMQ_POLLIN};
  if (zmq_poll(&it, 1, ms) <= 0) return false;
  zmsg_t *msg = zmsg_recv(s_node[i]);
  assert_non_null(msg);
  assert_int_equal(zmsg_size(msg), 2);
  q->id = zmsg_pop(msg);
  zframe_t *f = zmsg_pop(msg);
  rv_err_t err;
  assert_int_equal(rv_msg_decode(zframe_data(f), zframe_size(f), 0, &q->m, &err), RV_OK);
  assert_int_equal(q->m.type, RV_MSG_FS_REQUEST);
  zframe_destroy(&f);
  zmsg_destroy(&msg);
  return true;
}

static const Rv__FsRequest *s_fs(const s_req_t *q) { return (const Rv__FsRequest *)q->m.body; }

/* Checks that the request's path (bytes, not NUL-terminated) is want. */
static void s_path_is(const s_req_t *q, const char *want) {
  assert_int_equal(s_fs(q)->path.len, strlen(want));
  assert_memory_equal(s_fs(q)->path.data, want, strlen(want));
}

/* Answers q on node i. */
static void s_answer(int i, s_req_t *q, const Rv__FsReply *r) {
  rv_msg_t m = {.type = RV_MSG_FS_REPLY, .corr_id = q->m.corr_id,
                .body = (ProtobufCMessage *)&r->base};
  rv_addr_set(&m.from, "n", "kv-store");
  m.to = q->m.from;
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, &frame, &len, &err), RV_OK);
  zmsg_t *msg = zmsg_new();
  zmsg_append(msg, &q->id);
  zmsg_addmem(msg, frame, len);
  free(frame);
  assert_int_equal(zmsg_send(&msg, s_node[i]), 0);
}

static void s_req_clear(s_req_t *q) {
  zframe_destroy(&q->id);
  rv_msg_clear(&q->m);
}

/* Drops what earlier tests left queued at the fake nodes. */
static int s_drain(void **state) {
  for (int i = 0; i < S_N; i++) {
    s_req_t q;
    while (s_take(i, 20, &q)) s_req_clear(&q);
  }
  return 0;
}

/* Polls the client until one result (within 5 s). */
static void s_result(rv_client_t *c, rv_client_result_t *res) {
  for (int k = 0; k < 500; k++)
    if (rv_client_poll(c, 10, res) == RV_OK) return;
  fail_msg("no result within 5 s");
}

static void test_node_lists(void **state) {
  char nodes[RV_CLIENT_NODES_MAX][RV_CLIENT_ADDR_MAX];
  int n;
  rv_err_t err;
  assert_int_equal(rv_client_nodes_parse("h1:1,[::1]:7201,h-3.example:65535", nodes, &n, &err), 0);
  assert_int_equal(n, 3);
  assert_string_equal(nodes[1], "[::1]:7201");
  struct {
    const char *list, *msg;
  } bad[] = {
      {"", "the node list is empty"},
      {"h1:1,,h2:2", "node 2 of \"h1:1,,h2:2\": empty element"},
      {"h1", "\"h1\": expected host:port"},
      {"h1:0", "the port \"0\" is not a number in 1..65535"},
      {"h1:70000", "the port \"70000\" is not a number in 1..65535"},
      {"h1:12x", "the port \"12x\" is not a number"},
      {":80", "the host is empty"},
      {"::1:80", "write an IPv6 host in brackets"},
      {"[::1:80", "needs its closing ']'"},
      {"h1:1,h1:1", "h1:1 is listed twice"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(rv_client_nodes_parse(bad[i].list, nodes, &n, &err), RV_EINVAL);
    if (!strstr(err.msg, bad[i].msg)) fail_msg("\"%s\": got \"%s\"", bad[i].list, err.msg);
  }
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = 2000;
  o.retry_ms = 1000;
  rv_client_t *c = NULL;
  assert_int_equal(rv_client_new("h:1", &o, &c, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "retry deadline of 1000 ms"));
  assert_null(c);
  rv_client_opts_default(&o);
  o.lanes = 0;
  assert_int_equal(rv_client_new("h:1", &o, &c, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "0 lanes"));
  rv_client_destroy(&c); /* safe on NULL */
}

/* n1 redirects to n3, which decides; the next write goes straight to n3 with the next seq. */
static void test_redirect_to_the_leader(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.user = "alice";
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, &o, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_MKDIR, .path = "//a///b", .flags = RV_CLIENT_PARENTS};
  assert_int_equal(rv_client_submit(c, &req, 7, &err), RV_OK);
  s_req_t q1, q3;
  rv_client_result_t res;
  assert_int_equal(rv_client_poll(c, 0, &res), RV_EAGAIN);
  assert_true(s_take(0, 2000, &q1));
  s_path_is(&q1, "/a/b"); /* normalised */
  assert_true(s_fs(&q1)->parents);
  assert_string_equal(s_fs(&q1)->user, "alice");
  assert_string_equal(s_fs(&q1)->owner, ""); /* creates: the server decides (HDFS) */
  assert_int_equal(s_fs(&q1)->seq, 1);
  assert_true(s_fs(&q1)->client_id != 0);
  char leader[64];
  snprintf(leader, sizeof leader, "127.0.0.1:%d", s_port + 2);
  Rv__FsReply redirect = RV__FS_REPLY__INIT;
  redirect.code = RV_ENOTLEADER;
  redirect.retry = true;
  redirect.leader = leader;
  redirect.message = "mkdir: n1 is not the leader";
  s_answer(0, &q1, &redirect);
  assert_int_equal(rv_client_poll(c, 50, &res), RV_EAGAIN);
  assert_true(s_take(2, 2000, &q3));
  assert_int_equal(s_fs(&q3)->client_id, s_fs(&q1)->client_id);
  assert_int_equal(s_fs(&q3)->seq, 1);
  assert_int_equal(q3.m.corr_id, q1.m.corr_id);
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  ok.index = 12;
  ok.inode = 5;
  ok.n = 2;
  ok.replicas = 3;
  s_answer(2, &q3, &ok);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.tag, 7);
  assert_int_equal(res.index, 12);
  assert_int_equal(res.n, 2);
  assert_int_equal(res.attempts, 2);
  assert_string_equal(res.node, leader);
  assert_int_equal(rv_client_stats(c).redirects, 1);
  assert_string_equal(rv_client_current(c), leader);
  rv_client_result_clear(&res);
  uint64_t id, seq;
  rv_client_session_get(c, 0, &id, &seq);
  assert_int_equal(id, s_fs(&q1)->client_id);
  assert_int_equal(seq, 2);
  s_req_clear(&q1);
  s_req_clear(&q3);
  /* the next write goes to the leader at once */
  req.path = "/c";
  req.flags = 0;
  assert_int_equal(rv_client_submit(c, &req, 8, &err), RV_OK);
  assert_true(s_take(2, 2000, &q3));
  assert_int_equal(s_fs(&q3)->seq, 2);
  /* refused before the log (index 0): the seq is not used up */
  Rv__FsReply refused = RV__FS_REPLY__INIT;
  refused.code = RV_EINVAL;
  refused.message = "mkdir: path \"/c\" is bad";
  s_answer(2, &q3, &refused);
  s_result(c, &res);
  assert_int_equal(res.code, RV_EINVAL);
  assert_string_equal(res.msg, "mkdir: path \"/c\" is bad");
  rv_client_session_get(c, 0, &id, &seq);
  assert_int_equal(seq, 2);
  rv_client_result_clear(&res);
  s_req_clear(&q3);
  rv_client_destroy(&c);
  rv_client_destroy(&c);
}

/* A client given only n1 follows n1's hint to n3, which it was not given. */
static void test_redirect_outside_the_list(void **state) {
  rv_client_t *c;
  rv_err_t err;
  char one[64], leader[64];
  snprintf(one, sizeof one, "127.0.0.1:%d", s_port);
  snprintf(leader, sizeof leader, "127.0.0.1:%d", s_port + 2);
  assert_int_equal(rv_client_new(one, NULL, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_RM, .path = "/x", .flags = RV_CLIENT_RECURSIVE};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  s_req_t q1, q3;
  rv_client_result_t res;
  assert_true(s_take(0, 2000, &q1));
  Rv__FsReply redirect = RV__FS_REPLY__INIT;
  redirect.code = RV_ENOTLEADER;
  redirect.retry = true;
  redirect.leader = leader;
  s_answer(0, &q1, &redirect);
  while (!s_take(2, 0, &q3)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  assert_int_equal(s_fs(&q3)->client_id, s_fs(&q1)->client_id);
  assert_true(s_fs(&q3)->recursive);
  Rv__FsReply gone = RV__FS_REPLY__INIT;
  gone.code = RV_ENOTFOUND;
  gone.index = 3;
  gone.message = "rm -r /x: no such file or directory";
  s_answer(2, &q3, &gone);
  s_result(c, &res);
  assert_int_equal(res.code, RV_ENOTFOUND);
  assert_string_equal(res.node, leader);
  assert_string_equal(rv_client_current(c), leader);
  rv_client_result_clear(&res);
  s_req_clear(&q1);
  s_req_clear(&q3);
  rv_client_destroy(&c);
}

/* n1 is silent: after the attempt timeout the same request goes to n2; n2 says "retry, no
 * leader known", n3 decides. Reads carry no session. */
static void test_failover_on_silence(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = 150;
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, &o, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_COUNT, .path = "/"};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  s_req_t q1, q2, q3;
  assert_true(s_take(0, 2000, &q1));
  assert_int_equal(s_fs(&q1)->client_id, 0);
  rv_client_result_t res;
  int64_t t0 = zclock_mono();
  while (!s_take(1, 0, &q2)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  assert_true(zclock_mono() - t0 >= 100);
  assert_int_equal(q2.m.corr_id, q1.m.corr_id);
  Rv__FsReply unavail = RV__FS_REPLY__INIT;
  unavail.code = RV_EUNAVAIL;
  unavail.retry = true;
  unavail.message = "no leader";
  s_answer(1, &q2, &unavail);
  while (!s_take(2, 0, &q3)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  ok.dirs = 4;
  ok.files = 5;
  ok.bytes = 6;
  s_answer(2, &q3, &ok);
  /* n1's late "retry" for the same operation is stray: ignored */
  s_answer(0, &q1, &unavail);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.dirs, 4);
  assert_int_equal(res.attempts, 3);
  assert_int_equal(rv_client_stats(c).timeouts, 1);
  rv_client_result_clear(&res);
  s_req_clear(&q1);
  s_req_clear(&q2);
  s_req_clear(&q3);
  rv_client_destroy(&c);
}

/* A busy answer (RV_EBUSY: the node's per-connection caps on requests in flight or on replies
 * not read) is retried on the same node after a backoff, with the same session and seq: the
 * node is the right one, another would only redirect back. */
static void test_busy_retries_on_the_same_node(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, &o, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_MKDIR, .path = "/busy"};
  assert_int_equal(rv_client_submit(c, &req, 3, &err), RV_OK);
  s_req_t q1, q2, other;
  assert_true(s_take(0, 2000, &q1));
  Rv__FsReply busy = RV__FS_REPLY__INIT;
  busy.code = RV_EBUSY;
  busy.retry = true;
  busy.leader = "";
  busy.message = "mkdir: this connection has 8192 requests in flight already";
  s_answer(0, &q1, &busy);
  rv_client_result_t res;
  while (!s_take(0, 0, &q2)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  assert_int_equal(q2.m.corr_id, q1.m.corr_id);
  assert_int_equal(s_fs(&q2)->client_id, s_fs(&q1)->client_id);
  assert_int_equal(s_fs(&q2)->seq, s_fs(&q1)->seq);
  assert_false(s_take(1, 0, &other)); /* no other node was tried */
  assert_false(s_take(2, 0, &other));
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  ok.index = 3;
  s_answer(0, &q2, &ok);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.attempts, 2);
  assert_int_equal(rv_client_stats(c).busy, 1);
  assert_int_equal(rv_client_stats(c).retries, 1);
  rv_client_result_clear(&res);
  s_req_clear(&q1);
  s_req_clear(&q2);
  rv_client_destroy(&c);
}

/* Nobody answers a write: RV_ETIMEDOUT at the retry deadline, and the lane starts a new
 * session (the write may still be applied later). Every resend carried the first attempt's
 * client id and seq. An unreachable node is skipped at once. */
static void test_deadline_and_unreachable_nodes(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = 100;
  o.retry_ms = 400;
  rv_client_t *c;
  rv_err_t err;
  char list[128];
  snprintf(list, sizeof list, "127.0.0.1:%d,127.0.0.1:%d", s_port + 10, s_port);
  assert_int_equal(rv_client_new(list, &o, &c, &err), RV_OK);
  uint64_t id0, seq0;
  rv_client_session_get(c, 0, &id0, &seq0);
  rv_client_result_t res;
  int64_t t0 = zclock_mono();
  assert_int_equal(rv_client_touchz(c, "/t", &res), RV_ETIMEDOUT);
  int64_t took = zclock_mono() - t0;
  assert_true(took >= 400); /* not before the deadline (how much later depends on the machine) */
  assert_non_null(strstr(res.msg, "touchz: no node decided it within 400 ms"));
  uint64_t id1, seq1;
  rv_client_session_get(c, 0, &id1, &seq1);
  assert_true(id1 != id0);
  assert_int_equal(seq1, 1);
  rv_client_result_clear(&res);
  /* every attempt went to the live node (the dead one is skipped without waiting) */
  s_req_t q;
  int seen = 0;
  while (s_take(0, 50, &q)) {
    /* every resend after a timeout is the same write: same client id, same seq (a new seq
     * would let the cluster apply it twice) */
    assert_int_equal(s_fs(&q)->client_id, id0);
    assert_int_equal(s_fs(&q)->seq, seq0);
    seen++;
    s_req_clear(&q);
  }
  assert_true(seen >= 3);
  rv_client_destroy(&c);
}

/* A write whose session the cluster no longer knows (ESTALE at its very first send: it was not
 * applied) goes again at once under a new session, seq 1; later writes use that session. */
static void test_unknown_session_restarts(void **state) {
  rv_client_t *c;
  rv_err_t err;
  char one[64];
  snprintf(one, sizeof one, "127.0.0.1:%d", s_port);
  assert_int_equal(rv_client_new(one, NULL, &c, &err), RV_OK);
  assert_int_equal(rv_client_session_set(c, 0, 77, 5), RV_OK);
  assert_int_equal(rv_client_session_set(c, 1, 77, 5), RV_EINVAL);
  rv_client_req_t req = {.op = RV_CLIENT_TOUCHZ, .path = "/t"};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  assert_int_equal(rv_client_session_set(c, 0, 77, 5), RV_EBUSY);
  s_req_t q1, q2;
  rv_client_result_t res;
  assert_true(s_take(0, 2000, &q1));
  assert_int_equal(s_fs(&q1)->client_id, 77);
  assert_int_equal(s_fs(&q1)->seq, 5);
  Rv__FsReply stale = RV__FS_REPLY__INIT;
  stale.code = RV_ESTALE;
  stale.index = 9;
  stale.message = "touchz: client 77: no session";
  s_answer(0, &q1, &stale);
  while (!s_take(0, 0, &q2)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  assert_true(s_fs(&q2)->client_id != 77);
  assert_int_equal(s_fs(&q2)->seq, 1);
  s_path_is(&q2, "/t");
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  ok.index = 10;
  s_answer(0, &q2, &ok);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.attempts, 2);
  uint64_t id, seq;
  rv_client_session_get(c, 0, &id, &seq);
  assert_int_equal(id, s_fs(&q2)->client_id);
  assert_int_equal(seq, 2);
  rv_client_result_clear(&res);
  s_req_clear(&q1);
  s_req_clear(&q2);
  rv_client_destroy(&c);
}

/* A write already sent once (its first attempt timed out, and may yet be applied) that then
 * meets "no session" must not go again under a new session: that could apply it twice. The
 * error goes to the caller; nothing more is sent. */
static void test_no_new_session_after_a_resend(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.timeout_ms = 100;
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, &o, &c, &err), RV_OK);
  assert_int_equal(rv_client_session_set(c, 0, 77, 5), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_TOUCHZ, .path = "/t"};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  s_req_t q1, q2, q3;
  rv_client_result_t res;
  assert_true(s_take(0, 2000, &q1)); /* n1 stays silent: the attempt times out */
  while (!s_take(1, 0, &q2)) assert_int_equal(rv_client_poll(c, 10, &res), RV_EAGAIN);
  assert_int_equal(s_fs(&q2)->client_id, 77);
  assert_int_equal(s_fs(&q2)->seq, 5);
  Rv__FsReply stale = RV__FS_REPLY__INIT;
  stale.code = RV_ESTALE;
  stale.message = "touchz: client 77: no session";
  s_answer(1, &q2, &stale);
  s_result(c, &res);
  assert_int_equal(res.code, RV_ESTALE);
  assert_int_equal(res.attempts, 2);
  rv_client_result_clear(&res);
  for (int i = 0; i < S_N; i++) assert_false(s_take(i, 100, &q3)); /* nothing sent again */
  s_req_clear(&q1);
  s_req_clear(&q2);
  rv_client_destroy(&c);
}

/* Four lanes: four operations in flight, a fifth refused; answers in any order, each with its
 * tag; a put's data and an ls page come through. */
static void test_lanes_in_flight(void **state) {
  rv_client_opts_t o;
  rv_client_opts_default(&o);
  o.lanes = 4;
  rv_client_t *c;
  rv_err_t err;
  char one[64];
  snprintf(one, sizeof one, "127.0.0.1:%d", s_port + 1);
  assert_int_equal(rv_client_new(one, &o, &c, &err), RV_OK);
  for (uint64_t t = 0; t < 4; t++) {
    bool ls = t == 3;
    rv_client_req_t req = {.op = ls ? RV_CLIENT_LS : RV_CLIENT_PUT, .path = "/f", .data = "hello",
                           .len = ls ? 0 : 5, .flags = ls ? RV_CLIENT_STALE : 0};
    assert_int_equal(rv_client_submit(c, &req, 100 + t, &err), RV_OK);
  }
  rv_client_req_t more = {.op = RV_CLIENT_STAT, .path = "/"};
  assert_int_equal(rv_client_submit(c, &more, 9, &err), RV_EBUSY);
  assert_int_equal(rv_client_inflight(c), 4);
  s_req_t q[4];
  uint64_t ids[4];
  for (int i = 0; i < 4; i++) {
    assert_true(s_take(1, 2000, &q[i]));
    ids[i] = s_fs(&q[i])->client_id;
  }
  for (int i = 0; i < 3; i++) {
    assert_int_equal(s_fs(&q[i])->data.len, 5);
    for (int k = 0; k < i; k++) assert_true(ids[i] != ids[k]); /* one session per lane */
  }
  assert_true(s_fs(&q[3])->stale);
  for (int i = 3; i >= 0; i--) {
    Rv__FsReply r = RV__FS_REPLY__INIT;
    Rv__FsStat e1 = RV__FS_STAT__INIT, e2 = RV__FS_STAT__INIT, *es[] = {&e1, &e2};
    if (i == 3) {
      e1.name = "a";
      e1.type = 1;
      e2.name = "b";
      e2.type = 2;
      e2.size = 5;
      r.n_entries = 2;
      r.entries = es;
      r.more = true;
    } else {
      r.index = 20 + (uint64_t)i;
    }
    s_answer(1, &q[i], &r);
    s_req_clear(&q[i]);
  }
  bool seen[4] = {false};
  for (int i = 0; i < 4; i++) {
    rv_client_result_t res;
    s_result(c, &res);
    assert_true(res.tag >= 100 && res.tag < 104);
    seen[res.tag - 100] = true;
    if (res.tag == 103) {
      assert_int_equal(res.nentries, 2);
      assert_string_equal(res.entries[0].name, "a");
      assert_true(res.entries[0].dir);
      assert_int_equal(res.entries[1].size, 5);
      assert_true(res.more);
    }
    rv_client_result_clear(&res);
  }
  for (int i = 0; i < 4; i++) assert_true(seen[i]);
  rv_client_result_t res;
  assert_int_equal(rv_client_poll(c, 0, &res), RV_ECLOSED);
  /* bad requests never leave */
  rv_client_req_t bad = {.op = RV_CLIENT_RM, .path = "/x", .flags = RV_CLIENT_OVERWRITE};
  assert_int_equal(rv_client_submit(c, &bad, 1, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "rm /x does not take flags 0x2"));
  bad = (rv_client_req_t){.op = RV_CLIENT_PUT, .path = "/x", .data = "",
                          .len = RV_CLIENT_DATA_MAX + 1};
  assert_int_equal(rv_client_submit(c, &bad, 1, &err), RV_ETOOBIG);
  bad = (rv_client_req_t){.op = RV_CLIENT_MV, .path = "/x"};
  assert_int_equal(rv_client_submit(c, &bad, 1, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "mv: no destination given"));
  assert_int_equal(rv_client_inflight(c), 0);
  rv_client_destroy(&c);
}

/* setattr sends exactly the fields its mask names (times_now instead of times); digest goes
 * without a path and comes back with the digest; rm carries file_only / dir_only; requests the
 * client can tell are wrong never leave. */
static void test_setattr_digest_and_rm_flags(void **state) {
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, NULL, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_SETATTR, .path = "/a//f"};
  req.attrs = (rv_client_attrs_t){.set = RV_CLIENT_SET_PERM | RV_CLIENT_SET_GROUP,
                                  .perm = 0,
                                  .owner = "ignored",
                                  .group = "staff",
                                  .mtime_ms = 99};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  s_req_t q;
  assert_true(s_take(0, 2000, &q));
  s_path_is(&q, "/a/f");
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_SETATTR);
  assert_int_equal(s_fs(&q)->set_mask, RV_CLIENT_SET_PERM | RV_CLIENT_SET_GROUP);
  assert_int_equal(s_fs(&q)->perm, 0); /* chmod 000 is a value, not "the default" */
  assert_string_equal(s_fs(&q)->owner, "");
  assert_string_equal(s_fs(&q)->group, "staff");
  assert_true(s_fs(&q)->mtime_ms == 0 && !s_fs(&q)->times_now);
  assert_true(s_fs(&q)->client_id != 0 && s_fs(&q)->seq == 1); /* a write: it has a session */
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  ok.index = 3;
  ok.inode = 9;
  s_answer(0, &q, &ok);
  rv_client_result_t res;
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_int_equal(res.op, RV_CLIENT_SETATTR);
  assert_int_equal(res.inode, 9);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  req.attrs = (rv_client_attrs_t){.set = RV_CLIENT_SET_MTIME, .mtime_ms = 5, .times_now = true};
  assert_int_equal(rv_client_submit(c, &req, 2, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_true(s_fs(&q)->times_now && s_fs(&q)->mtime_ms == 0 && s_fs(&q)->atime_ms == 0);
  assert_int_equal(s_fs(&q)->seq, 2);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);
  req.attrs = (rv_client_attrs_t){.set = RV_CLIENT_SET_ATIME, .atime_ms = -7};
  assert_int_equal(rv_client_submit(c, &req, 3, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_true(!s_fs(&q)->times_now && s_fs(&q)->atime_ms == -7 && s_fs(&q)->mtime_ms == 0);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  /* digest: no path, stale when asked; the digest and the index come back */
  rv_client_req_t dg = {.op = RV_CLIENT_DIGEST, .flags = RV_CLIENT_STALE};
  assert_int_equal(rv_client_submit(c, &dg, 4, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_DIGEST);
  assert_int_equal(s_fs(&q)->path.len, 0);
  assert_true(s_fs(&q)->stale);
  assert_int_equal(s_fs(&q)->client_id, 0); /* a read */
  Rv__FsReply dr = RV__FS_REPLY__INIT;
  dr.digest = 0xfedcba9876543210ull;
  dr.index = 41;
  s_answer(0, &q, &dr);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  assert_true(res.digest == 0xfedcba9876543210ull);
  assert_int_equal(res.index, 41);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  /* rm's flags */
  rv_client_req_t rm = {.op = RV_CLIENT_RM, .path = "/d", .flags = RV_CLIENT_FILE_ONLY};
  assert_int_equal(rv_client_submit(c, &rm, 5, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_true(s_fs(&q)->file_only && !s_fs(&q)->dir_only && !s_fs(&q)->recursive);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);
  rm.flags = RV_CLIENT_DIR_ONLY;
  assert_int_equal(rv_client_submit(c, &rm, 6, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_true(!s_fs(&q)->file_only && s_fs(&q)->dir_only);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  /* refused before sending, each naming the path and the problem */
  static const struct {
    rv_client_attrs_t a;
    const char *msg;
  } bad[] = {
      {{.set = 0}, "setattr /a//f: nothing to set"},
      {{.set = 0x40}, "unknown attrs.set bits 0x40"},
      {{.set = RV_CLIENT_SET_PERM, .perm = 010000}, "permission 10000 is out of range"},
      {{.set = RV_CLIENT_SET_OWNER, .owner = ""}, "setattr /a//f: the owner is empty"},
      {{.set = RV_CLIENT_SET_OWNER, .owner = NULL}, "the owner is empty"},
      {{.set = RV_CLIENT_SET_GROUP, .group = "a\tb"}, "the group holds a control character"},
      {{.set = RV_CLIENT_SET_GROUP,
        .group = "g123456789012345678901234567890123456789012345678901234567890wxyz"},
       "is longer than 64 bytes"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    req.attrs = bad[i].a;
    assert_int_equal(rv_client_submit(c, &req, 7, &err), RV_EINVAL);
    if (!strstr(err.msg, bad[i].msg))
      fail_msg("case %zu: \"%s\" lacks \"%s\"", i, err.msg, bad[i].msg);
  }
  rm.flags = RV_CLIENT_RECURSIVE | RV_CLIENT_DIR_ONLY;
  assert_int_equal(rv_client_submit(c, &rm, 8, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "rm /d: flags 0x24: give one of"));
  rv_client_req_t mk = {.op = RV_CLIENT_MKDIR, .path = "/m", .flags = RV_CLIENT_FILE_ONLY};
  assert_int_equal(rv_client_submit(c, &mk, 9, &err), RV_EINVAL);
  dg.path = "/x";
  assert_int_equal(rv_client_submit(c, &dg, 10, &err), RV_EINVAL);
  assert_non_null(strstr(err.msg, "digest: takes no path"));
  assert_int_equal(rv_client_inflight(c), 0);
  /* the sync wrapper reports a client-side refusal in the result */
  rv_client_attrs_t none = {.set = 0};
  assert_int_equal(rv_client_setattr(c, "/q", &none, &res), RV_EINVAL);
  assert_non_null(strstr(res.msg, "setattr /q: nothing to set"));
  rv_client_result_clear(&res);
  rv_client_destroy(&c);
}

/* append, truncate and concat carry their arguments (data, length, sources normalised) and a
 * session; setxattr its name and value; getxattrs is a read and comes back with the list. */
static void test_content_and_xattr_ops(void **state) {
  rv_client_t *c;
  rv_err_t err;
  assert_int_equal(rv_client_new(s_list, NULL, &c, &err), RV_OK);
  rv_client_req_t req = {.op = RV_CLIENT_APPEND, .path = "/f", .data = "abc", .len = 3};
  assert_int_equal(rv_client_submit(c, &req, 1, &err), RV_OK);
  s_req_t q;
  Rv__FsReply ok = RV__FS_REPLY__INIT;
  rv_client_result_t res;
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_APPEND);
  assert_int_equal(s_fs(&q)->data.len, 3);
  assert_true(s_fs(&q)->client_id != 0 && s_fs(&q)->seq == 1);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  assert_int_equal(res.code, RV_OK);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  req = (rv_client_req_t){.op = RV_CLIENT_TRUNCATE, .path = "/f", .length = 7};
  assert_int_equal(rv_client_submit(c, &req, 2, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_TRUNCATE);
  assert_true(s_fs(&q)->length == 7 && s_fs(&q)->data.len == 0);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  const char *srcs[] = {"/a//b", "/c"};
  req = (rv_client_req_t){.op = RV_CLIENT_CONCAT, .path = "/t", .sources = srcs, .nsources = 2};
  assert_int_equal(rv_client_submit(c, &req, 3, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_CONCAT);
  assert_int_equal(s_fs(&q)->n_sources, 2);
  assert_memory_equal(s_fs(&q)->sources[0].data, "/a/b", 4);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);
  req = (rv_client_req_t){.op = RV_CLIENT_CONCAT, .path = "/t"};
  assert_int_equal(rv_client_submit(c, &req, 4, &err), RV_EINVAL); /* no sources */

  req = (rv_client_req_t){.op = RV_CLIENT_SETXATTR, .path = "/t", .xattr_name = "user.k",
                          .xattr_value = "v", .xattr_len = 1};
  assert_int_equal(rv_client_submit(c, &req, 5, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_SETXATTR);
  assert_memory_equal(s_fs(&q)->xattr_name.data, "user.k", 6);
  assert_int_equal(s_fs(&q)->xattr_value.len, 1);
  s_answer(0, &q, &ok);
  s_result(c, &res);
  rv_client_result_clear(&res);
  s_req_clear(&q);

  req = (rv_client_req_t){.op = RV_CLIENT_GETXATTRS, .path = "/t"};
  assert_int_equal(rv_client_submit(c, &req, 6, &err), RV_OK);
  assert_true(s_take(0, 2000, &q));
  assert_int_equal(s_fs(&q)->op, RV__FS_OP__FS_GETXATTRS);
  assert_true(s_fs(&q)->client_id == 0); /* a read */
  Rv__XAttr x = RV__XATTR__INIT, *xp = &x;
  x.name = (ProtobufCBinaryData){6, (uint8_t *)"user.k"};
  x.value = (ProtobufCBinaryData){1, (uint8_t *)"v"};
  Rv__FsReply got = RV__FS_REPLY__INIT;
  got.n_xattrs = 1;
  got.xattrs = &xp;
  s_answer(0, &q, &got);
  s_result(c, &res);
  assert_int_equal(res.nxattrs, 1);
  assert_string_equal(res.xattrs[0].name, "user.k");
  assert_int_equal(res.xattrs[0].len, 1);
  assert_string_equal((char *)res.xattrs[0].value, "v");
  rv_client_result_clear(&res);
  s_req_clear(&q);
  rv_client_destroy(&c);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_node_lists, s_drain),
      cmocka_unit_test_setup(test_redirect_to_the_leader, s_drain),
      cmocka_unit_test_setup(test_redirect_outside_the_list, s_drain),
      cmocka_unit_test_setup(test_failover_on_silence, s_drain),
      cmocka_unit_test_setup(test_busy_retries_on_the_same_node, s_drain),
      cmocka_unit_test_setup(test_deadline_and_unreachable_nodes, s_drain),
      cmocka_unit_test_setup(test_unknown_session_restarts, s_drain),
      cmocka_unit_test_setup(test_no_new_session_after_a_resend, s_drain),
      cmocka_unit_test_setup(test_lanes_in_flight, s_drain),
      cmocka_unit_test_setup(test_setattr_digest_and_rm_flags, s_drain),
      cmocka_unit_test_setup(test_content_and_xattr_ops, s_drain),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
