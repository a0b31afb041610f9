/* Tests of cfg_value.c: conversions by type, the table's validators, lexical paths. */
#include "cfg_test.h"
#include "cfg_value.h"

static const cfg_key_t *s_key(const char *path) {
  const cfg_key_t *k = cfg_keys_find(&cfg_keys_node, path);
  assert_non_null(k);
  return k;
}

/* Sets path to text in a scratch cfg_node_t; returns the rc, why in why. */
static int s_set(cfg_node_t *cfg, const char *path, const char *text, char *why, size_t len) {
  why[0] = '\0';
  return cfg_value_set(s_key(path), cfg, text, "/etc/raftvisor", why, len);
}

static void test_int_is_strict_decimal(void **state) {
  int v = -7;
  assert_int_equal(cfg_value_int("200", 10, 60000, &v), 0);
  assert_int_equal(v, 200);
  assert_int_equal(cfg_value_int("007", 0, 10, &v), 0);
  assert_int_equal(v, 7);
  assert_int_equal(cfg_value_int("-5", -10, 10, &v), 0);
  assert_int_equal(v, -5);
  const char *bad[] = {"12ms", "abc", "", " 12", "12 ", "+5", "0x10", "1e3", "-", "1.5",
                       "99999999999999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    v = 42;
    assert_int_equal(cfg_value_int(bad[i], -1000, 1000, &v), -1);
    assert_int_equal(v, 42);
  }
  assert_int_equal(cfg_value_int("9", 10, 60000, &v), -1);
  assert_int_equal(cfg_value_int("60001", 10, 60000, &v), -1);
  assert_int_equal(cfg_value_int("-1", 0, 10, &v), -1);
}

static void test_bool_words_any_case(void **state) {
  const char *yes[] = {"true", "TRUE", "yes", "Yes", "on", "ON"};
  const char *no[] = {"false", "False", "no", "NO", "off", "Off"};
  for (size_t i = 0; i < 6; i++) {
    bool b = false;
    assert_int_equal(cfg_value_bool(yes[i], &b), 0);
    assert_true(b);
    assert_int_equal(cfg_value_bool(no[i], &b), 0);
    assert_false(b);
  }
  bool b = true;
  assert_int_equal(cfg_value_bool("1", &b), -1);
  assert_int_equal(cfg_value_bool("y", &b), -1);
  assert_int_equal(cfg_value_bool("", &b), -1);
  assert_true(b);
}

static void test_set_messages(void **state) {
  cfg_node_t cfg = {0};
  char why[512];
  assert_int_equal(s_set(&cfg, "supervisor.heartbeat-interval-ms", "abc", why, sizeof why), -1);
  assert_string_equal(why, "expected an integer in 10..60000, got \"abc\"");
  assert_int_equal(s_set(&cfg, "supervisor.heartbeat-interval-ms", "12ms", why, sizeof why), -1);
  assert_string_equal(why, "expected an integer in 10..60000, got \"12ms\"");
  assert_int_equal(s_set(&cfg, "supervisor.heartbeat-interval-ms", "5", why, sizeof why), -1);
  assert_string_equal(why, "expected an integer in 10..60000, got \"5\"");
  assert_int_equal(s_set(&cfg, "supervisor.heartbeat-interval-ms", "250", why, sizeof why), 0);
  assert_int_equal(cfg.heartbeat_interval_ms, 250);
  assert_int_equal(s_set(&cfg, "ots.enabled", "maybe", why, sizeof why), -1);
  assert_string_equal(why, "expected a boolean (true/false, yes/no, on/off), got \"maybe\"");
  assert_int_equal(s_set(&cfg, "node.log-level", "verbose", why, sizeof why), -1);
  assert_string_equal(why, "expected one of debug, info, warn, error, got \"verbose\"");
  assert_int_equal(s_set(&cfg, "node.log-level", "WARN", why, sizeof why), 0);
  assert_int_equal(cfg.log_level, CFG_LOG_WARN);
  assert_int_equal(s_set(&cfg, "node.id", "N1", why, sizeof why), -1);
  assert_string_equal(why, "expected an id ([a-z0-9][a-z0-9_-]{0,31}), got \"N1\"");
  assert_int_equal(s_set(&cfg, "node.id", "-n1", why, sizeof why), -1);
  assert_int_equal(s_set(&cfg, "node.id", "abcdefghijklmnopqrstuvwxyz0123456", why, sizeof why),
                   -1); /* 33 bytes */
  assert_int_equal(s_set(&cfg, "node.id", "abcdefghijklmnopqrstuvwxyz012345", why, sizeof why), 0);
  assert_int_equal(s_set(&cfg, "node.id", "n1_a-b", why, sizeof why), 0);
  assert_string_equal(cfg.node_id, "n1_a-b");
  char big[CFG_HOST_MAX + 10];
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  assert_int_equal(s_set(&cfg, "ots.instance", big, why, sizeof why), -1);
  assert_string_equal(why, "expected a string of at most 255 bytes, got 265 bytes");
  assert_int_equal(s_set(&cfg, "ots.endpoint", "ftp://x", why, sizeof why), -1);
  assert_string_equal(why, "expected an endpoint (https://host, http://host or file:///dir), got "
                           "\"ftp://x\"");
}

