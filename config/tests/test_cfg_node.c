/* Tests of cfg_node.c: loading valid files (values and defaults), each class of invalid input
 * with its exact message, the JindoFS/HDFS aliases, secrets from files, relative paths. */
#include "cfg_test.h"

#define P CFG_TEST_NAME ":"

static void test_minimal_file_gets_every_default(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL);
  assert_string_equal(cfg->node_id, "n1");
  assert_string_equal(cfg->data_dir, "/var/lib/rv");
  assert_string_equal(cfg->run_dir, "/var/lib/rv/run");
  assert_string_equal(cfg->log_dir, "/var/lib/rv/log");
  assert_int_equal(cfg->log_level, CFG_LOG_INFO);
  assert_string_equal(cfg->cluster_id, "raftvisor");
  assert_int_equal(cfg->nnodes, 1);
  assert_int_equal(cfg->self, 0);
  assert_string_equal(cfg->nodes[0].id, "n1");
  assert_string_equal(cfg->nodes[0].host, "127.0.0.1");
  assert_int_equal(cfg->nodes[0].raft_port, 7101);
  assert_int_equal(cfg->nodes[0].client_port, 7201); /* raft-port + 100 */
  assert_int_equal(cfg->heartbeat_interval_ms, 200);
  assert_int_equal(cfg->heartbeat_timeout_ms, 1000);
  assert_int_equal(cfg->restart_min_delay_ms, 20);
  assert_int_equal(cfg->restart_max_delay_ms, 5000);
  assert_int_equal(cfg->restart_stable_ms, 10000);
  assert_int_equal(cfg->restart_intensity, 5);
  assert_int_equal(cfg->restart_period_s, 30);
  assert_int_equal(cfg->shutdown_timeout_ms, 3000);
  assert_int_equal(cfg->start_timeout_ms, 5000);
  assert_int_equal(cfg->nactors, 3); /* the whole node: health, consensus, namespace */
  assert_string_equal(cfg->actors[0].name, "health-monitor");
  assert_string_equal(cfg->actors[1].name, "raft-peer");
  assert_string_equal(cfg->actors[2].name, "kv-store");
  assert_int_equal(cfg->actors[2].shutdown_timeout_ms, 3000);
  assert_string_equal(cfg->actors[0].exec, "");
  assert_int_equal(cfg->actors[0].nargs, 0);
  assert_null(cfg->actors[0].args[0]);
  assert_int_equal(cfg->actors[0].restart, CFG_RESTART_PERMANENT);
  assert_int_equal(cfg->actors[0].shutdown_timeout_ms, 3000);
  assert_int_equal(cfg->health_ping_interval_ms, 500);
  assert_int_equal(cfg->health_ping_timeout_ms, 1500);
  assert_false(cfg->ots_enabled);
  assert_false(cfg->ots_recovery_mode);
  assert_string_equal(cfg->ots_endpoint, "");
  assert_string_equal(cfg->ots_instance, "");
  assert_string_equal(cfg->ots_access_key_id, "");
  assert_non_null(cfg->ots_access_key_secret);
  assert_string_equal(cfg->ots_access_key_secret, "");
  assert_false(cfg->ha_automatic_failover);
  assert_int_equal(cfg->nfence_methods, 0);
  assert_int_equal(cfg->nssh_private_key_files, 0);
  assert_int_equal(cfg->ssh_connect_timeout_ms, 30000);
  assert_string_equal(cfg->source, CFG_TEST_NAME);
  cfg_node_destroy(&cfg);
  assert_null(cfg);
  cfg_node_destroy(&cfg); /* twice is fine */
  cfg_node_destroy(NULL);
}

static const char s_full[] =
    "node:\n"
    "  id: n2\n"
    "  data-dir: /data/rv\n"
    "  run-dir: /run/rv\n"
    "  log-dir: /var/log/rv\n"
    "  log-level: debug\n"
    "cluster:\n"
    "  id: prod-1\n"
    "  nodes:\n"
    "    - {id: n1, host: 10.0.0.1, raft-port: 8103, client-port: 8101}\n"
    "    - {id: n2, host: 10.0.0.2, raft-port: 8103, client-port: 8101}\n"
    "    - id: n3\n"
    "      host: 10.0.0.3\n"
    "      raft-port: 8103\n"
    "supervisor:\n"
    "  heartbeat-interval-ms: 100\n"
    "  heartbeat-timeout-ms: 700\n"
    "  restart-min-delay-ms: 50\n"
    "  restart-max-delay-ms: 60000\n"
    "  restart-stable-ms: 20000\n"
    "  restart-intensity: 3\n"
    "  restart-period-s: 10\n"
    "  shutdown-timeout-ms: 2000\n"
    "  start-timeout-ms: 9000\n"
    "actors:\n"
    "  - name: health-monitor\n"
    "  - name: raft-peer\n"
    "    exec: bin/raftvisor-raft-peer\n"
    "    args: [--verbose, \"--data\", \"x y\"]\n"
    "    restart: transient\n"
    "    shutdown-timeout-ms: 10000\n"
    "  - name: ots-replicator\n"
    "    restart: temporary\n"
    "health:\n"
    "  ping-interval-ms: 250\n"
    "  ping-timeout-ms: 1000\n"
    "ots:\n"
    "  enabled: yes\n"
    "  recovery-mode: Off\n"
    "  endpoint: https://inst.cn-hangzhou.ots.aliyuncs.com\n"
    "  instance: inst\n"
    "  access-key-id: LTAIexample\n"
    "  access-key-secret: s3cr3t-value\n"
    "ha:\n"
    "  automatic-failover: on\n"
    "  fencing:\n"
    "    methods:\n"
    "      - sshfence(hdfs:22)\n"
    "      - shell(/usr/local/bin/fence.sh --force)\n"
    "    ssh-private-key-files: [/home/hdfs/.ssh/id_rsa, keys/id_ed25519]\n"
    "    ssh-connect-timeout-ms: 5000\n"
    "    shell-timeout-ms: 4000\n";

