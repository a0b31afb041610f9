/* rv_peers on loopback, two nodes in one process: delivery both ways, and every kind of bad
 * input dropped and counted (unknown sender, garbage, a lying envelope, multi-part). */
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
#include "rv_log.h"
#include "rv_peers.h"

static char s_dir[64];
static int s_port;
static cfg_node_t *s_cfg[2];
static rv_mailbox_t *s_mb[2];
static rv_peers_t *s_peers[2];

/* Node i's configuration (n1..n3 on loopback) into s_cfg[i]. */
static void s_parse(int i) {
  char yaml[1024];
  int n = snprintf(yaml, sizeof yaml,
                   "node: {id: n%d, data-dir: %s/n%d}\n"
                   "security: {insecure: true}\n"
                   "cluster:\n  id: c1\n  nodes:\n"
                   "    - {id: n1, host: 127.0.0.1, raft-port: %d}\n"
                   "    - {id: n2, host: 127.0.0.1, raft-port: %d}\n"
                   "    - {id: n3, host: 127.0.0.1, raft-port: %d}\n",
                   i + 1, s_dir, i + 1, s_port, s_port + 1, s_port + 2);
  rv_err_t err;
  assert_int_equal(cfg_node_parse("test.yaml", yaml, (size_t)n, &s_cfg[i], -1, &err), RV_OK);
}

/* As s_config, but the listener's port may still be held by the socket just closed (ZeroMQ
 * closes asynchronously): retried for up to 3 s. */
static void s_config_again(int i) {
  s_parse(i);
  rv_err_t err;
  assert_int_equal(rv_mailbox_new(s_cfg[i], "raft-peer", &s_mb[i], &err), RV_OK);
  int rc = RV_EIO;
  for (int k = 0; k < 300 && rc != RV_OK; k++)
    if ((rc = rv_peers_new(s_mb[i], s_cfg[i], "raft-peer", &s_peers[i], &err)) != RV_OK)
      usleep(10000);
  if (rc != RV_OK) fail_msg("%s", err.msg);
}

static void s_config(int i) {
  s_parse(i);
  rv_err_t err;
  char cmd[CFG_PATH_MAX + 16];
  int c = snprintf(cmd, sizeof cmd, "mkdir -p %s", s_cfg[i]->run_dir);
  assert_true(c > 0 && (size_t)c < sizeof cmd);
  assert_int_equal(system(cmd), 0);
  assert_int_equal(rv_mailbox_new(s_cfg[i], "raft-peer", &s_mb[i], &err), RV_OK);
  assert_int_equal(rv_peers_new(s_mb[i], s_cfg[i], "raft-peer", &s_peers[i], &err), RV_OK);
}

static int s_setup(void **state) {
  snprintf(s_dir, sizeof s_dir, "/tmp/rvpeers.XXXXXX");
  assert_non_null(mkdtemp(s_dir));
  s_port = rv_test_ports(3);
  zsys_handler_set(NULL);
  s_config(0);
  s_config(1);
  return 0;
}

static int s_teardown(void **state) {
  for (int i = 0; i < 2; i++) {
    rv_peers_destroy(&s_peers[i]);
    rv_mailbox_destroy(&s_mb[i]);
    cfg_node_destroy(&s_cfg[i]);
  }
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", s_dir);
  return system(cmd);
}

/* Receives on peers[i] within 3 s; returns rv code of the last attempt. */
static int s_recv(int i, int *node, rv_msg_t *m, rv_err_t *err) {
  for (int k = 0; k < 300; k++) {
    zmq_pollitem_t it = {.socket = zsock_resolve(rv_peers_socket(s_peers[i])), .events = ZMQ_POLLIN};
    zmq_poll(&it, 1, 10);
    int rc = rv_peers_recv(s_peers[i], node, m, err);
    if (rc != RV_EAGAIN) return rc;
  }
  return RV_ETIMEDOUT;
}

/* Sends until the (asynchronous) connection is up. */
static void s_send_when_connected(int from, int to_node, uint64_t seq) {
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  hb.seq = seq;
  rv_err_t err;
  for (int k = 0; k < 300; k++) {
    if (rv_peers_send(s_peers[from], to_node, RV_MSG_HEARTBEAT, &hb.base, seq, &err) == RV_OK)
      return;
    usleep(10000);
  }
  fail_msg("never connected: %s", err.msg);
}