static void test_paths_resolve_against_dir(void **state) {
  cfg_node_t cfg = {0};
  char why[512];
  assert_int_equal(s_set(&cfg, "node.data-dir", "data", why, sizeof why), 0);
  assert_string_equal(cfg.data_dir, "/etc/raftvisor/data");
  assert_int_equal(s_set(&cfg, "node.data-dir", "./a/../b//c/.", why, sizeof why), 0);
  assert_string_equal(cfg.data_dir, "/etc/raftvisor/b/c");
  assert_int_equal(s_set(&cfg, "node.data-dir", "/var/lib/x/", why, sizeof why), 0);
  assert_string_equal(cfg.data_dir, "/var/lib/x");
  assert_int_equal(s_set(&cfg, "node.data-dir", "~/x", why, sizeof why), -1);
  assert_string_equal(why, "expected a path (~ is not expanded), got \"~/x\"");
  assert_int_equal(s_set(&cfg, "node.run-dir", "", why, sizeof why), 0);
  assert_string_equal(cfg.run_dir, ""); /* "" stays "": the loader derives it */
  char out[64];
  assert_int_equal(cfg_value_path("/a/b", "../../../..", out, sizeof out), 0);
  assert_string_equal(out, "/");
  assert_int_equal(cfg_value_path("/", ".", out, sizeof out), 0);
  assert_string_equal(out, "/");
  assert_int_equal(cfg_value_path("/a", "b/../../c", out, sizeof out), 0);
  assert_string_equal(out, "/c");
  assert_int_equal(cfg_value_path("/a", "0123456789", out, 8), -1);
}

static void test_lists_append_check_and_clear(void **state) {
  cfg_node_t cfg = {0};
  const cfg_key_t *m = s_key("ha.fencing.methods");
  char why[512];
  assert_int_equal(cfg_value_append(m, &cfg, "sshfence", "/d", why, sizeof why), 0);
  assert_int_equal(cfg_value_append(m, &cfg, "bogus(x)", "/d", why, sizeof why), -1);
  assert_string_equal(why, "unknown fencing method 'bogus': expected shell(command [args]) or "
                           "sshfence([[user][:port]]), got 'bogus(x)'");
  for (int i = 1; i < CFG_MAX_FENCE_METHODS; i++)
    assert_int_equal(cfg_value_append(m, &cfg, "shell(true)", "/d", why, sizeof why), 0);
  assert_int_equal(cfg.nfence_methods, CFG_MAX_FENCE_METHODS);
  assert_int_equal(cfg_value_append(m, &cfg, "shell(true)", "/d", why, sizeof why), -1);
  assert_string_equal(why, "expected a list of at most 8 strings, got more");
  const cfg_key_t *keys = s_key("ha.fencing.ssh-private-key-files");
  assert_int_equal(cfg_value_append(keys, &cfg, "keys/id_rsa", "/d", why, sizeof why), 0);
  assert_string_equal(cfg.ssh_private_key_files[0], "/d/keys/id_rsa");
  assert_int_equal(cfg_value_append(keys, &cfg, "", "/d", why, sizeof why), -1);
  assert_string_equal(why, "expected a non-empty string, got \"\"");
  cfg_value_clear(m, &cfg);
  cfg_value_clear(keys, &cfg);
  assert_int_equal(cfg.nfence_methods, 0);
  assert_null(cfg.fence_methods[0]);
  cfg_value_clear(m, &cfg); /* twice is fine */
}

