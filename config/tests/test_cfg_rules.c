/* Tests of cfg_rules.c: each cross-field rule, refused with its exact message, pointing at the
 * value the file gave; and the boundary each rule lets through. */
#include "cfg_test.h"

#define P CFG_TEST_NAME ":"
#define HEAD "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n" /* 5 lines */

static void test_node_id_must_be_a_cluster_node(void **state) {
  cfg_test_refused("node:\n  id: n4\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, host: h, raft-port: 7101}\n"
                   "    - {id: n2, host: h, raft-port: 7102}\n",
                   P "2:7: node.id: \"n4\" is not in cluster.nodes (n1, n2)");
  cfg_node_t *cfg = cfg_test_ok("node:\n  id: n2\n  data-dir: /x\ncluster:\n  nodes:\n"
                                "    - {id: n1, host: h, raft-port: 7101}\n"
                                "    - {id: n2, host: h, raft-port: 7102}\n");
  assert_int_equal(cfg->self, 1);
  cfg_node_destroy(&cfg);
}

static void test_at_least_one_voter(void **state) {
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 7101, voter: false}\n"
                        "    - {id: n2, host: h, raft-port: 7102, voter: false}\n",
                   P "6:49: cluster.nodes[0].voter: no node is a voter: at least one of "
                     "cluster.nodes needs voter: true");
  cfg_node_t *cfg = cfg_test_ok(HEAD "    - {id: n1, host: h, raft-port: 7101}\n"
                                     "    - {id: n2, host: h, raft-port: 7102, voter: false}\n");
  assert_true(cfg->nodes[0].voter);
  assert_false(cfg->nodes[1].voter);
  cfg_node_destroy(&cfg);
}

static void test_node_ids_are_unique(void **state) {
  cfg_test_refused(HEAD "    - {id: n1, host: a, raft-port: 7101}\n"
                        "    - {id: n1, host: b, raft-port: 7101}\n",
                   P "7:12: cluster.nodes[1].id: duplicate node id \"n1\" (first at line 6)");
}

static void test_host_port_pairs_are_unique(void **state) {
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 7101}\n"
                        "    - {id: n2, host: h, raft-port: 7101}\n",
                   P "7:36: cluster.nodes[1].raft-port: h:7101 is used twice (also by "
                     "cluster.nodes[0].raft-port)");
  /* n1's client port, derived as 7101 + 100, is n2's raft port */
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 7101}\n"
                        "    - {id: n2, host: h, raft-port: 7201}\n",
                   P "7:36: cluster.nodes[1].raft-port: h:7201 is used twice (also by "
                     "cluster.nodes[0].client-port)");
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 7101, client-port: 7101}\n",
                   P "6:55: cluster.nodes[0].client-port: h:7101 is used twice (also by "
                     "cluster.nodes[0].raft-port)");
  cfg_test_refused("node: {id: n1, data-dir: /x}\n"
                   "namespace.backend.raft.initial-conf: \"h:8103:0,h:8203:1\"\n",
                   P "2:38: namespace.backend.raft.initial-conf[1]: h:8203 is used twice (also "
                     "by namespace.backend.raft.initial-conf[0])");
  /* the same port on other hosts is fine */
  cfg_node_t *cfg = cfg_test_ok(HEAD "    - {id: n1, host: a, raft-port: 7101}\n"
                                     "    - {id: n2, host: b, raft-port: 7101}\n");
  assert_int_equal(cfg->nnodes, 2);
  cfg_node_destroy(&cfg);
}

static void test_derived_client_port_must_be_a_port(void **state) {
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 65500}\n",
                   P "6:36: cluster.nodes[0].raft-port: raft-port 65500 + 100 is not a port; "
                     "give client-port");
  cfg_node_t *cfg = cfg_test_ok(HEAD "    - {id: n1, host: h, raft-port: 65500, client-port: 1}\n");
  assert_int_equal(cfg->nodes[0].client_port, 1);
  cfg_node_destroy(&cfg);
}

