/* rv_listener on loopback: a request and its answer, and every kind of bad input from a client
 * (garbage, an empty frame, an unknown type, multi-part, an oversized frame) dropped and counted
 * without hurting the clients that behave; a reply to a client that left is counted; batched
 * replies (peer.batch) go out at the turn's end as one multi-part message, past a limited
 * port's small ZeroMQ queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "rv_test_port.h"
#include "envelope.pb-c.h"
#include "rv_listener.h"
#include "rv_log.h"

static char s_dir[64];
static int s_port;
static cfg_node_t *s_cfg;
static rv_mailbox_t *s_mb;
static rv_listener_t *s_l;

static int s_setup(void **state) {
  snprintf(s_dir, sizeof s_dir, "/tmp/rvlisten.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  s_port = rv_test_ports(2);
  zsys_handler_set(NULL);
  char yaml[512];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n1}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n",
                   s_dir, s_port, s_port + 1);
  rv_err_t err;
  assert_int_equal(cfg_node_parse("test.yaml", yaml, (size_t)n, &s_cfg, -1, &err), RV_OK);
  char cmd[CFG_PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg->run_dir);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(rv_mailbox_new(s_cfg, "kv-store", &s_mb, &err), RV_OK);
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", s_port + 1);
  assert_int_equal(rv_listener_new(s_mb, ep, "client-port", &s_l, &err), RV_OK);
  /* a second listener on the same port is refused with a clear message */
  rv_listener_t *dup = NULL;
  assert_int_equal(rv_listener_new(s_mb, ep, "client-port", &dup, &err), RV_EIO);
  assert_null(dup);
  assert_non_null(strstr(err.msg, "cannot listen on tcp://127.0.0.1:"));
  return 0;
}

static int s_teardown(void **state) {
  rv_listener_destroy(&s_l);
  rv_listener_destroy(&s_l); /* safe twice */
  rv_mailbox_destroy(&s_mb);
  cfg_node_destroy(&s_cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

static zsock_t *s_client(void) {
  zsock_t *s = zsock_new(ZMQ_DEALER);
  assert_non_null(s);
  zsock_set_linger(s, 0);
  assert_int_equal(zsock_connect(s, "tcp://127.0.0.1:%d", s_port + 1), 0);
  return s;
}

/* Receives on the listener within 3 s; returns the rv code of the last attempt. */
static int s_recv(rv_listener_peer_t *from, rv_msg_t *m, rv_err_t *err) {
  for (int k = 0; k < 300; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_listener_socket(s_l)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    int rc = rv_listener_recv(s_l, from, m, err);
    if (rc != RV_EAGAIN) return rc;
  }
  return RV_EAGAIN;
}

static void s_send_envelope(zsock_t *s, uint32_t type, uint64_t seq, uint64_t corr) {
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = seq;
  rv_msg_t m = {.type = type, .corr_id = corr, .body = &hb.base};
  rv_addr_set(&m.from, "client", "c0001");
  rv_addr_set(&m.to, "", "kv-store");
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&m, &frame, &len, &err), RV_OK);
  assert_int_equal(zmq_send(zsock_resolve(s), frame, len, 0), (int)len);
  free(frame);
}

