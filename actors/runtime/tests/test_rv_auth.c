/* rv_auth, the authentication decisions, without ZeroMQ: which key stands for which node or
 * principal on which port, and which routing id a node's key may present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "rv_auth.h"

/* Keys as bytes; their Z85 text is computed by rv_auth_z85 (checked against ZeroMQ's own test
 * vector below). */
static uint8_t s_key[4][32];
static cfg_node_t s_cfg;

static int s_setup(void **state) {
  memset(&s_cfg, 0, sizeof s_cfg);
  for (int k = 0; k < 4; k++)
    for (int b = 0; b < 32; b++) s_key[k][b] = (uint8_t)(k * 37 + b * 11 + 1);
  snprintf(s_cfg.cluster_id, sizeof s_cfg.cluster_id, "c1");
  s_cfg.nnodes = 3;
  s_cfg.self = 0;
  for (int i = 0; i < 3; i++) {
    snprintf(s_cfg.nodes[i].id, sizeof s_cfg.nodes[i].id, "n%d", i + 1);
    rv_auth_z85(s_key[i], s_cfg.nodes[i].public_key);
  }
  s_cfg.nclients = 1;
  snprintf(s_cfg.clients[0].principal, sizeof s_cfg.clients[0].principal, "alice");
  rv_auth_z85(s_key[3], s_cfg.clients[0].key);
  return 0;
}

static void test_z85_matches_zeromq(void **state) {
  /* ZeroMQ RFC 32's test vector: 8 bytes -> "HelloWorld"; a key is 32 bytes, 4 such groups */
  uint8_t key[32];
  const uint8_t hello[8] = {0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B};
  for (int i = 0; i < 4; i++) memcpy(key + 8 * i, hello, 8);
  char out[41];
  assert_string_equal(rv_auth_z85(key, out), "HelloWorldHelloWorldHelloWorldHelloWorld");
}

static void test_raft_port_takes_node_keys_only(void **state) {
  char user[RV_AUTH_USER_MAX], why[256];
  assert_true(rv_auth_decide(&s_cfg, RV_AUTH_DOMAIN_RAFT, "CURVE", s_key[1], 32, user,
                             sizeof user, why, sizeof why));
  assert_string_equal(user, "node:n2");
  /* a client's key is no node's */
  assert_false(rv_auth_decide(&s_cfg, RV_AUTH_DOMAIN_RAFT, "CURVE", s_key[3], 32, user,
                              sizeof user, why, sizeof why));
  assert_string_equal(user, "");
  assert_non_null(strstr(why, "not in cluster.nodes[].public-key"));
  /* an unknown key */
  uint8_t other[32] = {7};
  assert_false(rv_auth_decide(&s_cfg, RV_AUTH_DOMAIN_RAFT, "CURVE", other, 32, user, sizeof user,
                              why, sizeof why));
  assert_non_null(strstr(why, "unknown key"));
}

static void test_client_port_takes_client_keys_only(void **state) {
  char user[RV_AUTH_USER_MAX], why[256];
  assert_true(rv_auth_decide(&s_cfg, RV_AUTH_DOMAIN_CLIENT, "CURVE", s_key[3], 32, user,
                             sizeof user, why, sizeof why));
  assert_string_equal(user, "alice");
  assert_false(rv_auth_decide(&s_cfg, RV_AUTH_DOMAIN_CLIENT, "CURVE", s_key[0], 32, user,
                              sizeof user, why, sizeof why));
  assert_non_null(strstr(why, "is node n1's, not a client's"));
}

static void test_no_key_or_other_mechanism_is_refused(void **state) {
  char user[RV_AUTH_USER_MAX], why[256];
  const char *domains[] = {RV_AUTH_DOMAIN_RAFT, RV_AUTH_DOMAIN_CLIENT};
  for (int d = 0; d < 2; d++) {
    assert_false(rv_auth_decide(&s_cfg, domains[d], "NULL", NULL, 0, user, sizeof user, why,
                                sizeof why));
    assert_false(rv_auth_decide(&s_cfg, domains[d], "PLAIN", NULL, 0, user, sizeof user, why,
                                sizeof why));
    assert_false(rv_auth_decide(&s_cfg, domains[d], "CURVE", s_key[3], 31, user, sizeof user,
                                why, sizeof why)); /* a short key */
  }
  assert_false(rv_auth_decide(&s_cfg, "", "CURVE", s_key[3], 32, user, sizeof user, why,
                              sizeof why));
  assert_non_null(strstr(why, "unknown ZAP domain"));
}

static int s_peer(const char *id, const char *user, char *why) {
  return rv_auth_peer_node(&s_cfg, (const uint8_t *)id, strlen(id), user, why, 256);
}

static void test_routing_id_must_be_the_keys_node(void **state) {
  char why[256];
  assert_int_equal(s_peer("c1/n2", "node:n2", why), 1);
  assert_int_equal(s_peer("c1/n3", "node:n3", why), 2);
  /* n2's key presenting n3's id (n3 down, or not): refused */
  assert_int_equal(s_peer("c1/n3", "node:n2", why), -1);
  assert_string_equal(why, "a frame presenting id \"c1/n3\" over a connection authenticated as "
                           "\"node:n2\": a node's key may speak only as that node");
  /* no User-Id at all (cannot happen behind our ZAP handler, but never trusted) */
  assert_int_equal(s_peer("c1/n2", "", why), -1);
  assert_int_equal(s_peer("c1/n2", "alice", why), -1);
  /* ids of this node, of another cluster, or nobody's */
  assert_int_equal(s_peer("c1/n1", "node:n1", why), -1);
  assert_int_equal(s_peer("c2/n2", "node:n2", why), -1);
  assert_string_equal(why, "a frame from \"c2/n2\", not a node of cluster c1");
  assert_int_equal(s_peer("c1/n22", "node:n2", why), -1);
  assert_int_equal(s_peer("c1/", "node:n2", why), -1);
}

static void test_insecure_port_trusts_the_routing_id(void **state) {
  char why[256];
  s_cfg.security_insecure = true;
  assert_int_equal(s_peer("c1/n3", "", why), 2);
  assert_int_equal(s_peer("c1/n9", "", why), -1);
  s_cfg.security_insecure = false;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_z85_matches_zeromq),
      cmocka_unit_test(test_raft_port_takes_node_keys_only),
      cmocka_unit_test(test_client_port_takes_client_keys_only),
      cmocka_unit_test(test_no_key_or_other_mechanism_is_refused),
      cmocka_unit_test(test_routing_id_must_be_the_keys_node),
      cmocka_unit_test(test_insecure_port_trusts_the_routing_id),
  };
  return cmocka_run_group_tests(tests, s_setup, NULL);
}