static void test_both_ways(void **state) {
  s_send_when_connected(0, 1, 41);
  int node;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(1, &node, &m, &err), RV_OK);
  assert_int_equal(node, 0);
  assert_string_equal(m.from.node, "n1");
  assert_string_equal(m.to.node, "n2");
  assert_int_equal(((Rv__Heartbeat *)m.body)->seq, 41);
  rv_msg_clear(&m);
  s_send_when_connected(1, 0, 42);
  assert_int_equal(s_recv(0, &node, &m, &err), RV_OK);
  assert_int_equal(node, 1);
  rv_msg_clear(&m);
  assert_int_equal(rv_peers_stats(s_peers[0], 1).sent, 1);
  assert_int_equal(rv_peers_stats(s_peers[0], 1).received, 1);
  /* sending to oneself is not a link */
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  assert_int_equal(rv_peers_send(s_peers[0], 0, RV_MSG_HEARTBEAT, &hb.base, 0, &err), RV_EINVAL);
}

/* A raw DEALER that claims to be someone: returns it connected to n2's port. */
static zsock_t *s_intruder(const char *identity) {
  zsock_t *s = zsock_new(ZMQ_DEALER);
  zsock_set_identity(s, identity);
  zsock_connect(s, "tcp://127.0.0.1:%d", s_port + 1);
  return s;
}

static void test_unknown_sender_dropped(void **state) {
  zsock_t *s = s_intruder("other-cluster/n1");
  zstr_send(s, "hello");
  int node;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(1, &node, &m, &err), RV_EPROTO);
  assert_non_null(strstr(err.msg, "not a node of cluster c1"));
  assert_int_equal(rv_peers_rejected(s_peers[1]), 1);
  zsock_destroy(&s);
}

/* n3 is in the configuration but not running: a process that claims to be it gets as far as
 * the codec. (One that claims to be a connected node is refused by ZeroMQ itself: a ROUTER
 * drops a second connection with a routing id already in use.) */
static void test_garbage_and_lies_dropped(void **state) {
  zsock_t *s = s_intruder("c1/n3");
  zstr_send(s, "garbage that is no envelope");
  int node;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(1, &node, &m, &err), RV_EDECODE);
  /* a well-formed envelope that says it comes from n2 itself, on n1's link */
  Rv__Heartbeat hb = RV__HEARTBEAT__INIT;
  rv_msg_t lie = {.type = RV_MSG_HEARTBEAT, .body = &hb.base};
  rv_addr_set(&lie.from, "n1", "raft-peer");
  rv_addr_set(&lie.to, "n2", "raft-peer");
  uint8_t *frame;
  size_t len;
  assert_int_equal(rv_msg_encode(&lie, &frame, &len, &err), RV_OK);
  zsock_send(s, "b", frame, len);
  free(frame);
  assert_int_equal(s_recv(1, &node, &m, &err), RV_EPROTO);
  assert_non_null(strstr(err.msg, "an envelope from n1 to n2 arrived on the link from n3"));
  /* two frames */
  zstr_sendm(s, "one");
  zstr_send(s, "two");
  assert_int_equal(s_recv(1, &node, &m, &err), RV_EPROTO);
  assert_non_null(strstr(err.msg, "multi-part"));
  zsock_destroy(&s);
  /* the real link still works */
  s_send_when_connected(0, 1, 7);
  assert_int_equal(s_recv(1, &node, &m, &err), RV_OK);
  rv_msg_clear(&m);
}

/* A node's raft-peer restarts: the new process connects with the same routing id while the
 * other side's loop is busy elsewhere (it has not yet taken in the old connection's end). The
 * new connection must be heard: without ZMQ_ROUTER_HANDOVER libzmq rejects it silently and the
 * new sender's messages vanish for good (seen as a restarted follower never heard again). */
static void test_restarted_peer_heard_again(void **state) {
  s_send_when_connected(0, 1, 51);
  int node;
  rv_msg_t m;
  rv_err_t err;
  assert_int_equal(s_recv(1, &node, &m, &err), RV_OK);
  rv_msg_clear(&m);
  /* n1 "restarts" while n2 does not touch its socket */
  rv_peers_destroy(&s_peers[0]);
  rv_mailbox_destroy(&s_mb[0]);
  cfg_node_destroy(&s_cfg[0]);
  s_config_again(0);
  s_send_when_connected(0, 1, 52);
  bool heard = false;
  for (int k = 0; k < 5 && !heard; k++) {
    int rc = s_recv(1, &node, &m, &err);
    if (rc == RV_ETIMEDOUT) break;
    if (rc == RV_OK) {
      heard = ((Rv__Heartbeat *)m.body)->seq == 52;
      rv_msg_clear(&m);
    }
  }
  assert_true(heard);
}

int main(void) {
  rv_log_init("test", "test", CFG_LOG_ERROR);
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_both_ways),
      cmocka_unit_test(test_restarted_peer_heard_again),
      cmocka_unit_test(test_unknown_sender_dropped),
      cmocka_unit_test(test_garbage_and_lies_dropped),
  };
  return cmocka_run_group_tests(tests, s_setup, s_teardown);
}
