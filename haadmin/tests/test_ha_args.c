/* Unit tests of haadmin's command line: every command, options before and after the ids,
 * Hadoop's messages for wrong counts, unknown options and commands, and -help. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ha_args.h"

#define S_ARGV(...) ((char *[]){"haadmin", __VA_ARGS__})
#define S_ARGC(...) ((int)(sizeof((char *[]){"haadmin", __VA_ARGS__}) / sizeof(char *)))
#define S_PARSE(a, out, ...) ha_args_parse(S_ARGC(__VA_ARGS__), S_ARGV(__VA_ARGS__), a, out, sizeof out)

static void test_commands(void **state) {
  ha_args_t a;
  char out[4096];
  assert_int_equal(S_PARSE(&a, out, "-c", "n1.yaml", "-getServiceState", "n2"), HA_ARGS_OK);
  assert_int_equal(a.cmd, HA_CMD_GET_STATE);
  assert_string_equal(a.config, "n1.yaml");
  assert_string_equal(a.id[0], "n2");
  assert_int_equal(S_PARSE(&a, out, "--nodes", "h:1,h:2", "-ns", "it", "-getAllServiceState"),
                   HA_ARGS_OK);
  assert_int_equal(a.cmd, HA_CMD_GET_ALL_STATE);
  assert_string_equal(a.nodes, "h:1,h:2");
  assert_string_equal(a.ns, "it");
  assert_int_equal(S_PARSE(&a, out, "-checkHealth", "n1"), HA_ARGS_OK);
  assert_int_equal(a.cmd, HA_CMD_CHECK_HEALTH);
  assert_int_equal(S_PARSE(&a, out, "-transitionToActive", "--forcemanual", "n1"), HA_ARGS_OK);
  assert_int_equal(a.cmd, HA_CMD_TO_ACTIVE);
  assert_true(a.forcemanual);
  assert_int_equal(S_PARSE(&a, out, "-transitionToStandby", "n1", "--forcemanual"), HA_ARGS_OK);
  assert_int_equal(a.cmd, HA_CMD_TO_STANDBY);
  assert_true(a.forcemanual);
  assert_string_equal(a.id[0], "n1");
}

static void test_failover_options_anywhere(void **state) {
  ha_args_t a;
  char out[4096];
  assert_int_equal(S_PARSE(&a, out, "-failover", "n1", "n2"), HA_ARGS_OK);
  assert_false(a.forcefence);
  assert_false(a.forceactive);
  assert_string_equal(a.id[0], "n1");
  assert_string_equal(a.id[1], "n2");
  assert_int_equal(S_PARSE(&a, out, "-failover", "--forcefence", "n1", "--forceactive", "n2"),
                   HA_ARGS_OK);
  assert_true(a.forcefence);
  assert_true(a.forceactive);
  assert_string_equal(a.id[1], "n2");
  assert_int_equal(S_PARSE(&a, out, "-failover", "n1", "n2", "--forceactive"), HA_ARGS_OK);
  assert_false(a.forcefence);
  assert_true(a.forceactive);
}

static void test_wrong_counts(void **state) {
  ha_args_t a;
  char out[4096];
  assert_int_equal(S_PARSE(&a, out, "-failover", "n1"), HA_ARGS_USAGE);
  assert_string_equal(out, "failover: incorrect arguments\nUsage: raftvisor haadmin [-failover "
                           "[--forcefence] [--forceactive] <serviceId> <serviceId>]\n");
  assert_int_equal(S_PARSE(&a, out, "-failover", "n1", "n2", "n3"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "failover: incorrect arguments\n"));
  assert_int_equal(S_PARSE(&a, out, "-getServiceState"), HA_ARGS_USAGE);
  assert_string_equal(out, "getServiceState: incorrect number of arguments\nUsage: raftvisor "
                           "haadmin [-getServiceState <serviceId>]\n");
  assert_int_equal(S_PARSE(&a, out, "-checkHealth", "n1", "n2"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "checkHealth: incorrect number of arguments\n"));
  assert_int_equal(S_PARSE(&a, out, "-transitionToActive"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "transitionToActive: incorrect number of arguments\n"));
  assert_int_equal(S_PARSE(&a, out, "-transitionToStandby", "a", "b"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "transitionToStandby: incorrect number of arguments\n"));
  assert_int_equal(S_PARSE(&a, out, "-getAllServiceState", "n1"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "getAllServiceState: incorrect number of arguments\n"));
}

static void test_unknown_options_and_commands(void **state) {
  ha_args_t a;
  char out[4096];
  assert_int_equal(S_PARSE(&a, out, "-failover", "--forcefoo", "n1", "n2"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "failover: incorrect arguments\n"));
  /* options of one command are unknown to another */
  assert_int_equal(S_PARSE(&a, out, "-getServiceState", "--forcefence", "n1"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "getServiceState: incorrect arguments\n"));
  assert_int_equal(S_PARSE(&a, out, "-failover", "--forcemanual", "n1", "n2"), HA_ARGS_USAGE);
  assert_int_equal(S_PARSE(&a, out, "-frobnicate", "n1"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "frobnicate: Unknown command\nUsage: raftvisor haadmin"));
  assert_int_equal(S_PARSE(&a, out, "failover", "n1", "n2"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "Bad command 'failover': expected command starting with '-'\n"));
  assert_int_equal(S_PARSE(&a, out, "-c"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "-c: missing its value\n"));
  /* no command at all: the whole usage */
  assert_int_equal(S_PARSE(&a, out, "-c", "x.yaml"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "    [-transitionToActive [--forcemanual] <serviceId>]\n"));
  assert_non_null(strstr(out, "    [-getAllServiceState]\n"));
}

static void test_help(void **state) {
  ha_args_t a;
  char out[4096];
  assert_int_equal(S_PARSE(&a, out, "-help", "failover"), HA_ARGS_HELP);
  assert_non_null(strstr(out, "-failover [[--forcefence] [--forceactive] <serviceId> "
                              "<serviceId>]: Failover from the first service to the second.\n"));
  assert_int_equal(S_PARSE(&a, out, "-help", "-checkHealth"), HA_ARGS_HELP);
  assert_non_null(strstr(out, "-checkHealth [<serviceId>]: Requests that the service perform a "
                              "health check.\n"));
  assert_int_equal(S_PARSE(&a, out, "-help", "nothing"), HA_ARGS_USAGE);
  assert_non_null(strstr(out, "-nothing: Unknown command\n"));
  assert_int_equal(S_PARSE(&a, out, "-help"), HA_ARGS_USAGE);
  assert_string_equal(out, "Usage: raftvisor haadmin [-help <command>]\n");
  assert_int_equal(S_PARSE(&a, out, "--help"), HA_ARGS_HELP);
  assert_non_null(strstr(out, "Usage: raftvisor haadmin"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commands),
      cmocka_unit_test(test_failover_options_anywhere),
      cmocka_unit_test(test_wrong_counts),
      cmocka_unit_test(test_unknown_options_and_commands),
      cmocka_unit_test(test_help),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
