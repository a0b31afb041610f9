/* rv_mailbox over real ipc sockets in a temporary run dir, two (or more) mailboxes in one
 * process: an envelope from one to another arrives with its addresses and ids and is counted on
 * both sides; a send to an absent process is refused at once and counted, and is not queued to
 * arrive once the process appears; a socket file left by a crashed predecessor does not stop a
 * new inbox from binding; garbage, empty, unknown-type and multi-part frames are refused,
 * counted, and do not hurt the frames that follow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "envelope.pb-c.h"
#include "rv_log.h"
#include "rv_mailbox.h"
#include "rv_test_port.h"

static char s_dir[64];
static cfg_node_t *s_cfg;

static int s_setup(void **state) {
  (void)state;
  snprintf(s_dir, sizeof s_dir, "/tmp/rvmbox.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  int port = rv_test_ports(2);
  zsys_handler_set(NULL);
  char yaml[512];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n1, data-dir: %s/n1}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: %d, client-port: %d}\n",
                   s_dir, port, port + 1);
  rv_err_t err;
  assert_int_equal(cfg_node_parse("test.yaml", yaml, (size_t)n, &s_cfg, -1, &err), RV_OK);
  char cmd[CFG_PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg->run_dir);
  assert_int_equal(system(cmd), 0);
  return 0;
}

static int s_teardown(void **state) {
  (void)state;
  cfg_node_destroy(&s_cfg);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

static rv_mailbox_t *s_open(const char *name) {
  rv_mailbox_t *mb = NULL;
  rv_err_t err;
  assert_int_equal(rv_mailbox_new(s_cfg, name, &mb, &err), RV_OK);
  assert_non_null(mb);
  return mb;
}

/* Receives on mb within 3 s; returns the rv code of the last attempt. */
static int s_recv(rv_mailbox_t *mb, rv_msg_t *m, rv_err_t *err) {
  for (int k = 0; k < 300; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(mb)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    int rc = rv_mailbox_recv(mb, m, err);
    if (rc != RV_EAGAIN) return rc;
  }
  return RV_EAGAIN;
}

/* Nothing arrives on mb for 300 ms. */
static void s_nothing_more(rv_mailbox_t *mb) {
  rv_msg_t m;
  rv_err_t err;
  for (int k = 0; k < 30; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_mailbox_inbox(mb)), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    assert_int_equal(rv_mailbox_recv(mb, &m, &err), RV_EAGAIN);
  }
}

static int s_send_hb(rv_mailbox_t *from, const char *to, uint64_t seq, uint64_t corr) {
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = seq;
  rv_err_t err;
  return rv_mailbox_send(from, to, RV_MSG_HEARTBEAT, &hb.base, corr, 0, &err);
}

static void test_send_and_recv(void **state) {
  (void)state;
  rv_mailbox_t *a = s_open("alpha");
  rv_mailbox_t *b = s_open("beta");
  assert_string_equal(rv_mailbox_name(a), "alpha");
  assert_string_equal(rv_mailbox_node(a), "n1");
  assert_int_equal(s_send_hb(a, "beta", 7, 42), RV_OK);
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(b, &m, &err), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEARTBEAT);
  assert_int_equal(m.corr_id, 42);
  assert_string_equal(m.from.node, "n1");
  assert_string_equal(m.from.actor, "alpha");
  assert_string_equal(m.to.node, "n1");
  assert_string_equal(m.to.actor, "beta");
  assert_int_equal(((Rv__Heartbeat *)m.body)->seq, 7);
  rv_msg_clear(&m);
  assert_int_equal(rv_mailbox_recv(b, &m, &err), RV_EAGAIN); /* one sent, one received */
  assert_int_equal(rv_mailbox_stats(a).msgs_out, 1);
  assert_int_equal(rv_mailbox_stats(b).msgs_in, 1);
  assert_int_equal(rv_mailbox_stats(a).dropped_sends, 0);
  assert_int_equal(rv_mailbox_stats(b).bad_frames, 0);
  /* and back, in order */
  for (uint64_t k = 1; k <= 100; k++) assert_int_equal(s_send_hb(b, "alpha", k, 1000 + k), RV_OK);
  for (uint64_t k = 1; k <= 100; k++) {
    assert_int_equal(s_recv(a, &m, &err), RV_OK);
    assert_int_equal(m.corr_id, 1000 + k);
    rv_msg_clear(&m);
  }
  assert_int_equal(rv_mailbox_stats(a).msgs_in, 100);
  rv_mailbox_destroy(&a);
  assert_null(a);
  rv_mailbox_destroy(&a); /* safe twice */
  rv_mailbox_destroy(&b);
}