static void test_actor_args_stay_null_terminated(void **state) {
  cfg_actor_t a = {0};
  const cfg_key_t *args = cfg_keys_find(&cfg_keys_actor, "args");
  char why[256];
  for (int i = 0; i < CFG_MAX_ARGS; i++)
    assert_int_equal(cfg_value_append(args, &a, "-v", "/d", why, sizeof why), 0);
  assert_int_equal(cfg_value_append(args, &a, "-v", "/d", why, sizeof why), -1);
  assert_int_equal(a.nargs, CFG_MAX_ARGS);
  assert_null(a.args[CFG_MAX_ARGS]);
  cfg_value_clear(args, &a);
}

static void test_secret_is_copied_and_replaced(void **state) {
  cfg_node_t cfg = {0};
  char why[64];
  assert_int_equal(s_set(&cfg, "ots.access-key-secret", "s3cr3t", why, sizeof why), 0);
  assert_string_equal(cfg.ots_access_key_secret, "s3cr3t");
  assert_int_equal(s_set(&cfg, "ots.access-key-secret", "other", why, sizeof why), 0);
  assert_string_equal(cfg.ots_access_key_secret, "other");
  cfg_value_clear(s_key("ots.access-key-secret"), &cfg);
  assert_null(cfg.ots_access_key_secret);
}