static void test_full_file_sets_every_value(void **state) {
  cfg_node_t *cfg = cfg_test_ok(s_full);
  assert_string_equal(cfg->node_id, "n2");
  assert_string_equal(cfg->data_dir, "/data/rv");
  assert_string_equal(cfg->run_dir, "/run/rv");
  assert_string_equal(cfg->log_dir, "/var/log/rv");
  assert_int_equal(cfg->log_level, CFG_LOG_DEBUG);
  assert_string_equal(cfg->cluster_id, "prod-1");
  assert_int_equal(cfg->nnodes, 3);
  assert_int_equal(cfg->self, 1);
  assert_string_equal(cfg->nodes[1].host, "10.0.0.2");
  assert_int_equal(cfg->nodes[1].client_port, 8101);
  assert_string_equal(cfg->nodes[2].id, "n3");
  assert_int_equal(cfg->nodes[2].raft_port, 8103);
  assert_int_equal(cfg->nodes[2].client_port, 8203);
  assert_int_equal(cfg->heartbeat_interval_ms, 100);
  assert_int_equal(cfg->heartbeat_timeout_ms, 700);
  assert_int_equal(cfg->restart_min_delay_ms, 50);
  assert_int_equal(cfg->restart_max_delay_ms, 60000);
  assert_int_equal(cfg->restart_stable_ms, 20000);
  assert_int_equal(cfg->restart_intensity, 3);
  assert_int_equal(cfg->restart_period_s, 10);
  assert_int_equal(cfg->shutdown_timeout_ms, 2000);
  assert_int_equal(cfg->start_timeout_ms, 9000);
  assert_int_equal(cfg->nactors, 4);
  assert_int_equal(cfg->actors[0].shutdown_timeout_ms, 2000); /* the supervisor's */
  /* fencing methods add the fencer, last, with the defaults */
  assert_string_equal(cfg->actors[3].name, "fencer");
  assert_string_equal(cfg->actors[3].exec, "");
  assert_int_equal(cfg->actors[3].restart, CFG_RESTART_PERMANENT);
  assert_int_equal(cfg->actors[3].shutdown_timeout_ms, 2000);
  const cfg_actor_t *rp = cfg_node_actor(cfg, "raft-peer");
  assert_ptr_equal(rp, &cfg->actors[1]);
  assert_string_equal(rp->exec, "/etc/raftvisor/bin/raftvisor-raft-peer");
  assert_int_equal(rp->nargs, 3);
  assert_string_equal(rp->args[0], "--verbose");
  assert_string_equal(rp->args[2], "x y");
  assert_null(rp->args[3]);
  assert_int_equal(rp->restart, CFG_RESTART_TRANSIENT);
  assert_int_equal(rp->shutdown_timeout_ms, 10000);
  assert_int_equal(cfg_node_actor(cfg, "ots-replicator")->restart, CFG_RESTART_TEMPORARY);
  assert_null(cfg_node_actor(cfg, "kv-store"));
  assert_int_equal(cfg->health_ping_interval_ms, 250);
  assert_int_equal(cfg->health_ping_timeout_ms, 1000);
  assert_true(cfg->ots_enabled);
  assert_false(cfg->ots_recovery_mode);
  assert_string_equal(cfg->ots_endpoint, "https://inst.cn-hangzhou.ots.aliyuncs.com");
  assert_string_equal(cfg->ots_instance, "inst");
  assert_string_equal(cfg->ots_access_key_id, "LTAIexample");
  assert_string_equal(cfg->ots_access_key_secret, "s3cr3t-value");
  assert_true(cfg->ha_automatic_failover);
  assert_int_equal(cfg->nfence_methods, 2);
  assert_string_equal(cfg->fence_methods[0], "sshfence(hdfs:22)");
  assert_string_equal(cfg->fence_methods[1], "shell(/usr/local/bin/fence.sh --force)");
  assert_int_equal(cfg->nssh_private_key_files, 2);
  assert_string_equal(cfg->ssh_private_key_files[0], "/home/hdfs/.ssh/id_rsa");
  assert_string_equal(cfg->ssh_private_key_files[1], "/etc/raftvisor/keys/id_ed25519");
  assert_int_equal(cfg->ssh_connect_timeout_ms, 5000);
  assert_int_equal(cfg->fence_shell_timeout_ms, 4000);
  char buf[256];
  cfg_peer_endpoint(&cfg->nodes[2], cfg->nodes[2].raft_port, buf, sizeof buf);
  assert_string_equal(buf, "tcp://10.0.0.3:8103");
  cfg_peer_t v6 = {.id = "n9", .host = "fd00::9", .raft_port = 1};
  cfg_peer_endpoint(&v6, 7101, buf, sizeof buf);
  assert_string_equal(buf, "tcp://[fd00::9]:7101");
  cfg_node_destroy(&cfg);
}