/* An envelope encoded elsewhere (another thread's rv_msg_encode) and sent as a frame arrives
 * as if sent by rv_mailbox_send; counted the same; refused the same when nobody is there. */
static void test_send_frame(void **state) {
  (void)state;
  rv_mailbox_t *a = s_open("alpha");
  rv_mailbox_t *b = s_open("beta");
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = 9;
  rv_msg_t out = {.type = RV_MSG_HEARTBEAT, .corr_id = 77, .trace_id = 5, .body = &hb.base};
  rv_addr_set(&out.from, "n1", "alpha");
  rv_addr_set(&out.to, "n1", "beta");
  uint8_t *frame;
  size_t len;
  rv_err_t err;
  assert_int_equal(rv_msg_encode(&out, &frame, &len, &err), RV_OK);
  assert_int_equal(rv_mailbox_send_frame(a, "beta", frame, len, &err), RV_OK);
  rv_msg_t m;
  assert_int_equal(s_recv(b, &m, &err), RV_OK);
  assert_int_equal(m.type, RV_MSG_HEARTBEAT);
  assert_int_equal(m.corr_id, 77);
  assert_int_equal(m.trace_id, 5);
  assert_string_equal(m.from.actor, "alpha");
  assert_int_equal(((Rv__Heartbeat *)m.body)->seq, 9);
  rv_msg_clear(&m);
  assert_int_equal(rv_mailbox_stats(a).msgs_out, 1);
  assert_int_equal(rv_mailbox_send_frame(a, "ghost", frame, len, &err), RV_EAGAIN);
  assert_int_equal(rv_mailbox_stats(a).dropped_sends, 1);
  free(frame);
  rv_mailbox_destroy(&a);
  rv_mailbox_destroy(&b);
}

static void test_absent_receiver_refused_and_counted(void **state) {
  (void)state;
  rv_mailbox_t *a = s_open("sender");
  rv_err_t err;
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  assert_int_equal(rv_mailbox_send(a, "ghost", RV_MSG_HEARTBEAT, &hb.base, 1, 0, &err), RV_EAGAIN);
  assert_non_null(strstr(err.msg, "ghost is not reachable"));
  assert_int_equal(s_send_hb(a, "ghost", 2, 2), RV_EAGAIN); /* refused again */
  assert_int_equal(rv_mailbox_stats(a).dropped_sends, 2);
  assert_int_equal(rv_mailbox_stats(a).msgs_out, 0);
  /* the process appears: the refused messages were not queued for it */
  rv_mailbox_t *g = s_open("ghost");
  int rc = RV_EAGAIN;
  uint64_t corr = 100;
  for (int k = 0; k < 300 && rc == RV_EAGAIN; k++) { /* ZeroMQ reconnects every 10..100 ms */
    rc = s_send_hb(a, "ghost", 3, ++corr);
    if (rc == RV_EAGAIN) usleep(10000);
  }
  assert_int_equal(rc, RV_OK);
  rv_msg_t m;
  assert_int_equal(s_recv(g, &m, &err), RV_OK);
  assert_int_equal(m.corr_id, corr); /* the first to arrive is the first accepted */
  rv_msg_clear(&m);
  s_nothing_more(g);
  assert_int_equal(rv_mailbox_stats(a).msgs_out, 1);
  assert_int_equal(rv_mailbox_stats(a).dropped_sends, 2 + (corr - 101));
  /* the receiver goes away again: refused, not queued */
  rv_mailbox_destroy(&g);
  rc = RV_OK;
  for (int k = 0; k < 300 && rc == RV_OK; k++) { /* the disconnection is seen asynchronously */
    rc = s_send_hb(a, "ghost", 4, 900);
    if (rc == RV_OK) usleep(10000);
  }
  assert_int_equal(rc, RV_EAGAIN);
  rv_mailbox_destroy(&a);
}

static void test_stale_socket_file_replaced(void **state) {
  (void)state;
  /* a crashed predecessor's inbox file (here a plain file in its place) */
  char ep[256];
  rv_err_t err;
  assert_int_equal(rv_mailbox_endpoint(s_cfg, "phoenix", ep, sizeof ep, &err), RV_OK);
  assert_memory_equal(ep, "ipc://", 6);
  FILE *f = fopen(ep + 6, "w");
  assert_non_null(f);
  fclose(f);
  rv_mailbox_t *p = s_open("phoenix");
  rv_mailbox_t *a = s_open("caller");
  int rc = RV_EAGAIN;
  for (int k = 0; k < 300 && rc == RV_EAGAIN; k++) {
    rc = s_send_hb(a, "phoenix", 1, 5);
    if (rc == RV_EAGAIN) usleep(10000);
  }
  assert_int_equal(rc, RV_OK);
  rv_msg_t m;
  assert_int_equal(s_recv(p, &m, &err), RV_OK);
  assert_int_equal(m.corr_id, 5);
  rv_msg_clear(&m);
  rv_mailbox_destroy(&p);
  rv_mailbox_destroy(&a);
}