static void test_heartbeat_timeout_exceeds_interval(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-timeout-ms: 200\n",
                   P "8:25: supervisor.heartbeat-timeout-ms: must be greater than "
                     "supervisor.heartbeat-interval-ms (200), got 200");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-interval-ms: 2000\n",
                   P "8:26: supervisor.heartbeat-interval-ms: must be less than "
                     "supervisor.heartbeat-timeout-ms (1000, the default), got 2000");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-timeout-ms: 100\n"
                   "  heartbeat-interval-ms: 100\n",
                   P "8:25: supervisor.heartbeat-timeout-ms: must be greater than "
                     "supervisor.heartbeat-interval-ms (100), got 100");
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-timeout-ms: 201\n");
  assert_int_equal(cfg->heartbeat_timeout_ms, 201);
  cfg_node_destroy(&cfg);
}

static void test_restart_delays_are_ordered(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  restart-min-delay-ms: 100\n"
                   "  restart-max-delay-ms: 50\n",
                   P "9:25: supervisor.restart-max-delay-ms: must be at least "
                     "supervisor.restart-min-delay-ms (100), got 50");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  restart-min-delay-ms: 6000\n",
                   P "8:25: supervisor.restart-min-delay-ms: must be at most "
                     "supervisor.restart-max-delay-ms (5000, the default), got 6000");
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "supervisor:\n  restart-min-delay-ms: 5000\n");
  assert_int_equal(cfg->restart_min_delay_ms, cfg->restart_max_delay_ms);
  cfg_node_destroy(&cfg);
}

static void test_ping_timeout_exceeds_interval(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "health:\n  ping-interval-ms: 2000\n",
                   P "8:21: health.ping-interval-ms: must be less than health.ping-timeout-ms "
                     "(1500, the default), got 2000");
}

static void test_actor_names_are_unique(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - name: a\n  - name: a\n",
                   P "9:11: actors[1].name: duplicate actor name \"a\" (first at line 8)");
}

static void test_ots_needs_endpoint_and_credentials(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  enabled: true\n",
                   P "8:12: ots.enabled: needs ots.endpoint (https://host or file:///dir)");
  cfg_test_refused(CFG_TEST_MINIMAL "namespace.backend.raft.recovery.mode: yes\n",
                   P "7:39: namespace.backend.raft.recovery.mode: needs ots.endpoint "
                     "(https://host or file:///dir)");
  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  enabled: true\n"
                   "  endpoint: https://inst.cn-hangzhou.ots.aliyuncs.com\n",
                   P "9:13: ots.endpoint: a Tablestore endpoint needs ots.instance as well");
  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  enabled: true\n"
                   "  endpoint: https://inst.cn-hangzhou.ots.aliyuncs.com\n"
                   "  instance: inst\n  access-key-id: ak\n",
                   P "9:13: ots.endpoint: a Tablestore endpoint needs ots.access-key-secret as "
                     "well");
  /* a shared directory needs no credentials; a disabled remote copy needs nothing */
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "ots:\n  enabled: true\n"
                                "  endpoint: file:///shared/ots\n");
  assert_true(cfg->ots_enabled);
  cfg_node_destroy(&cfg);
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "ots:\n  endpoint: https://x.example.com\n");
  cfg_node_destroy(&cfg);
}

static void test_sshfence_needs_key_files(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "ha:\n  fencing:\n    methods: [\"shell(true)\", "
                   "\"sshfence(hdfs)\"]\n",
                   P "9:14: ha.fencing.methods[1]: sshfence needs "
                     "ha.fencing.ssh-private-key-files");
  cfg_test_refused(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: "
                   "\"org.apache.hadoop.ha.SshFenceByTcpPort(:22)\"\n",
                   P "7:25: dfs.ha.fencing.methods[0]: sshfence needs "
                     "ha.fencing.ssh-private-key-files");
  cfg_test_refused(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: \"sshfence\"\n",
                   P "7:25: dfs.ha.fencing.methods[0]: sshfence needs "
                     "ha.fencing.ssh-private-key-files");
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "ha:\n  fencing:\n"
                                "    methods: [\"shell(sshfence)\"]\n");
  cfg_node_destroy(&cfg);
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "ha:\n  fencing:\n    methods: [sshfence]\n"
                    "    ssh-private-key-files: [/k]\n");
  cfg_node_destroy(&cfg);
}