static void test_null_values_take_defaults_and_empty_actor_list_is_kept(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "supervisor:\n"
                                                 "  heartbeat-interval-ms:\n"
                                                 "  shutdown-timeout-ms: 1234\n"
                                                 "ots:\n"
                                                 "actors:\n");
  assert_int_equal(cfg->heartbeat_interval_ms, 200);
  assert_int_equal(cfg->nactors, 3); /* "actors:" with no value: the default set */
  assert_int_equal(cfg->actors[0].shutdown_timeout_ms, 1234);
  cfg_node_destroy(&cfg);
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "actors: []\n");
  assert_int_equal(cfg->nactors, 0);
  cfg_node_destroy(&cfg);
}

static void test_unknown_keys_are_refused_with_a_suggestion(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-intervl-ms: 100\n",
                   P "8:3: supervisor.heartbeat-intervl-ms: unknown key \"heartbeat-intervl-ms\"; "
                     "did you mean \"heartbeat-interval-ms\"?");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisr:\n  restart-intensity: 3\n",
                   P "7:1: supervisr: unknown key \"supervisr\"; did you mean \"supervisor\"?");
  cfg_test_refused(CFG_TEST_MINIMAL "namespace.ots.accesskey: x\n",
                   P "7:1: namespace.ots.accesskey: unknown key \"namespace.ots.accesskey\"; did "
                     "you mean \"namespace.ots.accessKey\"?");
  cfg_test_refused(CFG_TEST_MINIMAL "health:\n  colour: red\n",
                   P "8:3: health.colour: unknown key \"colour\"; expected one of: "
                     "ping-interval-ms, ping-timeout-ms, min-free-disk-mb, apply-stall-ms, "
                     "slow-io-ms");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, host: h, raft_port: 1}\n",
                   P "6:25: cluster.nodes[0].raft_port: unknown key \"raft_port\"; did you mean "
                     "\"raft-port\"?");
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - name: a\n    restrat: permanent\n",
                   P "9:5: actors[0].restrat: unknown key \"restrat\"; did you mean \"restart\"?");
}

static void test_duplicate_key_is_refused(void **state) {
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\n  id: n2\n",
                   P "4:3: node.id: duplicate key \"id\" (first at line 2)");
  cfg_test_refused(CFG_TEST_MINIMAL "cluster:\n  id: c\n",
                   P "7:1: cluster: duplicate key \"cluster\" (first at line 4)");
}

static void test_wrong_types_and_ranges(void **state) {
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-interval-ms: abc\n",
                   P "8:26: supervisor.heartbeat-interval-ms: expected an integer in 10..60000, "
                     "got \"abc\"");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  heartbeat-interval-ms: 12ms\n",
                   P "8:26: supervisor.heartbeat-interval-ms: expected an integer in 10..60000, "
                     "got \"12ms\"");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  restart-period-s: 0\n",
                   P "8:21: supervisor.restart-period-s: expected an integer in 1..86400, got "
                     "\"0\"");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor:\n  restart-intensity: [1]\n",
                   P "8:22: supervisor.restart-intensity: expected an integer in 0..1000, got a "
                     "list");
  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  enabled: maybe\n",
                   P "8:12: ots.enabled: expected a boolean (true/false, yes/no, on/off), got "
                     "\"maybe\"");
  cfg_test_refused("node:\n  id: N1\n",
                   P "2:7: node.id: expected an id ([a-z0-9][a-z0-9_-]{0,31}), got \"N1\"");
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - name: x\n    restart: always\n",
                   P "9:14: actors[0].restart: expected one of permanent, transient, temporary, "
                     "got \"always\"");
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - name: x\n    args: --verbose\n",
                   P "9:11: actors[0].args: expected a list of at most 16 strings, got "
                     "\"--verbose\"");
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - name: x\n    args: [[a]]\n",
                   P "9:12: actors[0].args[0]: expected a string, got a list");
  cfg_test_refused(CFG_TEST_MINIMAL "actors: health-monitor\n",
                   P "7:9: actors: expected a list of at most 16 actors ({name, exec, args, "
                     "restart, ...}), got \"health-monitor\"");
  cfg_test_refused(CFG_TEST_MINIMAL "supervisor: fast\n",
                   P "7:13: supervisor: expected a mapping of heartbeat-interval-ms, "
                     "heartbeat-timeout-ms, restart-min-delay-ms, restart-max-delay-ms, "
                     "restart-stable-ms, restart-intensity, restart-period-s, shutdown-timeout-ms, "
                     "start-timeout-ms, got \"fast\"");
  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  endpoint: [a]\n",
                   P "8:13: ots.endpoint: expected a string, got a list");
  cfg_test_refused(CFG_TEST_MINIMAL "ha:\n  fencing:\n    methods: [\"shell()\"]\n",
                   P "9:15: ha.fencing.methods[0]: No argument passed to 'shell' fencing "
                     "method: expected shell(command [args]), got 'shell()'");
  cfg_test_refused(CFG_TEST_MINIMAL "node:\n",
                   P "7:1: node: duplicate key \"node\" (first at line 1)");
}