static void test_bad_frames_counted(void **state) {
  (void)state;
  rv_mailbox_t *b = s_open("victim");
  char ep[256];
  rv_err_t err;
  assert_int_equal(rv_mailbox_endpoint(s_cfg, "victim", ep, sizeof ep, &err), RV_OK);
  zsock_t *raw = zsock_new(ZMQ_PUSH);
  assert_non_null(raw);
  zsock_set_linger(raw, 0);
  assert_int_equal(zsock_connect(raw, "%s", ep), 0);
  rv_msg_t m;
  zstr_send(raw, "garbage that is no envelope");
  assert_int_equal(s_recv(b, &m, &err), RV_EDECODE);
  assert_int_equal(zmq_send(zsock_resolve(raw), "", 0, 0), 0);
  assert_int_equal(s_recv(b, &m, &err), RV_EDECODE);
  { /* a well-formed envelope of a type nobody registered */
    Rv__Envelope env = RV__ENVELOPE__INIT;
    env.version = RV_ENVELOPE_VERSION;
    env.type = 9999;
    uint8_t buf[64];
    size_t len = rv__envelope__pack(&env, buf);
    assert_int_equal(zmq_send(zsock_resolve(raw), buf, len, 0), (int)len);
  }
  assert_int_equal(s_recv(b, &m, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "unknown message type 9999"));
  zstr_sendm(raw, "one");
  zstr_sendm(raw, "two");
  zstr_send(raw, "three");
  assert_int_equal(s_recv(b, &m, &err), RV_EDECODE);
  assert_non_null(strstr(err.msg, "multi-part"));
  assert_int_equal(rv_mailbox_stats(b).bad_frames, 4);
  assert_int_equal(rv_mailbox_stats(b).msgs_in, 0);
  { /* a frame over RV_ENVELOPE_MAX reaches the codec, which refuses and counts it (a ZeroMQ
     * size limit on the inbox once dropped it with the connection, uncounted) */
    size_t big = RV_ENVELOPE_MAX + 4096;
    uint8_t *buf = calloc(1, big);
    assert_non_null(buf);
    assert_int_equal(zmq_send(zsock_resolve(raw), buf, big, 0), (int)big);
    free(buf);
    assert_int_equal(s_recv(b, &m, &err), RV_ETOOBIG);
    assert_int_equal(rv_mailbox_stats(b).bad_frames, 5);
  }
  /* the whole multi-part message was drained: a good frame after it is the next thing read */
  rv_mailbox_t *a = s_open("honest");
  int rc = RV_EAGAIN;
  for (int k = 0; k < 300 && rc == RV_EAGAIN; k++) {
    rc = s_send_hb(a, "victim", 1, 77);
    if (rc == RV_EAGAIN) usleep(10000);
  }
  assert_int_equal(rc, RV_OK);
  assert_int_equal(s_recv(b, &m, &err), RV_OK);
  assert_int_equal(m.corr_id, 77);
  rv_msg_clear(&m);
  s_nothing_more(b);
  /* rv_mailbox_decode (frames from other sockets) applies the same checks and counts: an
   * oversized frame is refused before decoding */
  size_t big = RV_ENVELOPE_MAX + 1;
  uint8_t *buf = calloc(1, big);
  assert_non_null(buf);
  assert_int_equal(rv_mailbox_decode(b, buf, big, "test", &m, &err), RV_ETOOBIG);
  free(buf);
  assert_int_equal(rv_mailbox_decode(b, (const uint8_t *)"\xff\xff", 2, "test", &m, &err),
                   RV_EDECODE);
  assert_int_equal(rv_mailbox_stats(b).bad_frames, 7);
  assert_int_equal(rv_mailbox_stats(b).msgs_in, 1);
  zsock_destroy(&raw);
  rv_mailbox_destroy(&a);
  rv_mailbox_destroy(&b);
}

int main(void) {
  rv_log_init("test", "test", CFG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_send_and_recv),
      cmocka_unit_test(test_send_frame),
      cmocka_unit_test(test_absent_receiver_refused_and_counted),
      cmocka_unit_test(test_stale_socket_file_replaced),
      cmocka_unit_test(test_bad_frames_counted),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