static void test_preferred_leader_is_a_voter_of_the_cluster(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "ha:\n  preferred-leader: n9\n",
                   P "8:21: ha.preferred-leader: no node \"n9\" in cluster.nodes");
  cfg_test_refused(HEAD "    - {id: n1, host: h, raft-port: 7101}\n"
                        "    - {id: n2, host: h, raft-port: 7102, voter: false}\n"
                        "ha:\n  preferred-leader: n2\n",
                   P "9:21: ha.preferred-leader: n2 is not a voter (voter: false in "
                     "cluster.nodes); only a voter can lead");
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "ha:\n  preferred-leader: n1\n");
  assert_string_equal(cfg->ha_preferred_leader, "n1");
  cfg_node_destroy(&cfg);
}

static void test_run_dir_fits_ipc_paths(void **state) {
  char dir[CFG_RUN_DIR_MAX + 2], yaml[1024], want[1024];
  memset(dir, 'r', sizeof dir - 1);
  dir[0] = '/';
  dir[sizeof dir - 1] = '\0'; /* CFG_RUN_DIR_MAX + 1 bytes */
  snprintf(yaml, sizeof yaml,
           "node:\n  id: n1\n  data-dir: /x\n  run-dir: %s\ncluster:\n  nodes: [{id: n1, "
           "host: h, raft-port: 1}]\n",
           dir);
  snprintf(want, sizeof want,
           P "4:12: node.run-dir: is %d bytes long; at most %d, so that ipc:// socket paths fit "
             "in 108 bytes",
           CFG_RUN_DIR_MAX + 1, CFG_RUN_DIR_MAX);
  cfg_test_refused(yaml, want);
  dir[sizeof dir - 5] = '\0'; /* <data-dir>/run: the same length */
  snprintf(yaml, sizeof yaml,
           "node:\n  id: n1\n  data-dir: %s\ncluster:\n  nodes: [{id: n1, host: h, raft-port: "
           "1}]\n",
           dir);
  snprintf(want, sizeof want,
           P "3:13: node.data-dir: <data-dir>/run is %d bytes long; at most %d, so that ipc:// "
             "socket paths fit in 108 bytes: set node.run-dir to a shorter path",
           CFG_RUN_DIR_MAX + 1, CFG_RUN_DIR_MAX);
  cfg_test_refused(yaml, want);
  dir[sizeof dir - 6] = '\0'; /* one byte shorter: fits exactly */
  snprintf(yaml, sizeof yaml,
           "node:\n  id: n1\n  data-dir: %s\ncluster:\n  nodes: [{id: n1, host: h, raft-port: "
           "1}]\n",
           dir);
  cfg_node_t *cfg = cfg_test_ok(yaml);
  assert_int_equal(strlen(cfg->run_dir), CFG_RUN_DIR_MAX);
  cfg_node_destroy(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_node_id_must_be_a_cluster_node),
      cmocka_unit_test(test_node_ids_are_unique),
      cmocka_unit_test(test_at_least_one_voter),
      cmocka_unit_test(test_host_port_pairs_are_unique),
      cmocka_unit_test(test_derived_client_port_must_be_a_port),
      cmocka_unit_test(test_heartbeat_timeout_exceeds_interval),
      cmocka_unit_test(test_restart_delays_are_ordered),
      cmocka_unit_test(test_ping_timeout_exceeds_interval),
      cmocka_unit_test(test_actor_names_are_unique),
      cmocka_unit_test(test_ots_needs_endpoint_and_credentials),
      cmocka_unit_test(test_preferred_leader_is_a_voter_of_the_cluster),
      cmocka_unit_test(test_sshfence_needs_key_files),
      cmocka_unit_test(test_run_dir_fits_ipc_paths),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