static void test_node_list_shape(void **state) {
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes: []\n",
                   P "5:10: cluster.nodes: expected a list of 1..7 nodes ({id, host, raft-port, "
                     "client-port}), got none");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes: [n1]\n",
                   P "5:11: cluster.nodes[0]: expected a mapping of id, host, raft-port, "
                     "client-port, voter, got \"n1\"");
  char yaml[2048] = "node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n";
  for (int i = 1; i <= 8; i++)
    snprintf(yaml + strlen(yaml), sizeof yaml - strlen(yaml),
             "    - {id: n%d, host: h, raft-port: %d}\n", i, 7100 + i);
  cfg_test_refused(yaml, P "13:7: cluster.nodes[7]: expected a list of 1..7 nodes ({id, host, "
                           "raft-port, client-port}), got 8 entries");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, host: h, raft-port: 70000}\n",
                   P "6:36: cluster.nodes[0].raft-port: expected an integer in 1..65535, got "
                     "\"70000\"");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, host: \"a b\", raft-port: 1}\n",
                   P "6:22: cluster.nodes[0].host: expected a host name or address, got \"a b\"");
}

static void test_missing_required_keys_point_at_the_enclosing_mapping(void **state) {
  cfg_test_refused("node:\n  data-dir: /x\ncluster:\n  nodes:\n    - {id: n1, host: h, "
                   "raft-port: 1}\n",
                   P "2:3: node.id: missing required key");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\n",
                   P "1:1: cluster.nodes: missing required key (or its alias "
                     "namespace.backend.raft.initial-conf at the top level)");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  id: c\n",
                   P "5:3: cluster.nodes: missing required key (or its alias "
                     "namespace.backend.raft.initial-conf at the top level)");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, raft-port: 7101}\n",
                   P "6:7: cluster.nodes[0].host: missing required key");
  cfg_test_refused(CFG_TEST_MINIMAL "actors:\n  - exec: /bin/x\n",
                   P "8:5: actors[0].name: missing required key");
  /* "key:" with nothing is not given */
  cfg_test_refused("node:\n  id:\n  data-dir: /x\n", P "2:3: node.id: missing required key");
}

static void test_file_level_errors(void **state) {
  cfg_test_refused("", P "1:1: empty file; expected a mapping with at least node and cluster");
  cfg_test_refused("# nothing yet\n",
                   P "1:1: empty file; expected a mapping with at least node and cluster");
  cfg_test_refused("- node\n- cluster\n",
                   P "1:1: expected a mapping of sections (node, cluster, supervisor, actors, "
                     "health, metrics, raft, ots, ha) at the top level, got a list");
  cfg_test_refused("just text\n",
                   P "1:1: expected a mapping of sections (node, cluster, supervisor, actors, "
                     "health, metrics, raft, ots, ha) at the top level, got \"just text\"");
  cfg_test_refused("node:\n  id: n1\n data-dir: x\n",
                   P "3:2: did not find expected key (while parsing a block mapping at line 1)");
}