static void test_hostport(void **state) {
  char host[CFG_HOST_MAX];
  int port = 0;
  long index = 99;
  assert_int_equal(cfg_value_hostport("emr-header-1:8103:0", host, sizeof host, &port, &index), 0);
  assert_string_equal(host, "emr-header-1");
  assert_int_equal(port, 8103);
  assert_int_equal(index, 0);
  assert_int_equal(cfg_value_hostport("10.0.0.2:8103", host, sizeof host, &port, &index), 0);
  assert_int_equal(index, -1);
  assert_int_equal(cfg_value_hostport("[::1]:7101:2", host, sizeof host, &port, &index), 0);
  assert_string_equal(host, "::1");
  assert_int_equal(port, 7101);
  assert_int_equal(index, 2);
  const char *bad[] = {"host", "host:", ":80", "host:0", "host:65536", "host:80x", "h st:80",
                       "[::1:80", "host:80:x", "host:80:"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(cfg_value_hostport(bad[i], host, sizeof host, &port, &index), -1);
  /* without an index allowed, "host:port:index" is refused */
  assert_int_equal(cfg_value_hostport("h:80:0", host, sizeof host, &port, NULL), -1);
  assert_int_equal(cfg_value_hostport("h:80", host, sizeof host, &port, NULL), 0);
}

static void test_fence_methods(void **state) {
  const char *good[] = {"shell(/bin/true)", "shell(fence.sh --host $target_host)", "sshfence",
                        "sshfence()", "sshfence(hdfs)", "sshfence(hdfs:2222)", "sshfence(:22)",
                        "shell(echo (nested))"};
  char why[256];
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    if (cfg_value_check_fence(good[i], why, sizeof why)) print_error("%s: %s\n", good[i], why);
    assert_int_equal(cfg_value_check_fence(good[i], why, sizeof why), 0);
  }
  struct {
    const char *text, *why;
  } bad[] = {
      {"shell()", "No argument passed to 'shell' fencing method: expected shell(command [args]), "
                  "got 'shell()'"},
      {"shell(  )", "No argument passed to 'shell' fencing method: expected shell(command "
                    "[args]), got 'shell(  )'"},
      {"shell", "No argument passed to 'shell' fencing method: expected shell(command [args]), "
                "got 'shell'"},
      {"shell(x", "Unable to parse line: 'shell(x': expected NAME or NAME(ARGUMENT)"},
      {"sshfence(:0)", "Port number '0' invalid: expected 1..65535"},
      {"sshfence(bad user)", "Unable to parse user and SSH port: 'bad user': expected sshfence, "
                             "sshfence(user), sshfence(user:port) or sshfence(:port), with a "
                             "user name of letters, digits, '.', '_' and '-'"},
      {"sshfence(u:)", "Unable to parse user and SSH port: 'u:': expected sshfence, "
                       "sshfence(user), sshfence(user:port) or sshfence(:port), with the port a "
                       "number"},
      {"", "Unable to parse line: '': expected NAME or NAME(ARGUMENT)"},
      {"org.example.Fencer(x)", "unknown fencing method 'org.example.Fencer': expected "
                                "shell(command [args]) or sshfence([[user][:port]]), got "
                                "'org.example.Fencer(x)'"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    assert_int_equal(cfg_value_check_fence(bad[i].text, why, sizeof why), -1);
    assert_string_equal(why, bad[i].why);
  }
}

static void test_endpoints_and_hosts(void **state) {
  char why[256];
  const char *good[] = {"", "https://inst.cn-hangzhou.ots.aliyuncs.com", "http://127.0.0.1:8080",
                        "file:///shared/dir"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    assert_int_equal(cfg_value_check_endpoint(good[i], why, sizeof why), 0);
  const char *bad[] = {"https://", "file://relative", "inst.ots.aliyuncs.com", "https://a b"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    assert_int_equal(cfg_value_check_endpoint(bad[i], why, sizeof why), -1);
  assert_int_equal(cfg_value_check_host("emr-header-1.cluster", why, sizeof why), 0);
  assert_int_equal(cfg_value_check_host("fe80::1", why, sizeof why), 0);
  assert_int_equal(cfg_value_check_host("a b", why, sizeof why), -1);
  assert_string_equal(why, "expected a host name or address, got \"a b\"");
  assert_int_equal(cfg_value_check_host("", why, sizeof why), -1);
}

static void test_expected_texts(void **state) {
  char buf[256];
  assert_string_equal(cfg_value_expected(s_key("cluster.nodes"), buf, sizeof buf),
                      "a list of 1..7 nodes ({id, host, raft-port, client-port})");
  assert_string_equal(cfg_value_expected(s_key("ha.fencing.ssh-private-key-files"), buf,
                                         sizeof buf),
                      "a list of at most 8 paths");
  assert_string_equal(cfg_value_expected(s_key("ots.access-key-secret"), buf, sizeof buf),
                      "a string, or @/path/to/file");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_int_is_strict_decimal),
      cmocka_unit_test(test_bool_words_any_case),
      cmocka_unit_test(test_set_messages),
      cmocka_unit_test(test_paths_resolve_against_dir),
      cmocka_unit_test(test_lists_append_check_and_clear),
      cmocka_unit_test(test_actor_args_stay_null_terminated),
      cmocka_unit_test(test_secret_is_copied_and_replaced),
      cmocka_unit_test(test_hostport),
      cmocka_unit_test(test_fence_methods),
      cmocka_unit_test(test_endpoints_and_hosts),
      cmocka_unit_test(test_expected_texts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
