/* Tests of cfg_dump.c: the effective configuration never shows a secret, shows every key, reads
 * back to the same configuration; the Markdown reference lists every key and alias. */
#include "cfg_keys.h"
#include "cfg_test.h"
#include "cfg_yaml.h"

static const char s_rich[] =
    "node:\n"
    "  id: \"007\"\n"
    "  data-dir: \"/data/with space/and \\\"quote\\\"\"\n"
    "  log-level: error\n"
    "cluster:\n"
    "  id: \"yes\"\n"
    "  nodes:\n"
    "    - {id: \"007\", host: \"fd00::7\", raft-port: 8103}\n"
    "    - {id: n2, host: h2, raft-port: 8103, client-port: 9000}\n"
    "supervisor:\n"
    "  restart-intensity: 0\n"
    "actors:\n"
    "  - name: raft-peer\n"
    "    exec: /opt/rv/bin/raft-peer\n"
    "    args: [\"--a=\\\"b\\\"\", \"tab\\there\", \"\"]\n"
    "    restart: transient\n"
    "  - name: health-monitor\n"
    "ots:\n"
    "  enabled: true\n"
    "  endpoint: https://inst.cn-hangzhou.ots.aliyuncs.com\n"
    "  instance: inst\n"
    "  access-key-id: LTAIexample\n"
    "  access-key-secret: \"S3CR3T-do-not-print\"\n"
    "ha:\n"
    "  fencing:\n"
    "    methods: [\"sshfence(hdfs:22)\", \"shell(fence.sh --x)\"]\n"
    "    ssh-private-key-files: [/k/id_rsa]\n";

static void s_dump_fn(const cfg_node_t *cfg, int fd) {
  cfg_node_dump(cfg, fd);
}

static void s_document_fn(const cfg_node_t *cfg, int fd) {
  (void)cfg;
  cfg_keys_document(fd);
}

static void test_dump_never_prints_the_secret(void **state) {
  cfg_node_t *cfg = cfg_test_ok(s_rich);
  assert_string_equal(cfg->ots_access_key_secret, "S3CR3T-do-not-print");
  char *text = cfg_test_capture(s_dump_fn, cfg);
  assert_null(strstr(text, "S3CR3T"));
  assert_non_null(strstr(text, "\n  access-key-secret: \"<hidden>\"\n"));
  assert_non_null(strstr(text, "\n  access-key-id: \"LTAIexample\"\n")); /* not a secret */
  free(text);
  cfg_node_destroy(&cfg);

  /* no secret: nothing to hide, and it says so */
  cfg = cfg_test_ok(CFG_TEST_MINIMAL);
  text = cfg_test_capture(s_dump_fn, cfg);
  assert_non_null(strstr(text, "\n  access-key-secret: \"\"\n"));
  free(text);
  cfg_node_destroy(&cfg);
}

static void test_dump_of_a_secret_read_from_a_file_hides_it(void **state) {
  char dir[64], path[128], yaml[512];
  cfg_test_mkdtemp(dir, sizeof dir);
  cfg_test_write(dir, "secret", "from-a-file-XYZZY\n", 0600, path, sizeof path);
  snprintf(yaml, sizeof yaml, CFG_TEST_MINIMAL "ots:\n  access-key-secret: \"@%s\"\n", path);
  cfg_node_t *cfg = cfg_test_ok(yaml);
  assert_string_equal(cfg->ots_access_key_secret, "from-a-file-XYZZY");
  char *text = cfg_test_capture(s_dump_fn, cfg);
  assert_null(strstr(text, "XYZZY"));
  assert_null(strstr(text, path)); /* nor where it came from */
  assert_non_null(strstr(text, "access-key-secret: \"<hidden>\""));
  free(text);
  cfg_node_destroy(&cfg);
  cfg_test_rmdir(dir);
}