static void test_request_and_answer(void **state) {
  zsock_t *c = s_client();
  s_send_envelope(c, RV_MSG_HEARTBEAT, 7, 42);
  rv_listener_peer_t from;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(&from, &m, &err), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEARTBEAT);
  assert_int_equal(m.corr_id, 42);
  assert_string_equal(m.from.actor, "c0001");
  assert_true(from.len > 0);
  Rv__HeartbeatAck ack = RV__HEARTBEAT_ACK__INIT;
  ack.seq = 7;
  assert_int_equal(rv_listener_reply(s_l, &from, &m, RV_MSG_HEARTBEAT_ACK, &ack.base, &err), RV_OK);
  rv_msg_clear(&m);
  zmq_pollitem_t it = {.socket = zsock_resolve(c), .events = ZMQ_POLLIN};
  assert_int_equal(zmq_poll(&it, 1, 3000), 1);
  zmq_msg_t f;
  zmq_msg_init(&f);
  assert_true(zmq_msg_recv(&f, zsock_resolve(c), 0) > 0);
  rv_msg_t r;
  assert_int_equal(rv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), 0, &r, &err), RV_OK);
  zmq_msg_close(&f);
  assert_int_equal(r.type, RV_MSG_HEARTBEAT_ACK);
  assert_int_equal(r.corr_id, 42);
  assert_string_equal(r.from.node, "n1");
  assert_string_equal(r.from.actor, "kv-store");
  assert_string_equal(r.to.node, "client");
  assert_string_equal(r.to.actor, "c0001");
  rv_msg_clear(&r);
  assert_int_equal(rv_listener_stats(s_l).received, 1);
  assert_int_equal(rv_listener_stats(s_l).replies, 1);
  zsock_destroy(&c);
}

static void test_bad_input_dropped_and_counted(void **state) {
  rv_listener_stats_t before = rv_listener_stats(s_l);
  uint64_t bad_before = rv_mailbox_stats(s_mb).bad_frames;
  zsock_t *c = s_client();
  rv_listener_peer_t from;
  rv_msg_t m;
  rv_err_t err;
  zstr_send(c, "garbage that is no envelope");
  assert_int_equal(s_recv(&from, &m, &err), RV_EDECODE);
  assert_int_equal(zmq_send(zsock_resolve(c), "", 0, 0), 0);
  assert_int_equal(s_recv(&from, &m, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "empty frame"));
  { /* a well-formed envelope of a type nobody registered */
    Rv__Envelope env = RV__ENVELOPE__INIT;
    env.version = RV_ENVELOPE_VERSION;
    env.type = 9999;
    uint8_t buf[64];
    size_t len = rv__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(zsock_resolve(c), buf, len, 0), (int)len);
  }
  assert_int_equal(s_recv(&from, &m, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "unknown message type 9999"));
  zstr_sendm(c, "one");
  zstr_send(c, "two");
  assert_int_equal(s_recv(&from, &m, &err), RV_EPROTO);
  assert_non_null(strstr(err.msg, "multi-part"));
  assert_int_equal(rv_listener_stats(s_l).rejected, before.rejected + 4);
  /* an oversized frame: ZeroMQ drops the connection before it is buffered; nothing arrives */
  zsock_t *big = s_client();
  size_t n = RV_ENVELOPE_MAX + 1024;
  char *buf = calloc(1, n);
  assert_non_null(buf);
  zmq_send(zsock_resolve(big), buf, n, 0);
  free(buf);
  for (int k = 0; k < 30; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_listener_socket(s_l)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    assert_int_equal(rv_listener_recv(s_l, &from, &m, &err), RV_EAGAIN);
  }
  zsock_destroy(&big);
  /* the well-behaved client still gets through */
  s_send_envelope(c, RV_MSG_HEARTBEAT, 8, 43);
  assert_int_equal(s_recv(&from, &m, &err), RV_OK);
  assert_int_equal(m.corr_id, 43);
  rv_msg_clear(&m);
  assert_int_equal(rv_mailbox_stats(s_mb).bad_frames, bad_before + 3); /* the codec's refusals */
  zsock_destroy(&c);
}

static void test_reply_to_a_client_that_left(void **state) {
  zsock_t *c = s_client();
  s_send_envelope(c, RV_MSG_HEARTBEAT, 9, 44);
  rv_listener_peer_t from;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(&from, &m, &err), RV_OK);
  zsock_destroy(&c);
  Rv__HeartbeatAck ack = RV__HEARTBEAT_ACK__INIT;
  uint64_t dropped = rv_listener_stats(s_l).dropped;
  int rc = RV_OK;
  /* the disconnection reaches the ROUTER asynchronously */
  for (int k = 0; k < 300 && rc == RV_OK; k++) {
    rc = rv_listener_reply(s_l, &from, &m, RV_MSG_HEARTBEAT_ACK, &ack.base, &err);
    if (rc == RV_OK) usleep(10000);
  }
  assert_int_equal(rc, RV_EAGAIN);
  assert_int_equal(rv_listener_stats(s_l).dropped, dropped + 1);
  rv_msg_clear(&m);
}