static void test_unreadable_file_is_an_io_error(void **state) {
  cfg_node_t *cfg = (cfg_node_t *)(uintptr_t)1;
  rv_err_t err;
  assert_int_equal(cfg_node_load("/nonexistent/raftvisor/node.yaml", &cfg, -1, &err), RV_EIO);
  assert_int_equal(err.code, RV_EIO);
  assert_string_equal(err.msg, "/nonexistent/raftvisor/node.yaml: cannot read: No such file or "
                               "directory");
  assert_null(cfg);
  char dir[64];
  cfg_test_mkdtemp(dir, sizeof dir);
  assert_int_equal(cfg_node_load(dir, &cfg, -1, &err), RV_EIO);
  char want[512];
  snprintf(want, sizeof want, "%s: cannot read: Is a directory", dir);
  assert_string_equal(err.msg, want);
  char path[128];
  cfg_test_write(dir, "empty.yaml", "", 0644, path, sizeof path);
  assert_int_equal(cfg_node_load(path, &cfg, -1, &err), RV_ECONFIG);
  snprintf(want, sizeof want,
           "%s:1:1: empty file; expected a mapping with at least node and cluster", path);
  assert_string_equal(err.msg, want);
  /* past 1 MiB: refused before parsing */
  size_t big = (1 << 20) + 1;
  char *text = malloc(big + 1);
  assert_non_null(text);
  memset(text, '#', big);
  text[big] = '\0';
  cfg_test_write(dir, "big.yaml", text, 0644, path, sizeof path);
  free(text);
  assert_int_equal(cfg_node_load(path, &cfg, -1, &err), RV_ECONFIG);
  snprintf(want, sizeof want, "%s: larger than 1048576 bytes", path);
  assert_string_equal(err.msg, want);
  assert_null(cfg);
  cfg_test_rmdir(dir);
}

static void test_relative_paths_resolve_against_the_file_directory(void **state) {
  char dir[64], path[128], want[2048];
  cfg_test_mkdtemp(dir, sizeof dir);
  cfg_test_write(dir, "node.yaml",
                 "node:\n  id: n1\n  data-dir: state/./n1/\n  log-dir: ../logs\n"
                 "cluster:\n  nodes: [{id: n1, host: h, raft-port: 7101}]\n"
                 "actors:\n  - {name: fake, exec: bin/fake-actor}\n",
                 0644, path, sizeof path);
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int rc = cfg_node_load(path, &cfg, -1, &err);
  if (rc) print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  snprintf(want, sizeof want, "%s/state/n1", dir);
  assert_string_equal(cfg->data_dir, want);
  snprintf(want, sizeof want, "%s/state/n1/run", dir);
  assert_string_equal(cfg->run_dir, want);
  assert_string_equal(cfg->log_dir, "/tmp/logs"); /* dir is /tmp/cfg-test-XXXXXX */
  snprintf(want, sizeof want, "%s/bin/fake-actor", dir);
  assert_string_equal(cfg->actors[0].exec, want);
  assert_string_equal(cfg->source, path);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);

  /* A name without a directory: the current one. */
  char cwd[1024];
  assert_non_null(getcwd(cwd, sizeof cwd));
  const char *yaml = "node: {id: n1, data-dir: d}\n"
                     "cluster: {nodes: [{id: n1, host: h, raft-port: 1}]}\n";
  rc = cfg_node_parse("node.yaml", yaml, strlen(yaml), &cfg, -1, &err);
  if (rc) print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  snprintf(want, sizeof want, "%s/d", strcmp(cwd, "/") ? cwd : "");
  assert_string_equal(cfg->data_dir, want);
  cfg_node_destroy(&cfg);
}

static const char s_jindo[] =
    "node:\n"
    "  id: n2\n"
    "  data-dir: /data/rv\n"
    "namespace.backend.raft.initial-conf: \"emr-header-1:8103:0,emr-header-2:8103:0, "
    "emr-header-3:8103:0\"\n"
    "jfs.namespace.server.rpc-address: \"emr-header-2:8101\"\n"
    "namespace.ots.endpoint: https://inst.cn-hangzhou.ots.aliyuncs.com\n"
    "namespace.ots.instance: inst\n"
    "namespace.ots.accessKey: LTAIexample\n"
    "namespace.ots.accessSecret: sec-ret\n"
    "namespace.backend.raft.async.ots.enabled: \"true\"\n"
    "namespace.backend.raft.recovery.mode: \"false\"\n";

static void test_jindofs_aliases(void **state) {
  cfg_node_t *cfg = cfg_test_ok(s_jindo);
  assert_int_equal(cfg->nnodes, 3);
  assert_int_equal(cfg->self, 1);
  const char *hosts[] = {"emr-header-1", "emr-header-2", "emr-header-3"};
  const int clients[] = {8203, 8101, 8203};
  for (int i = 0; i < 3; i++) {
    char id[16];
    snprintf(id, sizeof id, "n%d", i + 1);
    assert_string_equal(cfg->nodes[i].id, id);
    assert_string_equal(cfg->nodes[i].host, hosts[i]);
    assert_int_equal(cfg->nodes[i].raft_port, 8103);
    assert_int_equal(cfg->nodes[i].client_port, clients[i]);
  }
  assert_true(cfg->ots_enabled);
  assert_false(cfg->ots_recovery_mode);
  assert_string_equal(cfg->ots_endpoint, "https://inst.cn-hangzhou.ots.aliyuncs.com");
  assert_string_equal(cfg->ots_instance, "inst");
  assert_string_equal(cfg->ots_access_key_id, "LTAIexample");
  assert_string_equal(cfg->ots_access_key_secret, "sec-ret");
  cfg_node_destroy(&cfg);

  /* As a list too; without rpc-address every client port is raft-port + 100. */
  cfg = cfg_test_ok("node: {id: n3, data-dir: /d}\n"
                    "namespace.backend.raft.initial-conf: [\"h1:9000:0\", \"h2:9000:1\", "
                    "\"h3:9000:2\"]\n");
  assert_int_equal(cfg->self, 2);
  assert_int_equal(cfg->nodes[2].client_port, 9100);
  cfg_node_destroy(&cfg);
}