/* The golden dump of the minimal file: every key, in table order, defaults filled in. */
static void test_dump_of_minimal_file_is_exact(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL);
  char *text = cfg_test_capture(s_dump_fn, cfg);
  assert_string_equal(text,
                      "# raftvisor: the effective configuration of node \"n1\", from "
                      "\"/etc/raftvisor/node.yaml\" (defaults included, secrets hidden)\n"
                      "\n"
                      "node:\n"
                      "  id: n1\n"
                      "  data-dir: \"/var/lib/rv\"\n"
                      "  run-dir: \"/var/lib/rv/run\"\n"
                      "  log-dir: \"/var/lib/rv/log\"\n"
                      "  log-level: info\n"
                      "  log-format: text\n"
                      "  listen-host: \"\"\n"
                      "\n"
                      "cluster:\n"
                      "  id: raftvisor\n"
                      "  nodes:\n"
                      "    - {id: n1, host: \"127.0.0.1\", raft-port: 7101, client-port: 7201, voter: true, public-key: \"\"}\n"
                      "\n"
                      "supervisor:\n"
                      "  heartbeat-interval-ms: 200\n"
                      "  heartbeat-timeout-ms: 1000\n"
                      "  restart-min-delay-ms: 20\n"
                      "  restart-max-delay-ms: 5000\n"
                      "  restart-stable-ms: 10000\n"
                      "  restart-intensity: 5\n"
                      "  restart-period-s: 30\n"
                      "  shutdown-timeout-ms: 3000\n"
                      "  start-timeout-ms: 5000\n"
                      "\n"
                      "actors:\n"
                      "  - name: health-monitor\n"
                      "    exec: \"\"\n"
                      "    args: []\n"
                      "    restart: permanent\n"
                      "    shutdown-timeout-ms: 3000\n"
                      "  - name: raft-peer\n"
                      "    exec: \"\"\n"
                      "    args: []\n"
                      "    restart: permanent\n"
                      "    shutdown-timeout-ms: 3000\n"
                      "  - name: kv-store\n"
                      "    exec: \"\"\n"
                      "    args: []\n"
                      "    restart: permanent\n"
                      "    shutdown-timeout-ms: 3000\n"
                      "\n"
                      "health:\n"
                      "  ping-interval-ms: 500\n"
                      "  ping-timeout-ms: 1500\n"
                      "  min-free-disk-mb: 64\n"
                      "  apply-stall-ms: 5000\n"
                      "  slow-io-ms: 1000\n"
                      "\n"
                      "metrics:\n"
                      "  listen: \"\"\n"
                      "\n"
                      "raft:\n"
                      "  tick-ms: 10\n"
                      "  election-ticks: 15\n"
                      "  heartbeat-ticks: 3\n"
                      "  lease-reads: true\n"
                      "  compact-entries: 50000\n"
                      "\n"
                      "ots:\n"
                      "  enabled: false\n"
                      "  recovery-mode: false\n"
                      "  endpoint: \"\"\n"
                      "  instance: \"\"\n"
                      "  access-key-id: \"\"\n"
                      "  access-key-secret: \"\"\n"
                      "  change-log-max-bytes: 268435456\n"
                      "  max-lag-entries: 0\n"
                      "\n"
                      "ha:\n"
                      "  automatic-failover: false\n"
                      "  unhealthy-grace-ms: 500\n"
                      "  preferred-leader: \"\"\n"
                      "  fencing:\n"
                      "    methods: []\n"
                      "    shell-timeout-ms: 30000\n"
                      "    ssh-private-key-files: []\n"
                      "    ssh-connect-timeout-ms: 30000\n"
                      "\n"
                      "security:\n"
                      "  insecure: true\n"
                      "  key: \"\"\n"
                      "  client-key: \"\"\n"
                      "  clients: []\n"
                      "  clients-dir: \"\"\n"
                      "  permissions: true\n"
                      "  superuser: \"root\"\n"
                      "  supergroup: \"supergroup\"\n"
                      "  umask: \"022\"\n"
                      "  groups: []\n"
                      "  sessions-max: 100000\n"
                      "  sessions-per-principal: 10000\n"
                      "  client-inflight: 8192\n");
  free(text);
  cfg_node_destroy(&cfg);
}

/* Dump, parse the dump, dump again: the same text, so every value survived (quoting of odd
 * strings and words YAML would misread included). And the dump shows every key of the table. */