/* 64 requests pipelined on one connection of a limited port (whose ZeroMQ queue holds
 * RV_LISTENER_LIMITED_HWM = 8 replies): answered in one turn with peer.batch, nothing leaves
 * before rv_listener_turn_end, then all 64 arrive in one multi-part message, in order, none
 * queued or dropped. */
static void test_batched_replies(void **state) {
  rv_listener_limits_t lim = {.max_queued_bytes = 1u << 20};
  rv_listener_t *l = NULL;
  rv_err_t err;
  char ep[64];
  snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", s_port);
  assert_int_equal(rv_listener_new_limited(s_mb, ep, "limited-port", &lim, &l, &err), RV_OK);
  zsock_t *c = zsock_new(ZMQ_DEALER);
  assert_non_null(c);
  zsock_set_linger(c, 0);
  assert_int_equal(zsock_connect(c, "%s", ep), 0);
  enum { N = 64 };
  for (int i = 1; i <= N; i++) s_send_envelope(c, RV_MSG_HEARTBEAT, (uint64_t)i, (uint64_t)i);
  for (int got = 0; got < N;) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_listener_socket(l)), .events = ZMQ_POLLIN};
    assert_int_equal(zmq_poll(&it, 1, 3000), 1);
    rv_listener_peer_t from;
    rv_msg_t m;
    int rc;
    while ((rc = rv_listener_recv(l, &from, &m, &err)) == RV_OK) {
      assert_false(from.batch); /* the owner decides, from the request */
      from.batch = true;
      Rv__HeartbeatAck ack = RV__HEARTBEAT_ACK__INIT;
      ack.seq = m.corr_id;
      assert_int_equal(rv_listener_reply(l, &from, &m, RV_MSG_HEARTBEAT_ACK, &ack.base, &err),
                       RV_OK);
      rv_msg_clear(&m);
      got++;
    }
    assert_int_equal(rc, RV_EAGAIN);
  }
  zmq_pollitem_t it = {.socket = zsock_resolve(c), .events = ZMQ_POLLIN};
  assert_int_equal(zmq_poll(&it, 1, 100), 0); /* held until the turn ends */
  assert_int_equal(rv_listener_stats(l).replies, 0);
  rv_listener_turn_end(l);
  assert_int_equal(rv_listener_stats(l).replies, N);
  assert_int_equal(rv_listener_stats(l).dropped, 0);
  assert_int_equal(rv_listener_stats(l).queued_bytes, 0);
  assert_int_equal(zmq_poll(&it, 1, 3000), 1);
  for (int i = 1; i <= N; i++) {
    zmq_msg_t f;
    zmq_msg_init(&f);
    assert_true(zmq_msg_recv(&f, zsock_resolve(c), ZMQ_DONTWAIT) > 0);
    assert_int_equal(zmq_msg_more(&f), i < N); /* one message of N parts */
    rv_msg_t r;
    assert_int_equal(rv_msg_decode(zmq_msg_data(&f), zmq_msg_size(&f), 0, &r, &err), RV_OK);
    zmq_msg_close(&f);
    assert_int_equal(r.type, RV_MSG_HEARTBEAT_ACK);
    assert_int_equal(r.corr_id, (uint64_t)i);
    rv_msg_clear(&r);
  }
  rv_listener_turn_end(l); /* nothing left: a no-op */
  assert_int_equal(rv_listener_stats(l).replies, N);
  zsock_destroy(&c);
  rv_listener_destroy(&l);
}

int main(void) {
  rv_log_init("test", "test", CFG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_and_answer),
      cmocka_unit_test(test_bad_input_dropped_and_counted),
      cmocka_unit_test(test_reply_to_a_client_that_left),
      cmocka_unit_test(test_batched_replies),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