static void test_jindofs_alias_errors(void **state) {
  cfg_test_refused("node:\n  id: master1\n  data-dir: /d\n"
                   "namespace.backend.raft.initial-conf: \"h1:8103:0,h2:8103:0,h3:8103:0\"\n",
                   P "2:7: node.id: \"master1\" is not in cluster.nodes (n1, n2, n3, named in "
                     "order by namespace.backend.raft.initial-conf)");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /d\n"
                   "namespace.backend.raft.initial-conf: \"h1:8103:0,h2\"\n",
                   P "4:38: namespace.backend.raft.initial-conf[1]: expected host:port[:index], "
                     "got \"h2\"");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /d\n"
                   "namespace.backend.raft.initial-conf: \" , \"\n",
                   P "4:38: namespace.backend.raft.initial-conf: expected 1..7 "
                     "host:port[:index] entries, got none");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /d\n"
                   "namespace.backend.raft.initial-conf: \"h:1,h:2,h:3,h:4,h:5,h:6,h:7,h:8\"\n",
                   P "4:38: namespace.backend.raft.initial-conf: expected at most 7 "
                     "host:port[:index] entries, got more");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /d\n"
                   "namespace.backend.raft.initial-conf: \"h1:8103:0\"\n"
                   "jfs.namespace.server.rpc-address: 8101\n",
                   P "5:35: jfs.namespace.server.rpc-address: expected host:port, got \"8101\"");
  /* the same key both ways: an error naming both places, at the second */
  cfg_test_refused(CFG_TEST_MINIMAL "namespace.backend.raft.initial-conf: \"h:1:0\"\n",
                   P "7:38: namespace.backend.raft.initial-conf: also given as cluster.nodes at "
                     "line 6; give it once");
  cfg_test_refused(CFG_TEST_MINIMAL "namespace.ots.instance: a\nots:\n  instance: b\n",
                   P "9:13: ots.instance: also given as namespace.ots.instance at line 7; give it "
                     "once");
  cfg_test_refused("node:\n  id: n1\n  data-dir: /x\ncluster:\n  nodes:\n"
                   "    - {id: n1, host: h, raft-port: 7101, client-port: 7201}\n"
                   "jfs.namespace.server.rpc-address: \"h:7301\"\n",
                   P "7:35: jfs.namespace.server.rpc-address: also given as "
                     "cluster.nodes[0].client-port at line 6; give it once");
}