static void test_dump_reads_back_to_the_same_configuration(void **state) {
  cfg_node_t *cfg = cfg_test_ok(s_rich);
  char *first = cfg_test_capture(s_dump_fn, cfg);
  cfg_node_t *again = cfg_test_ok(first);
  char *second = cfg_test_capture(s_dump_fn, again);
  assert_string_equal(first, second);
  assert_string_equal(again->node_id, "007");
  assert_string_equal(again->cluster_id, "yes");
  assert_string_equal(again->data_dir, "/data/with space/and \"quote\"");
  assert_string_equal(again->nodes[0].host, "fd00::7");
  assert_int_equal(again->nodes[1].client_port, 9000);
  assert_int_equal(again->actors[0].nargs, 3);
  assert_string_equal(again->actors[0].args[0], "--a=\"b\"");
  assert_string_equal(again->actors[0].args[1], "tab\there");
  assert_string_equal(again->actors[0].args[2], "");
  assert_int_equal(again->actors[1].shutdown_timeout_ms, 3000);
  assert_int_equal(again->restart_intensity, 0);
  assert_int_equal(again->log_level, CFG_LOG_ERROR);

  cfg_yaml_node_t *root = NULL;
  rv_err_t err;
  assert_int_equal(cfg_yaml_parse("dump", first, strlen(first), &root, &err), 0);
  for (size_t i = 0; i < cfg_keys_node.n; i++)
    assert_non_null(cfg_yaml_find(root, cfg_keys_node.keys[i].path));
  for (size_t i = 0; i < cfg_keys_peer.n; i++) {
    char path[128];
    snprintf(path, sizeof path, "cluster.nodes[1].%s", cfg_keys_peer.keys[i].path);
    assert_non_null(cfg_yaml_find(root, path));
  }
  for (size_t i = 0; i < cfg_keys_actor.n; i++) {
    char path[128];
    snprintf(path, sizeof path, "actors[1].%s", cfg_keys_actor.keys[i].path);
    assert_non_null(cfg_yaml_find(root, path));
  }
  cfg_yaml_destroy(&root);
  free(first);
  free(second);
  cfg_node_destroy(&again);
  cfg_node_destroy(&cfg);
}

static void test_document_lists_every_key_and_alias(void **state) {
  char *text = cfg_test_capture(s_document_fn, NULL);
  const cfg_table_t *tables[] = {&cfg_keys_node, &cfg_keys_peer, &cfg_keys_actor,
                                 &cfg_keys_client};
  for (size_t t = 0; t < 4; t++)
    for (size_t i = 0; i < tables[t]->n; i++) {
      const cfg_key_t *k = &tables[t]->keys[i];
      char cell[160];
      snprintf(cell, sizeof cell, "\n| `%s%s` | ", tables[t]->prefix, k->path);
      if (!strstr(text, cell)) print_error("no row for %s\n", cell + 1);
      assert_non_null(strstr(text, cell));
      if (k->alias) {
        snprintf(cell, sizeof cell, "`%s`", k->alias);
        assert_non_null(strstr(text, cell));
      }
    }
  assert_non_null(strstr(text, "\n| `supervisor.heartbeat-interval-ms` |  | int 10..60000 | `200` "
                               "| the supervisor pings each actor this often |\n"));
  assert_non_null(strstr(text, "\n| `node.run-dir` |  | path | `<data-dir>/run` | "));
  assert_non_null(strstr(text, "\n| `cluster.nodes[].client-port` | "
                               "`jfs.namespace.server.rpc-address` (\"host:port\": this node's) | "
                               "int 1..65535 | `raft-port + 100` | "));
  assert_non_null(strstr(text, "| enum: debug, info, warn, error | `info` |"));
  assert_non_null(strstr(text, "raftvisor-&lt;name&gt;")); /* '<' in prose is escaped */
  /* one header row, one separator, one row per key */
  size_t rows = 0;
  for (const char *s = text; (s = strstr(s, "\n|")); s++) rows++;
  assert_int_equal(rows, 2 + cfg_keys_node.n + cfg_keys_peer.n + cfg_keys_actor.n +
                             cfg_keys_client.n);
  free(text);
}

static void test_environ(void **state) {
  cfg_node_t *cfg = cfg_test_ok(CFG_TEST_MINIMAL "ha:\n  fencing:\n"
                                "    methods: [\"shell(a)\", \"shell(b)\"]\n"
                                "ots:\n  access-key-secret: hush\n");
  char **env = cfg_node_environ(cfg);
  assert_non_null(env);
  bool methods = false, alias = false, timeout = false, id = false;
  for (char **e = env; *e; e++) {
    assert_null(strstr(*e, "hush")); /* secrets stay out */
    assert_null(strstr(*e, "cluster_nodes="));
    methods |= !strcmp(*e, "ha_fencing_methods=shell(a),shell(b)");
    alias |= !strcmp(*e, "dfs_ha_fencing_methods=shell(a),shell(b)");
    timeout |= !strcmp(*e, "ha_fencing_shell_timeout_ms=30000");
    id |= !strcmp(*e, "node_id=n1");
  }
  assert_true(methods && alias && timeout && id);
  cfg_node_environ_free(&env);
  assert_null(env);
  cfg_node_environ_free(&env);
  cfg_node_destroy(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_environ),
      cmocka_unit_test(test_dump_never_prints_the_secret),
      cmocka_unit_test(test_dump_of_a_secret_read_from_a_file_hides_it),
      cmocka_unit_test(test_dump_of_minimal_file_is_exact),
      cmocka_unit_test(test_dump_reads_back_to_the_same_configuration),
      cmocka_unit_test(test_document_lists_every_key_and_alias),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