static void test_hdfs_aliases(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL
                                "dfs.ha.automatic-failover.enabled: \"true\"\n"
                                "dfs.ha.fencing.methods: |\n"
                                "  sshfence(hdfs:22)\n"
                                "\n"
                                "  shell(/bin/fence.sh $target_host)\n"
                                "dfs.ha.fencing.ssh.private-key-files: \"/home/hdfs/.ssh/id_rsa, "
                                "keys/id_ed25519\"\n"
                                "dfs.ha.fencing.ssh.connect-timeout: \"5000\"\n");
  assert_true(cfg->ha_automatic_failover);
  assert_int_equal(cfg->nfence_methods, 2);
  assert_string_equal(cfg->fence_methods[0], "sshfence(hdfs:22)");
  assert_string_equal(cfg->fence_methods[1], "shell(/bin/fence.sh $target_host)");
  assert_int_equal(cfg->nssh_private_key_files, 2);
  assert_string_equal(cfg->ssh_private_key_files[0], "/home/hdfs/.ssh/id_rsa");
  assert_string_equal(cfg->ssh_private_key_files[1], "/etc/raftvisor/keys/id_ed25519");
  assert_int_equal(cfg->ssh_connect_timeout_ms, 5000);
  cfg_node_destroy(&cfg);

  cfg = cfg_test_ok(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: [\"shell(true)\"]\n");
  assert_int_equal(cfg->nfence_methods, 1);
  assert_string_equal(cfg->fence_methods[0], "shell(true)");
  assert_int_equal(cfg->nactors, 4);
  assert_string_equal(cfg->actors[3].name, "fencer");
  assert_int_equal(cfg->fence_shell_timeout_ms, 30000);
  cfg_node_destroy(&cfg);
  /* a fencer listed is not added again, wherever it is */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: [\"shell(true)\"]\n"
                                     "actors: [{name: fencer, restart: transient}, {name: kv-store}]\n");
  assert_int_equal(cfg->nactors, 2);
  assert_string_equal(cfg->actors[0].name, "fencer");
  assert_int_equal(cfg->actors[0].restart, CFG_RESTART_TRANSIENT);
  cfg_node_destroy(&cfg);

  cfg_test_refused(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: \"shell(true)\\nshel(x)\"\n",
                   P "7:25: dfs.ha.fencing.methods[1]: unknown fencing method 'shel': expected "
                     "shell(command [args]) or sshfence([[user][:port]]), got 'shel(x)'");
  /* in a literal block, the error points at the method's own line and column */
  cfg_test_refused(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: |\n"
                                    "  shell(true)\n"
                                    "\n"
                                    "  # a comment\n"
                                    "    shel(x)\n",
                   P "11:5: dfs.ha.fencing.methods[1]: unknown fencing method 'shel': expected "
                     "shell(command [args]) or sshfence([[user][:port]]), got 'shel(x)'");
  /* Hadoop's multi-line form: blank lines and # comments are skipped */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "dfs.ha.fencing.methods: |\n"
                                     "  # tried in order\n"
                                     "  shell(echo $# (a) # kept) # dropped\n"
                                     "\n"
                                     "  org.apache.hadoop.ha.ShellCommandFencer(true)\n");
  assert_int_equal(cfg->nfence_methods, 2);
  assert_string_equal(cfg->fence_methods[0], "shell(echo $# (a) # kept)");
  assert_string_equal(cfg->fence_methods[1], "org.apache.hadoop.ha.ShellCommandFencer(true)");
  cfg_node_destroy(&cfg);
  cfg_test_refused(CFG_TEST_MINIMAL "dfs.ha.fencing.ssh.connect-timeout: 30s\n",
                   P "7:37: dfs.ha.fencing.ssh.connect-timeout: expected an integer in "
                     "1..3600000, got \"30s\"");
  cfg_test_refused(CFG_TEST_MINIMAL "ha:\n  fencing:\n    methods: []\n"
                   "dfs.ha.fencing.methods: sshfence\n",
                   P "10:25: dfs.ha.fencing.methods: also given as ha.fencing.methods at line 9; "
                     "give it once");
}

/* A secret file in a fresh directory, and a node file beside it pointing at it. */
static int s_load_with_secret(const char *secret_text, mode_t mode, const char *ref,
                              cfg_node_t **cfg, char *dir, size_t dirlen, int warn_fd,
                              rv_err_t *err) {
  char path[128], yaml[512];
  cfg_test_mkdtemp(dir, dirlen);
  if (secret_text) cfg_test_write(dir, "secret", secret_text, mode, path, sizeof path);
  snprintf(yaml, sizeof yaml, CFG_TEST_MINIMAL "ots:\n  access-key-secret: \"%s\"\n", ref);
  cfg_test_write(dir, "node.yaml", yaml, 0644, path, sizeof path);
  return cfg_node_load(path, cfg, warn_fd, err);
}

static void test_secret_from_file(void **state) {
  char dir[64];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  int rc = s_load_with_secret("top-secret\n\n", 0600, "@secret", &cfg, dir, sizeof dir, fds[1],
                              &err);
  if (rc) print_error("%s\n", err.msg);
  assert_int_equal(rc, 0);
  assert_string_equal(cfg->ots_access_key_secret, "top-secret");
  close(fds[1]);
  char *warned = cfg_test_slurp(fds[0]);
  close(fds[0]);
  assert_string_equal(warned, ""); /* 0600: nothing to say */
  free(warned);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);
}

static void test_secret_file_open_to_others_draws_a_warning(void **state) {
  char dir[64], want[512];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  int rc = s_load_with_secret("s\r\n", 0644, "@secret", &cfg, dir, sizeof dir, fds[1], &err);
  assert_int_equal(rc, 0);
  assert_string_equal(cfg->ots_access_key_secret, "s");
  close(fds[1]);
  char *warned = cfg_test_slurp(fds[0]);
  close(fds[0]);
  snprintf(want, sizeof want,
           "%s/node.yaml:8:22: ots.access-key-secret: warning: secret file \"%s/secret\" is open "
           "to group or others (mode 0644); chmod 600 it\n",
           dir, dir);
  assert_string_equal(warned, want);
  free(warned);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);
}

static void test_secret_file_errors(void **state) {
  char dir[64], want[512];
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  assert_int_equal(s_load_with_secret(NULL, 0, "@nope", &cfg, dir, sizeof dir, -1, &err),
                   RV_ECONFIG);
  snprintf(want, sizeof want,
           "%s/node.yaml:8:22: ots.access-key-secret: cannot read secret file \"%s/nope\": No "
           "such file or directory",
           dir, dir);
  assert_string_equal(err.msg, want);
  assert_null(cfg);
  cfg_test_rmdir(dir);

  assert_int_equal(s_load_with_secret("\n", 0600, "@secret", &cfg, dir, sizeof dir, -1, &err),
                   RV_ECONFIG);
  snprintf(want, sizeof want,
           "%s/node.yaml:8:22: ots.access-key-secret: secret file \"%s/secret\" is empty", dir,
           dir);
  assert_string_equal(err.msg, want);
  cfg_test_rmdir(dir);

  cfg_test_refused(CFG_TEST_MINIMAL "ots:\n  access-key-secret: \"@\"\n",
                   P "8:22: ots.access-key-secret: expected @/path/to/file, got \"@\"");
}

/* The remote copy must do what it says: ots.enabled (or its JindoFS alias, or recovery mode) adds
 * the ots-replicator right after kv-store, before an added fencer; listed, it is not added. */
static void test_ots_adds_the_replicator_after_kv_store(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "ots: {enabled: true, endpoint: \"file:///r\"}\n"
                                                 "dfs.ha.fencing.methods: [\"shell(true)\"]\n");
  assert_int_equal(cfg->nactors, 5);
  assert_string_equal(cfg->actors[2].name, "kv-store");
  assert_string_equal(cfg->actors[3].name, "ots-replicator");
  assert_int_equal(cfg->actors[3].restart, CFG_RESTART_PERMANENT);
  assert_string_equal(cfg->actors[4].name, "fencer");
  cfg_node_destroy(&cfg);
  /* in the middle of a listed order */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "namespace.backend.raft.async.ots.enabled: true\n"
                                     "namespace.ots.endpoint: \"file:///r\"\n"
                                     "actors: [{name: raft-peer}, {name: kv-store}, {name: health-monitor}]\n");
  assert_int_equal(cfg->nactors, 4);
  assert_string_equal(cfg->actors[1].name, "kv-store");
  assert_string_equal(cfg->actors[2].name, "ots-replicator");
  assert_string_equal(cfg->actors[3].name, "health-monitor");
  cfg_node_destroy(&cfg);
  /* listed: not added again */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL "ots: {enabled: true, endpoint: \"file:///r\"}\n"
                                     "actors: [{name: ots-replicator, restart: transient}, {name: kv-store}]\n");
  assert_int_equal(cfg->nactors, 2);
  assert_string_equal(cfg->actors[0].name, "ots-replicator");
  cfg_node_destroy(&cfg);
  /* off: none */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL);
  assert_int_equal(cfg->nactors, 3);
  cfg_node_destroy(&cfg);
}

static void test_secret_via_alias_is_read_too(void **state) {
  char dir[64], path[128], yaml[512], want[512];
  cfg_test_mkdtemp(dir, sizeof dir);
  cfg_test_write(dir, "ak", "alias-secret\n", 0640, path, sizeof path);
  snprintf(yaml, sizeof yaml, CFG_TEST_MINIMAL "namespace.ots.accessSecret: \"@%s\"\n", path);
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  cfg_node_t *cfg = NULL;
  rv_err_t err;
  assert_int_equal(cfg_test_parse(yaml, &cfg, fds[1], &err), 0);
  assert_string_equal(cfg->ots_access_key_secret, "alias-secret");
  close(fds[1]);
  char *warned = cfg_test_slurp(fds[0]);
  close(fds[0]);
  snprintf(want, sizeof want,
           P "7:29: namespace.ots.accessSecret: warning: secret file \"%s\" is open to group or "
             "others (mode 0640); chmod 600 it\n",
           path);
  assert_string_equal(warned, want);
  free(warned);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_minimal_file_gets_every_default),
      cmocka_unit_test(test_full_file_sets_every_value),
      cmocka_unit_test(test_null_values_take_defaults_and_empty_actor_list_is_kept),
      cmocka_unit_test(test_unknown_keys_are_refused_with_a_suggestion),
      cmocka_unit_test(test_duplicate_key_is_refused),
      cmocka_unit_test(test_wrong_types_and_ranges),
      cmocka_unit_test(test_node_list_shape),
      cmocka_unit_test(test_missing_required_keys_point_at_the_enclosing_mapping),
      cmocka_unit_test(test_file_level_errors),
      cmocka_unit_test(test_unreadable_file_is_an_io_error),
      cmocka_unit_test(test_relative_paths_resolve_against_the_file_directory),
      cmocka_unit_test(test_jindofs_aliases),
      cmocka_unit_test(test_jindofs_alias_errors),
      cmocka_unit_test(test_hdfs_aliases),
      cmocka_unit_test(test_secret_from_file),
      cmocka_unit_test(test_secret_file_open_to_others_draws_a_warning),
      cmocka_unit_test(test_secret_file_errors),
      cmocka_unit_test(test_secret_via_alias_is_read_too),
      cmocka_unit_test(test_ots_adds_the_replicator_after_kv_store),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
